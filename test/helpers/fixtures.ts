import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA = join(ROOT, 'data');

export function entsoeFixture(name: string): Buffer {
  return readFileSync(join(DATA, 'entsoe', name));
}

export function entsoeFixtureText(name: string): string {
  return readFileSync(join(DATA, 'entsoe', name), 'utf8');
}

/** Every shipped ENTSO-E fixture file name. */
export function entsoeFixtureNames(): string[] {
  return readdirSync(join(DATA, 'entsoe'))
    .filter((f) => f.endsWith('.xml'))
    .sort();
}

/**
 * Extra ENTSO-E documents to run the invariant checks on: the shared data folder next to the checkout when it
 * exists (it may hold files the project has never seen) and `GRIDSTREAM_EXTRA_ENTSOE_FIXTURES` directories.
 */
export function extraEntsoeDocuments(env: NodeJS.ProcessEnv): { name: string; path: string }[] {
  const dirs = [
    join(ROOT, '..', 'shared', 'data', 'entsoe'),
    ...(env['GRIDSTREAM_EXTRA_ENTSOE_FIXTURES'] ?? '').split(':'),
  ];
  const out: { name: string; path: string }[] = [];
  for (const dir of dirs) {
    if (dir === '' || !existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.xml')) out.push({ name: `${dir}/${f}`, path: join(dir, f) });
  }
  return out;
}

export interface ManifestRow {
  readonly file: string;
  readonly timeSeries: number;
  readonly points: number;
  readonly expandedSteps: number;
}

/**
 * The rows of `data/entsoe/MANIFEST.md`: the TimeSeries, `<Point>` and expanded-step counts written down by the
 * people who collected the files, an expectation independent of gridstream's parser.
 */
export function entsoeManifest(): ManifestRow[] {
  const text = readFileSync(join(DATA, 'entsoe', 'MANIFEST.md'), 'utf8');
  const rows: ManifestRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const file = /^`([^`]+\.xml)`$/.exec(cells[1] ?? '')?.[1];
    if (file === undefined || cells.length < 12) continue;
    const series = Number(cells[10]);
    const m = /^(\d+)(?:\s*\(->\s*(\d+) steps\))?/.exec(cells[11] ?? '');
    if (!Number.isInteger(series) || m === null) continue;
    const points = Number(m[1]);
    rows.push({ file, timeSeries: series, points, expandedSteps: m[2] === undefined ? points : Number(m[2]) });
  }
  return rows;
}
