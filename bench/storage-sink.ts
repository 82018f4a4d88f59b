import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GridSeriesChunk } from '../src/contracts/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import type { Db, DbKind } from '../src/storage/index.ts';
import { migrate, openDb, writeObservations } from '../src/storage/index.ts';
import type { Benchmark, Figure } from './figure.ts';
import { figure } from './figure.ts';

/** Rows per scenario and per database, written in batches of BATCH_ROWS (one transaction each). */
const ROWS = 200_000;
const BATCH_ROWS = 20_000;
const REPETITIONS = 3;
const ZONES = ['DE_LU', 'FR', 'ES', 'IT_NORD', 'PL', 'NL', 'BE', 'AT', 'CZ', 'FI'];
const TYPES = ['B01', 'B04', 'B05', 'B10', 'B11', 'B12', 'B14', 'B16', 'B18', 'B19'];

/**
 * Batches of one-day chunks (96 quarter hours, as ENTSO-E sends actual generation) over 10 zones × 10 production
 * types and consecutive days. `corrected`: every tenth point differs (10 % corrections).
 */
function batches(corrected = false): GridSeriesChunk[][] {
  const out: GridSeriesChunk[][] = [];
  let current: GridSeriesChunk[] = [];
  let rows = 0;
  for (let day = 0; rows < ROWS; day++)
    for (const zone of ZONES)
      for (const productionType of TYPES) {
        if (rows >= ROWS) break;
        const start = Date.UTC(2024, 0, 1) + day * 86_400_000;
        current.push({
          zone,
          metric: 'generation_actual',
          productionType,
          counterpartZone: '',
          qualifier: '',
          unit: 'MW',
          source: 'entsoe',
          documentId: `doc-${zone}-${day}`,
          revision: corrected ? 2 : 1,
          // As fetched: the document is created the next morning; the corrected one (all of it re-issued) later.
          issuedAt: new Date(start + 86_400_000 + (corrected ? 8 : 6) * 3_600_000).toISOString(),
          points: Array.from({ length: 96 }, (_, i) => ({
            t: new Date(start + i * 900_000).toISOString().replace('.000Z', 'Z'),
            v: (((day * 96 + i) * 7.3) % 1000) + (corrected && i % 10 === 0 ? 0.5 : 0),
          })),
        });
        rows += 96;
        if (current.length * 96 >= BATCH_ROWS) {
          out.push(current);
          current = [];
        }
      }
  if (current.length > 0) out.push(current);
  return out;
}

const KEY = 'zone, metric, production_type, counterpart_zone, qualifier, slot_start';
const COLUMNS = [...KEY.split(', '), 'value', 'unit', 'source', 'document_id', 'revision', 'flags', 'issued_at'];

/**
 * The baseline's encoder: each point of each chunk as a COPY line, nothing else (no validation, no
 * deduplication, no conflict handling) — what a plain keyed COPY of the same input costs.
 */
function* plainCopyText(chunks: readonly GridSeriesChunk[]): Generator<string> {
  for (const c of chunks) {
    const prefix = `${c.zone}\t${c.metric}\t${c.productionType}\t${c.counterpartZone}\t${c.qualifier}\t`;
    const suffix = `\t${c.unit}\t${c.source}\t${c.documentId}\t${c.revision}\t\\N\t${c.issuedAt ?? '\\N'}\n`;
    yield c.points.map((p) => `${prefix}${p.t}\t${p.v}${suffix}`).join('');
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * Runs every scenario REPETITIONS times on empty tables. The baseline and the fresh write alternate batch by
 * batch, so that noise from other processes on the machine hits both sides of the ratio alike.
 */
async function measure(db: Db): Promise<Record<string, number>> {
  const fresh = batches();
  const corrections = batches(true);
  const times: Record<string, number[]> = {};
  const total: Record<string, number> = {};
  const add = (name: string, ms: number): void => {
    total[name] = (total[name] ?? 0) + ms;
  };
  // Repetition 0 warms up (the JIT compiles the sink's code in its first seconds; a sink runs for hours) and is
  // not counted.
  for (let r = 0; r <= REPETITIONS; r++) {
    await db.exec(`TRUNCATE grid_observations, grid_observation_revisions, grid_series;
      DROP TABLE IF EXISTS copy_baseline;
      CREATE TABLE copy_baseline (LIKE grid_observations INCLUDING DEFAULTS, PRIMARY KEY (${KEY}))`);
    for (const name of Object.keys(total)) total[name] = 0;
    for (let i = 0; i < fresh.length; i++) {
      const chunks = fresh[i] ?? [];
      add(
        'copy',
        await timed(() => db.transaction((tx) => tx.copyText('copy_baseline', COLUMNS, plainCopyText(chunks)))),
      );
      add('fresh', await timed(() => writeAll(db, fresh.slice(i, i + 1))));
    }
    add('replay', await timed(() => writeAll(db, fresh)));
    add('corrections', await timed(() => writeAll(db, corrections)));
    await db.exec('TRUNCATE grid_observations, grid_observation_revisions, grid_series');
    add('staging', await timed(() => writeAll(db, fresh, 'staging')));
    if (r > 0) for (const [name, ms] of Object.entries(total)) (times[name] ??= []).push(ms);
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

async function writeAll(db: Db, all: GridSeriesChunk[][], strategy: 'auto' | 'staging' = 'auto'): Promise<void> {
  for (const b of all) {
    const result = await writeObservations(db, b, { strategy });
    if (result.rejected.length > 0) throw new Error(`unexpected rejects: ${result.rejected[0]?.message ?? ''}`);
  }
}

async function openBenchDb(kind: DbKind): Promise<{ db: Db; done: () => Promise<void> }> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-'));
    const db = await openDb({ dataDir: dir, logger: silentLogger() });
    return {
      db,
      done: async () => {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const url =
    process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
    process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
    'postgres://postgres@127.0.0.1:5432/test';
  const schema = `gs_bench_${process.pid}`;
  const db = await openDb({ url, dataDir: tmpdir(), schema, logger: silentLogger() });
  try {
    await db.query('SELECT 1');
  } catch (error) {
    await db.close();
    throw new Error(`PostgreSQL is required (set GRIDSTREAM_BENCH_DATABASE_URL): ${String(error)}`, { cause: error });
  }
  return {
    db,
    done: async () => {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}

export const storageSinkBenchmark: Benchmark = {
  name: 'storage-sink',
  description: `grid observation sink on PostgreSQL and PGlite: fresh, replay, 10 % corrections vs a keyed COPY (${ROWS} rows)`,
  needs: ['postgres'],
  async run(emit: (f: Figure) => void) {
    for (const kind of ['postgres', 'pglite'] as const) {
      const { db, done } = await openBenchDb(kind);
      try {
        await migrate(db);
        const ms = await measure(db);
        const perSecond = (t: number | undefined): number => (t === undefined ? Number.NaN : ROWS / (t / 1000));
        const baseline = {
          name: `plain COPY into an empty table with the same columns and primary key (${kind})`,
          value: perSecond(ms['copy']),
        };
        const notes = `${ROWS} rows in ${ROWS / BATCH_ROWS} transactions of ${BATCH_ROWS} (one-day chunks, 100 series), median of ${REPETITIONS} after a warm-up pass`;
        emit(figure('storage-sink', `${kind}.fresh`, perSecond(ms['fresh']), 'rows/s', baseline, notes));
        emit(
          figure(
            'storage-sink',
            `${kind}.replay_100pct_duplicates`,
            perSecond(ms['replay']),
            'rows/s',
            baseline,
            `${notes}; replay ÷ fresh = ${((ms['fresh'] ?? 0) / (ms['replay'] ?? 1)).toFixed(2)}`,
          ),
        );
        emit(
          figure(
            'storage-sink',
            `${kind}.corrections_10pct`,
            perSecond(ms['corrections']),
            'rows/s',
            baseline,
            `${notes}; the document re-issued later: 10 % of the rows change (update + revision), 90 % confirmed (issue time moves)`,
          ),
        );
        emit(
          figure(
            'storage-sink',
            `${kind}.fresh_staging_upsert_only`,
            perSecond(ms['staging']),
            'rows/s',
            baseline,
            `${notes}; every row through COPY → temp staging → INSERT … ON CONFLICT (the path changed rows take)`,
          ),
        );
      } finally {
        await done();
      }
    }
  },
};
