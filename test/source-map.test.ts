import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function files(dir: string, ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, ext);
    return path.endsWith(ext) ? [path] : [];
  });
}

/** The module a path under src/ belongs to: its top folder, or `connectors/<source>`. */
function moduleOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  if (parts[0] === 'connectors' && parts.length > 2) return `connectors/${parts[1] ?? ''}`;
  return parts[0] ?? '';
}

/** The modules that exist: folders of src/ (connectors/ holds one module per source). */
function modulesOnDisk(): string[] {
  return readdirSync(SRC)
    .filter((d) => statSync(join(SRC, d)).isDirectory())
    .flatMap((d) =>
      d === 'connectors'
        ? readdirSync(join(SRC, d))
            .filter((s) => statSync(join(SRC, d, s)).isDirectory())
            .map((s) => `connectors/${s}`)
        : [d],
    )
    .sort();
}

/** docs/SOURCE-MAP.md's table: module → modules it may import, in table order. */
function mapInDocs(): Map<string, Set<string>> {
  const text = readFileSync(join(ROOT, 'docs', 'SOURCE-MAP.md'), 'utf8');
  const map = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([a-z/]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined || cells.length < 5) continue;
    const allowed = cells[3] ?? '';
    const above = [...map.keys()];
    map.set(
      name,
      new Set(
        allowed.startsWith('every module above')
          ? above.filter((m) => !allowed.includes(`except \`${m}\``) && !allowed.includes(`except ${m}`))
          : [...allowed.matchAll(/`([a-z/]+)`/g)].map((m) => m[1] ?? ''),
      ),
    );
  }
  return map;
}

/** Every import between modules: [file, importing module, imported module, resolved target]. */
function crossImports(): { file: string; from: string; to: string; target: string }[] {
  const out: { file: string; from: string; to: string; target: string }[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'";]*?from\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const from = moduleOf(file);
      const to = moduleOf(target);
      if (from !== to) out.push({ file: relative(ROOT, file), from, to, target: relative(SRC, target) });
    }
  }
  return out;
}

describe('the map of src/ (docs/SOURCE-MAP.md)', () => {
  it('lists exactly the modules that exist, each with an index.ts (bin has its entry point)', () => {
    const documented = [...mapInDocs().keys()].sort();
    assert.deepEqual(documented, modulesOnDisk());
    for (const m of documented) {
      if (m === 'bin') continue;
      assert.ok(existsSync(join(SRC, m, 'index.ts')), `${m}/index.ts`);
    }
  });

  it('every import between modules is allowed by the map and goes through the index.ts', () => {
    const map = mapInDocs();
    const wrong = crossImports().filter((i) => !(map.get(i.from)?.has(i.to) ?? false));
    assert.deepEqual(
      wrong.map((i) => `${i.file}: ${i.from} may not import ${i.to}`),
      [],
    );
    const deep = crossImports().filter((i) => i.target !== `${i.to}/index.ts`);
    assert.deepEqual(
      deep.map((i) => `${i.file} imports ${i.target}`),
      [],
    );
  });

  it('has no import cycle between modules: each imports only modules above it', () => {
    const order = [...mapInDocs().keys()];
    for (const [m, allowed] of mapInDocs()) {
      for (const a of allowed) assert.ok(order.indexOf(a) < order.indexOf(m), `${m} may import ${a}, listed below it`);
    }
  });
});

describe('file sizes', () => {
  it('no source file is over 600 lines (split it near there)', () => {
    const sources = [SRC, join(ROOT, 'web', 'src'), join(ROOT, 'bench'), join(ROOT, 'scripts'), join(ROOT, 'test')]
      .flatMap((d) => files(d))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }));
    assert.deepEqual(
      sources.filter((s) => s.lines > 600).map((s) => `${s.file}: ${s.lines} lines`),
      [],
    );
  });
});
