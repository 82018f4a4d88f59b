import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { VARIABLES } from '../../src/config/index.ts';
import { ALL_TOPICS } from '../../src/contracts/index.ts';
import { METERS_GROUP } from '../../src/meters/index.ts';
import { PROCESS_GROUPS } from '../../src/processing/index.ts';
import { CONSUMER_GROUPS, ROLES } from '../../src/runtime/index.ts';
import { STORE_GROUP } from '../../src/storage/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import type { K8sObject } from './kustomize.ts';
import { containers, isRecord, manifestObjects, renderKustomization, yamlDocumentsOf } from './kustomize.ts';

/**
 * deploy/k8s without a cluster: every manifest of the base and every rendered overlay passes its kind's schema
 * (kubernetes-models, the Kubernetes OpenAPI schemas compiled to validators), and the objects fit together (the
 * references a cluster would only find broken at run time). When `kubectl` is on PATH, its kustomize renders each
 * overlay too and must agree with the test's renderer.
 */

const K8S = join(ROOT, 'deploy', 'k8s');
const BASE = join(K8S, 'base');
const OVERLAYS = readdirSync(join(K8S, 'overlays')).map((name) => join(K8S, 'overlays', name));
const WORKLOADS = new Set(['Deployment', 'StatefulSet']);

type Validator = new (data: unknown) => { validate(): void };

/** Validates against the kind's schema: kubernetes-models has one module per apiVersion and kind. */
async function validate(o: K8sObject): Promise<void> {
  const module = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, Validator | undefined>;
  const Model = module[o.kind];
  assert.ok(Model !== undefined, `no schema for ${o.apiVersion} ${o.kind}`);
  assert.doesNotThrow(() => {
    new Model(o).validate();
  }, `${o.kind} ${o.metadata.name} fails its schema`);
}

const rec = (v: unknown, what: string): Record<string, unknown> => {
  assert.ok(isRecord(v), `${what} is missing`);
  return v;
};
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);
const labelsMatch = (selector: Record<string, unknown>, labels: Record<string, unknown>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const templateLabels = (w: K8sObject): Record<string, unknown> =>
  rec(rec(rec(rec(w['spec'], 'spec')['template'], 'template')['metadata'], 'template metadata')['labels'], 'labels');

/** Partitions of a topic as the platform creates it (src/contracts/topics.ts). */
function partitions(topic: string): number {
  const t = ALL_TOPICS.find((x) => x.name === topic);
  assert.ok(t !== undefined, `unknown topic ${topic}`);
  return t.partitions;
}

/**
 * The Kafka consumer groups of each role: a group gives each partition to one member, so a role has work for at most
 * as many replicas as its largest group has partitions (over the group's topics, as CONSUMER_GROUPS lists them).
 */
const CONSUMERS: Record<string, readonly string[]> = {
  store: [STORE_GROUP],
  meters: [METERS_GROUP],
  process: Object.values(PROCESS_GROUPS),
};
function topicsOf(group: string): readonly string[] {
  const g = CONSUMER_GROUPS.find((x) => x.group === group);
  assert.ok(g !== undefined, `consumer group ${group}`);
  return g.topics;
}
const usefulReplicas = (role: string): number =>
  Math.max(...(CONSUMERS[role] ?? []).map((group) => topicsOf(group).reduce((n, t) => n + partitions(t), 0)));

/** Variables declared elsewhere in issue 16 (static membership); this list goes once they are declared here. */
const declared = new Map(Object.values(VARIABLES).map((v) => [v.name, v.secret === true] as const));

function assertVariable(name: string, where: string): void {
  if (declared.has(name)) return;
  const secret = name.endsWith('_FILE') ? declared.get(name.slice(0, -'_FILE'.length)) : undefined;
  assert.equal(secret, true, `${where}: ${name} is neither a declared variable nor <secret variable>_FILE`);
}

/** The measured-RSS table of deploy/k8s/README.md: role → request and limit (MiB) and the measured peak. */
function readmeSizing(): Map<string, { peak: number; request: string; limit: string }> {
  const readme = readFileSync(join(K8S, 'README.md'), 'utf8');
  const rows = new Map<string, { peak: number; request: string; limit: string }>();
  for (const m of readme.matchAll(/^\| `(\w+)` \| (\d+) \| (\d+) \| \d+ \| `(\w+)` \| `(\w+)` \|/gm)) {
    rows.set(m[1] ?? '', { peak: Math.max(Number(m[2]), Number(m[3])), request: m[4] ?? '', limit: m[5] ?? '' });
  }
  return rows;
}

const mebibytes = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  assert.ok(m !== null, `memory quantity ${q} in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

/** Everything a cluster would only find broken at run time. */
function checkReferences(objects: readonly K8sObject[], where: string): void {
  const byKind = (kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
  const names = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
  assert.equal(names.size, objects.length, `${where}: a kind/name appears twice`);
  const config = byKind('ConfigMap').find((c) => c.metadata.name === 'gridstream-config');
  assert.ok(config !== undefined, `${where}: the gridstream-config ConfigMap`);
  const settings = rec(config['data'], 'ConfigMap data') as Record<string, string>;
  for (const name of Object.keys(settings)) assertVariable(name, `${where} ConfigMap`);
  const secretKeys = (name: string): Set<string> | undefined => {
    const s = byKind('Secret').find((x) => x.metadata.name === name);
    return s === undefined ? undefined : new Set([...Object.keys(rec(s['stringData'] ?? s['data'], 'Secret data'))]);
  };
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
  const grace = Number(settings['GRIDSTREAM_SHUTDOWN_GRACE_MS'] ?? VARIABLES.shutdownGraceMs.fallback) / 1000;
  const sizing = readmeSizing();

  for (const role of ROLES) {
    const w = workloads.filter((x) => x.metadata.name === `gridstream-${role}`);
    assert.equal(w.length, 1, `${where}: one workload for the ${role} role`);
  }
  for (const w of workloads) {
    const what = `${where} ${w.kind} ${w.metadata.name}`;
    const spec = rec(w['spec'], `${what} spec`);
    assert.ok(
      labelsMatch(rec(rec(spec['selector'], 'selector')['matchLabels'], 'matchLabels'), templateLabels(w)),
      what,
    );
    const pod = rec(rec(spec['template'], 'template')['spec'], 'pod spec');
    const volumes = arr(pod['volumes']);
    const [c, ...more] = containers(w);
    assert.ok(c !== undefined && more.length === 0, `${what}: one container`);
    const role = w.metadata.name.replace(/^gridstream-/, '');
    assert.deepEqual(c['command'], ['gridstream', 'run', role], `${what} runs its role`);
    // Probes on declared container ports, on the port gridstream serves health on for this role.
    const ports = new Map(arr(c['ports']).map((p) => [p['name'], p['containerPort']]));
    const healthPort = role === 'api' ? settings['GRIDSTREAM_PORT'] : settings['GRIDSTREAM_METRICS_PORT'];
    for (const [probe, path] of [
      ['startupProbe', '/healthz'],
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      const get = rec(rec(c[probe], `${what} ${probe}`)['httpGet'], `${what} ${probe}.httpGet`);
      assert.equal(get['path'], path, `${what} ${probe}`);
      assert.ok(ports.has(get['port']), `${what} ${probe} names port ${String(get['port'])}, not a container port`);
      const expected =
        probe === 'readinessProbe' && role === 'ingest' ? settings['GRIDSTREAM_INGEST_PORT'] : healthPort;
      assert.equal(String(ports.get(get['port'])), expected, `${what} ${probe} on the port gridstream serves it on`);
    }
    // Draining: the endpoint goes (preStop), then SIGTERM, gridstream's grace, the close (runtime.ts: 10 s more).
    const preStop = Number(
      rec(rec(rec(c['lifecycle'], 'lifecycle')['preStop'], 'preStop')['sleep'], 'sleep')['seconds'],
    );
    assert.ok(preStop >= 3, `${what}: preStop sleeps while endpoints are updated`);
    const termination = Number(pod['terminationGracePeriodSeconds']);
    assert.ok(termination > preStop + grace + 10, `${what}: terminationGracePeriodSeconds ${termination} too short`);
    if (w.kind === 'Deployment') {
      const strategy = rec(spec['strategy'], `${what} strategy`);
      assert.equal(strategy['type'], 'RollingUpdate', what);
      assert.equal(rec(strategy['rollingUpdate'], 'rollingUpdate')['maxUnavailable'], 0, `${what} surges first`);
    }
    // Sized from the measured RSS (README table): the limit above the peak.
    const resources = rec(c['resources'], `${what} resources`);
    const requests = rec(resources['requests'], 'requests');
    const limits = rec(resources['limits'], 'limits');
    const size = sizing.get(role);
    assert.ok(size !== undefined, `deploy/k8s/README.md has the measured RSS of ${role}`);
    assert.equal(requests['memory'], size.request, `${what} memory request as in the README`);
    assert.equal(limits['memory'], size.limit, `${what} memory limit as in the README`);
    assert.ok(mebibytes(size.limit) > size.peak, `${what}: limit above the measured peak`);
    assert.ok(typeof requests['cpu'] === 'string', `${what} requests CPU (the HPA's utilisation needs it)`);
    // Configuration: the ConfigMap, secret files from a mounted Secret that has the key.
    for (const from of arr(c['envFrom']))
      assert.ok(names.has(`ConfigMap/${String(rec(from['configMapRef'], 'configMapRef')['name'])}`), what);
    const mounts = arr(c['volumeMounts']);
    for (const v of volumes) {
      if (!isRecord(v['secret'])) continue;
      assert.ok(
        secretKeys(String(v['secret']['secretName'])) !== undefined,
        `${what}: Secret of volume ${String(v['name'])}`,
      );
    }
    const env = arr(c['env']);
    for (const e of env) {
      const name = String(e['name']);
      assertVariable(name, what);
      if (!name.endsWith('_FILE')) continue;
      const path = String(e['value']);
      const mount = mounts.find((m) => path.startsWith(`${String(m['mountPath'])}/`));
      assert.ok(mount !== undefined, `${what}: ${name} (${path}) is not under a mounted volume`);
      const volume = volumes.find((v) => v['name'] === mount['name']);
      assert.ok(isRecord(volume?.['secret']), `${what}: ${name} is not in a Secret volume`);
      const keys = secretKeys(String(volume['secret']['secretName']));
      const key = path.slice(String(mount['mountPath']).length + 1);
      assert.ok(keys?.has(key), `${what}: ${name} needs key ${key} in the Secret`);
    }
    for (const m of mounts)
      assert.ok(
        volumes.some((v) => v['name'] === m['name']),
        `${what}: volume ${String(m['name'])}`,
      );
    // Static membership needs a stable host name: StatefulSet pods keep theirs, Deployment pods get a new one.
    const instance = env.find((e) => e['name'] === 'GRIDSTREAM_INSTANCE_ID');
    if (w.kind === 'StatefulSet') {
      assert.equal(instance?.['value'], '@hostname', `${what}: static membership by pod name`);
      assert.ok(names.has(`Service/${String(spec['serviceName'])}`), `${what}: its governing Service`);
    } else assert.equal(instance, undefined, `${what}: a Deployment's host names change, no static membership`);
  }
  // The scheduler is leader-elected (a PostgreSQL lease): several replicas, one active.
  const scheduler = workloads.find((w) => w.metadata.name === 'gridstream-scheduler');
  assert.ok(Number(rec(scheduler?.['spec'], 'scheduler spec')['replicas']) >= 2, `${where}: a standby scheduler`);

  for (const s of byKind('Service')) {
    const spec = rec(s['spec'], 'Service spec');
    const selector = rec(spec['selector'], `${s.metadata.name} selector`);
    const targets = workloads.filter((w) => labelsMatch(selector, templateLabels(w)));
    assert.equal(targets.length, 1, `${where}: Service ${s.metadata.name} selects one workload`);
    const ports = new Set(containers(targets[0] as K8sObject).flatMap((c) => arr(c['ports']).map((p) => p['name'])));
    for (const p of arr(spec['ports']))
      assert.ok(ports.has(p['targetPort']), `${where}: Service ${s.metadata.name} port ${String(p['targetPort'])}`);
  }
  for (const ing of byKind('Ingress')) {
    const spec = rec(ing['spec'], 'Ingress spec');
    for (const rule of arr(spec['rules']))
      for (const path of arr(rec(rule['http'], 'http')['paths'])) {
        const backend = rec(rec(path['backend'], 'backend')['service'], 'backend service');
        const svc = byKind('Service').find((s) => s.metadata.name === backend['name']);
        assert.ok(svc !== undefined, `${where}: Ingress backend ${String(backend['name'])}`);
        const port = rec(backend['port'], 'port')['name'];
        assert.ok(
          arr(rec(svc['spec'], 'spec')['ports']).some((p) => p['name'] === port),
          `${where}: port ${String(port)}`,
        );
      }
    const annotations = isRecord(ing.metadata['annotations']) ? ing.metadata['annotations'] : {};
    for (const tls of arr(spec['tls']))
      assert.ok(
        secretKeys(String(tls['secretName'])) !== undefined || 'cert-manager.io/cluster-issuer' in annotations,
        `${where}: the TLS secret ${String(tls['secretName'])} exists or cert-manager makes it`,
      );
  }
  for (const pdb of byKind('PodDisruptionBudget')) {
    const selector = rec(rec(pdb['spec'], 'spec')['selector'], 'selector')['matchLabels'];
    const targets = workloads.filter((w) => labelsMatch(rec(selector, 'matchLabels'), templateLabels(w)));
    assert.equal(targets.length, 1, `${where}: PodDisruptionBudget ${pdb.metadata.name} covers one workload`);
  }
  for (const role of ROLES) {
    const pdb = byKind('PodDisruptionBudget').find((p) => p.metadata.name === `gridstream-${role}`);
    assert.ok(pdb !== undefined, `${where}: a PodDisruptionBudget for ${role}`);
  }
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const spec = rec(hpa['spec'], 'spec');
    const ref = rec(spec['scaleTargetRef'], 'scaleTargetRef');
    assert.ok(names.has(`${String(ref['kind'])}/${String(ref['name'])}`), `${where}: HPA ${hpa.metadata.name} target`);
    const role = String(ref['name']).replace(/^gridstream-/, '');
    if (role in CONSUMERS)
      assert.ok(
        Number(spec['maxReplicas']) <= usefulReplicas(role),
        `${where}: HPA ${hpa.metadata.name} scales past the ${usefulReplicas(role)} partitions of its group`,
      );
    for (const m of arr(spec['metrics'])) {
      if (m['type'] !== 'External') continue;
      const metric = rec(rec(m['external'], 'external')['metric'], 'metric');
      assert.equal(metric['name'], 'gridstream_consumer_lag', `${where}: HPA ${hpa.metadata.name} external metric`);
    }
  }
  for (const role of Object.keys(CONSUMERS).concat('ingest', 'quality', 'settle'))
    assert.ok(
      byKind('HorizontalPodAutoscaler').some((h) => h.metadata.name === `gridstream-${role}`),
      `${where}: ${role} autoscales`,
    );
}

/** Sorts lists of named objects by name, so that renderers that order merged items differently compare equal. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical);
    return items.every((i) => isRecord(i) && typeof i['name'] === 'string')
      ? [...(items as Record<string, unknown>[])].sort((a, b) => String(a['name']).localeCompare(String(b['name'])))
      : items;
  }
  if (isRecord(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

describe('Kubernetes manifests (deploy/k8s), validated without a cluster', () => {
  it('every manifest of the base passes its kind schema', async () => {
    const files = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    const listed = rec(parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')), 'kustomization')['resources'];
    assert.deepEqual([...(listed as string[])].sort(), [...files].sort(), 'the base lists every manifest file');
    let count = 0;
    for (const file of files)
      for (const o of manifestObjects(join(BASE, file))) {
        await validate(o);
        count += 1;
      }
    assert.ok(count >= 30, `validated ${count} objects`);
  });

  it('the schemas catch a broken manifest (the validators are not vacuous)', async () => {
    const [deployment] = manifestObjects(join(BASE, 'api.yaml'));
    assert.ok(deployment !== undefined);
    const broken = structuredClone(deployment) as Record<string, unknown>;
    rec(broken['spec'], 'spec')['replicas'] = 'two';
    await assert.rejects(validate(broken as K8sObject), /replicas/);
    const noSelector = structuredClone(deployment) as Record<string, unknown>;
    delete rec(noSelector['spec'], 'spec')['selector'];
    await assert.rejects(validate(noSelector as K8sObject), /selector/);
  });

  it('the base fits together: probes, ports, selectors, config, secrets, disruption budgets, autoscalers', () => {
    checkReferences(renderKustomization(BASE), 'base');
  });

  for (const overlay of OVERLAYS) {
    const name = overlay.slice(K8S.length + 1);
    it(`${name} renders, passes the schemas and fits together`, async () => {
      const objects = renderKustomization(overlay);
      for (const o of objects) await validate(o);
      checkReferences(objects, name);
    });

    it(`${name}: kubectl kustomize renders the same objects`, (t) => {
      const kubectl = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
      if (kubectl.error !== undefined) {
        t.skip(`kubectl is not on PATH (${kubectl.error.message}): only the test's renderer ran`);
        return;
      }
      assert.equal(kubectl.status, 0, kubectl.stderr);
      const theirs = new Map(
        yamlDocumentsOf(kubectl.stdout, `kubectl kustomize ${name}`).map((d) => {
          const o = rec(d, 'object') as K8sObject;
          return [`${o.kind}/${o.metadata.name}`, canonical(o)];
        }),
      );
      const ours = new Map(renderKustomization(overlay).map((o) => [`${o.kind}/${o.metadata.name}`, canonical(o)]));
      assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [key, o] of ours) assert.deepEqual(o, theirs.get(key), key);
    });
  }

  it('the lag autoscaling variant: the adapter serves the metric the autoscalers ask for, a registered gauge', async () => {
    const { createMetrics } = await import('../../src/observability/index.ts');
    const registered = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const values = rec(
      parse(readFileSync(join(K8S, 'overlays', 'lag-autoscaling', 'prometheus-adapter-values.yaml'), 'utf8')),
      'values',
    );
    const rules = arr(rec(values['rules'], 'rules')['external']);
    assert.equal(rules.length, 1);
    const rule = rules[0] as Record<string, unknown>;
    const series = /^(\w+)\{/.exec(String(rule['seriesQuery']))?.[1];
    assert.ok(series !== undefined && registered.has(series), `the adapter reads ${String(series)}`);
    assert.equal(rec(rule['name'], 'name')['as'], 'gridstream_consumer_lag');
    assert.match(String(rule['metricsQuery']), /gridstream_consumer_lag\{<<\.LabelMatchers>>\}/);
    const groups = renderKustomization(join(K8S, 'overlays', 'lag-autoscaling'))
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .flatMap((h) => arr(rec(h['spec'], 'spec')['metrics']))
      .filter((m) => m['type'] === 'External')
      .map((m) => rec(rec(rec(m['external'], 'external')['metric'], 'metric')['selector'], 'selector'))
      .map((s) => rec(s['matchLabels'], 'matchLabels')['group']);
    assert.deepEqual([...groups].sort(), Object.values(CONSUMERS).flat().sort(), 'each consumer group by its name');
  });
});
