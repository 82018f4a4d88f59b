import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as parsed from YAML. */
export type K8sObject = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: Record<string, unknown> & { readonly name: string };
};

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The YAML documents of a file; a syntax error or a document that is not an object fails. */
export function yamlDocuments(file: string): unknown[] {
  return yamlDocumentsOf(readFileSync(file, 'utf8'), file);
}

/** The YAML documents of a text (`file` names it in errors). */
export function yamlDocumentsOf(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${file}: no YAML documents`);
  return docs
    .filter((d) => d.contents !== null)
    .map((d, i) => {
      if (d.errors.length > 0) throw new Error(`${file} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as unknown;
    });
}

function asObject(doc: unknown, where: string): K8sObject {
  if (
    !isRecord(doc) ||
    typeof doc['apiVersion'] !== 'string' ||
    typeof doc['kind'] !== 'string' ||
    !isRecord(doc['metadata']) ||
    typeof doc['metadata']['name'] !== 'string'
  )
    throw new Error(`${where}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
  return doc as K8sObject;
}

/** The Kubernetes objects of one manifest file. */
export function manifestObjects(file: string): K8sObject[] {
  return yamlDocuments(file).map((d, i) => asObject(d, `${file} document ${i}`));
}

/** The fields of kustomization.yaml this renderer applies; any other field fails the render (so nothing is ignored). */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'replicas', 'patches']);

/** Objects without a namespace (the ones a kustomization's `namespace` leaves alone). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

/**
 * Renders a kustomization directory the way `kustomize build` does, for the subset of kustomize that
 * deploy/k8s uses: `resources` (files and directories), strategic-merge `patches` by file (matched by kind and
 * name; lists of objects with a `name` merge item by item, other lists are replaced; `$patch: delete` removes an
 * object), `images` (newName, newTag), `replicas` and `namespace`. Anything else in a kustomization.yaml fails.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const [k] = yamlDocuments(file);
  if (!isRecord(k)) throw new Error(`${file}: not a mapping`);
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${file}: unsupported field ${key}`);
  let objects: K8sObject[] = [];
  for (const r of list(k['resources'], `${file} resources`)) {
    if (typeof r !== 'string') throw new Error(`${file}: a resource is not a path`);
    const path = join(dir, r);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : manifestObjects(path)));
  }
  for (const p of list(k['patches'], `${file} patches`)) {
    if (!isRecord(p) || typeof p['path'] !== 'string' || Object.keys(p).length !== 1)
      throw new Error(`${file}: only patches of the form {path} are supported`);
    for (const patch of manifestObjects(join(dir, p['path']))) objects = applyPatch(objects, patch, p['path']);
  }
  for (const image of list(k['images'], `${file} images`)) {
    if (!isRecord(image) || typeof image['name'] !== 'string') throw new Error(`${file}: an image without name`);
    for (const o of objects) for (const c of containers(o)) retag(c, image);
  }
  for (const r of list(k['replicas'], `${file} replicas`)) {
    if (!isRecord(r) || typeof r['name'] !== 'string' || typeof r['count'] !== 'number')
      throw new Error(`${file}: replicas need name and count`);
    const target = objects.filter(
      (o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.name === r['name'],
    );
    if (target.length !== 1) throw new Error(`${file}: replicas for ${r['name']} match ${target.length}`);
    for (const o of target) (o['spec'] as Record<string, unknown>)['replicas'] = r['count'];
  }
  if (typeof k['namespace'] === 'string') {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata['namespace'] = k['namespace'];
  }
  return objects;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list`);
  return value;
}

const group = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');

function applyPatch(objects: K8sObject[], patch: K8sObject, where: string): K8sObject[] {
  const matches = (o: K8sObject): boolean =>
    o.kind === patch.kind && o.metadata.name === patch.metadata.name && group(o.apiVersion) === group(patch.apiVersion);
  const target = objects.filter(matches);
  if (target.length !== 1)
    throw new Error(`${where}: the patch of ${patch.kind} ${patch.metadata.name} matches ${target.length} objects`);
  if (patch['$patch'] === 'delete') return objects.filter((o) => !matches(o));
  return objects.map((o) => (matches(o) ? (merge(o, patch) as K8sObject) : o));
}

/** Strategic merge: maps merge key by key, lists of named objects merge by name, other lists and scalars replace. */
export function merge(base: unknown, patch: unknown): unknown {
  if (isRecord(base) && isRecord(patch)) {
    const keys = new Set([...Object.keys(base), ...Object.keys(patch)]);
    return Object.fromEntries(
      [...keys]
        .filter((key) => patch[key] !== null)
        .map((key) => [key, key in patch ? (key in base ? merge(base[key], patch[key]) : patch[key]) : base[key]]),
    );
  }
  const named = (l: unknown): l is Record<string, unknown>[] =>
    Array.isArray(l) && l.every((i) => isRecord(i) && typeof i['name'] === 'string');
  if (named(base) && named(patch) && patch.length > 0) {
    const out = base.map((item) => {
      const p = patch.find((x) => x['name'] === item['name']);
      return p === undefined ? item : merge(item, p);
    });
    const added = patch.filter((p) => !base.some((item) => item['name'] === p['name']));
    return [...added, ...out];
  }
  return patch;
}

/** The containers (and init containers) of a workload's pod template. */
export function containers(o: K8sObject): Record<string, unknown>[] {
  const spec = o['spec'];
  if (!isRecord(spec)) return [];
  const template = spec['template'];
  if (!isRecord(template) || !isRecord(template['spec'])) return [];
  const pod = template['spec'];
  return [...list(pod['initContainers'], 'initContainers'), ...list(pod['containers'], 'containers')].filter(isRecord);
}

function retag(container: Record<string, unknown>, image: Record<string, unknown>): void {
  const current = container['image'];
  if (typeof current !== 'string') return;
  const at = current.lastIndexOf(':');
  const [name, tag] = at > current.lastIndexOf('/') ? [current.slice(0, at), current.slice(at + 1)] : [current, ''];
  if (name !== image['name']) return;
  const newName = typeof image['newName'] === 'string' ? image['newName'] : name;
  const newTag = typeof image['newTag'] === 'string' ? image['newTag'] : tag;
  container['image'] = newTag === '' ? newName : `${newName}:${newTag}`;
}
