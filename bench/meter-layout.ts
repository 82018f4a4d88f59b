import { tmpdir } from 'node:os';
import { silentLogger } from '../src/observability/index.ts';
import type { Db } from '../src/storage/index.ts';
import { ensurePartitions, migrate, openDb } from '../src/storage/index.ts';
import type { Benchmark, Figure } from './figure.ts';
import { figure } from './figure.ts';

/**
 * Storage layout of meter intervals at scale (issue #13, "Storage designed for 10⁸–10¹⁰ readings"), on the real
 * PostgreSQL in a throwaway schema (migrated, dropped at the end):
 * - baseline: plain COPY into an unpartitioned table keyed (meter_id, ts);
 * - narrow: COPY into 0010's meter_intervals (daily partitions, its indexes) — one row per reading;
 * - upsert: COPY into a temporary staging table, then INSERT … ON CONFLICT into meter_intervals (the write path a
 *   role takes when a batch may hold duplicates or corrections);
 * - day rows: 0010's meter_days, one row per (meter, quantity, local day) with numeric[] of 96 values;
 * - read: one meter's 30 days, from narrow rows vs from day rows, p50/p99 over random meters.
 * Writes arrive as the stream would deliver them: one transaction per quarter hour holding every meter's reading.
 * `--meters=N --days=D --read-meters=R` change the sizes.
 */

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};

const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;
/** A UTC day with 96 quarters (the bench does not need DST days: the day-row width is what is measured). */
const FIRST_DAY = Date.UTC(2026, 0, 5);
const READ_DAYS = 30;
const READ_QUERIES = 200;
/** A handful of exact decimals, as meters send them. */
const VALUES = ['0.125', '0.25', '0.375', '0.1', '0.2', '0.062', '0.5', '1.25'];
const valueOf = (meter: number, slot: number): string => VALUES[(meter * 7 + slot) % VALUES.length] ?? '0';
const meterId = (i: number): string => `MTR${String(i).padStart(7, '0')}`;
/** The meters of the 30-day read set (other ids than the load's). */
const readId = (i: number): string => `R${String(i).padStart(7, '0')}`;
const groupOf = (i: number): string => `feeder-${i % 500}`;
const utc = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

const NARROW_COLUMNS = [
  'meter_id',
  'quantity',
  'ts',
  'interval_s',
  'value',
  'source',
  'group_id',
  'recorded_at',
  'log_topic',
  'log_partition',
  'log_offset',
];

/** Every meter's reading of one quarter, as meter_intervals COPY text (and the baseline's three columns). */
function* quarterText(meters: number, t: number, narrow: boolean): Generator<string> {
  const ts = utc(t);
  const recorded = utc(t + QUARTER_MS + 60_000);
  const slot = Math.floor((t % DAY_MS) / QUARTER_MS);
  let piece = '';
  for (let m = 0; m < meters; m++) {
    piece += narrow
      ? `${meterId(m)}\tenergy_import\t${ts}\t900\t${valueOf(m, slot)}\tinterval\t${groupOf(m)}\t${recorded}\traw.meters\t${m % 12}\t${t / 1000 + m}\n`
      : `${meterId(m)}\t${ts}\t${valueOf(m, slot)}\n`;
    if (piece.length > 256_000) {
      yield piece;
      piece = '';
    }
  }
  if (piece !== '') yield piece;
}

const DAY_COLUMNS = [
  'meter_id',
  'quantity',
  'local_day',
  'time_zone',
  'day_start',
  'day_end',
  'interval_s',
  'values',
  'quality',
  'sum',
  'count',
  'expected',
  'group_id',
];
const QUALITY_96 = `{${Array.from({ length: 96 }, () => 'measured').join(',')}}`;

/** Day rows of meters [from, to) for one day, as meter_days COPY text. */
function* dayText(from: number, to: number, day: number, idOf = meterId): Generator<string> {
  const date = utc(day).slice(0, 10);
  let piece = '';
  for (let m = from; m < to; m++) {
    const values = Array.from({ length: 96 }, (_, s) => valueOf(m, s));
    // The sum in thousandths (every value has at most 3 decimals): exact without a decimal library.
    const milli = values.reduce((acc, v) => acc + Math.round(Number(v) * 1000), 0);
    piece += `${idOf(m)}\tenergy_import\t${date}\tUTC\t${utc(day)}\t${utc(day + DAY_MS)}\t900\t{${values.join(',')}}\t${QUALITY_96}\t${milli / 1000}\t96\t96\t${groupOf(m)}\n`;
    if (piece.length > 256_000) {
      yield piece;
      piece = '';
    }
  }
  if (piece !== '') yield piece;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Bytes of a table (heap with TOAST) and of its indexes, over all its partitions when it has any. */
async function sizeOf(db: Db, table: string): Promise<{ total: number; heap: number; indexes: number }> {
  const { rows } = await db.query<{ heap: string; indexes: string }>(
    `WITH parts AS (
       SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf
       UNION ALL SELECT $1::regclass WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree($1::regclass) WHERE isleaf))
     SELECT sum(pg_table_size(relid))::text AS heap, sum(pg_indexes_size(relid))::text AS indexes FROM parts`,
    [table],
  );
  const heap = Number(rows[0]?.heap ?? 0);
  const indexes = Number(rows[0]?.indexes ?? 0);
  return { total: heap + indexes, heap, indexes };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const split = (s: { heap: number; indexes: number }, readings: number): string =>
  `heap ${mib(s.heap)} + indexes ${mib(s.indexes)} = ${((s.heap + s.indexes) / readings).toFixed(1)} bytes/reading`;

const STAGING = 'meter_layout_staging';
const UPSERT = `INSERT INTO meter_intervals (${NARROW_COLUMNS.join(', ')})
  SELECT ${NARROW_COLUMNS.join(', ')} FROM ${STAGING}
  ON CONFLICT (meter_id, quantity, ts) DO UPDATE SET
    value = EXCLUDED.value, recorded_at = EXCLUDED.recorded_at, group_id = EXCLUDED.group_id,
    received_at = EXCLUDED.received_at, log_topic = EXCLUDED.log_topic, log_partition = EXCLUDED.log_partition,
    log_offset = EXCLUDED.log_offset
  WHERE meter_intervals.value IS DISTINCT FROM EXCLUDED.value
    AND EXCLUDED.recorded_at >= meter_intervals.recorded_at`;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** A deterministic pseudo-random sequence (the same meters are read in every run). */
function* lcg(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    yield x;
  }
}

async function run(db: Db, emit: (f: Figure) => void): Promise<void> {
  const meters = flag('meters', 20_000);
  const days = flag('days', 2);
  const readMeters = flag('read-meters', 1_000);
  const readings = meters * 96 * days;
  const quarters = Array.from({ length: 96 * days }, (_, i) => FIRST_DAY + i * QUARTER_MS);
  const began = performance.now();
  const log = (s: string): void =>
    void process.stderr.write(`# meter-layout +${((performance.now() - began) / 1000).toFixed(0)} s: ${s}\n`);

  await migrate(db);
  await ensurePartitions(
    db,
    'meter_intervals',
    new Date(FIRST_DAY - READ_DAYS * DAY_MS),
    new Date(FIRST_DAY + days * DAY_MS),
  );
  await db.exec(`CREATE TABLE layout_baseline (meter_id text NOT NULL, ts timestamptz NOT NULL, value numeric NOT NULL,
    PRIMARY KEY (meter_id, ts))`);

  // (a) and the baseline, quarter by quarter in turn, so that noise from other processes hits both alike.
  log(`COPY ${readings} readings (${meters} meters × 96 × ${days} days), baseline and meter_intervals in turn`);
  let baselineMs = 0;
  let narrowMs = 0;
  for (const t of quarters) {
    baselineMs += await timed(() =>
      db.transaction((tx) =>
        tx.copyText('layout_baseline', ['meter_id', 'ts', 'value'], quarterText(meters, t, false)),
      ),
    );
    narrowMs += await timed(() =>
      db.transaction((tx) => tx.copyText('meter_intervals', NARROW_COLUMNS, quarterText(meters, t, true))),
    );
  }
  await db.exec('ANALYZE layout_baseline; ANALYZE meter_intervals');
  const baselineSize = await sizeOf(db, 'layout_baseline');
  const narrowSize = await sizeOf(db, 'meter_intervals');
  const baselineBytes = baselineSize.total;
  const narrowBytes = narrowSize.total;
  const baseline = {
    name: 'plain COPY into an unpartitioned table keyed (meter_id, ts), value numeric, no other index',
    value: readings / (baselineMs / 1000),
  };
  const notes = `${meters} meters × 96 quarters × ${days} days = ${readings} readings, one transaction per quarter (${meters} rows), one connection`;
  emit(
    figure(
      'meter-layout',
      'narrow_copy',
      readings / (narrowMs / 1000),
      'readings/s',
      baseline,
      `${notes}; 0010 meter_intervals (daily partitions, brin(ts), (group_id, quantity, ts))`,
    ),
  );
  emit(
    figure(
      'meter-layout',
      'narrow_bytes_per_reading',
      narrowBytes / readings,
      'bytes',
      { name: 'baseline table + index bytes per reading', value: baselineBytes / readings, lowerIsBetter: true },
      `meter_intervals: ${split(narrowSize, readings)}; baseline: ${split(baselineSize, readings)}`,
    ),
  );

  // (b) the same readings through staging + upsert into an empty meter_intervals.
  await db.exec('TRUNCATE meter_intervals');
  log('staging + INSERT … ON CONFLICT into meter_intervals');
  const createStaging = `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (meter_id text, quantity text, ts timestamptz,
    interval_s integer, value numeric, source text, group_id text, recorded_at timestamptz, received_at timestamptz DEFAULT now(),
    log_topic text, log_partition integer, log_offset bigint) ON COMMIT DELETE ROWS`;
  const upsertAll = async (): Promise<number> => {
    let ms = 0;
    for (const t of quarters)
      ms += await timed(() =>
        db.transaction(async (tx) => {
          await tx.exec(createStaging);
          await tx.copyText(STAGING, NARROW_COLUMNS, quarterText(meters, t, true));
          await tx.exec(UPSERT);
        }),
      );
    return ms;
  };
  const upsertMs = await upsertAll();
  emit(
    figure(
      'meter-layout',
      'narrow_staging_upsert',
      readings / (upsertMs / 1000),
      'readings/s',
      baseline,
      `${notes}; COPY into a temp staging table, INSERT … ON CONFLICT (meter_id, quantity, ts) DO UPDATE, empty target`,
    ),
  );
  // The same batches again: every reading a duplicate (a replay after a crash), nothing changes.
  const replayMs = await upsertAll();
  emit(
    figure(
      'meter-layout',
      'narrow_staging_upsert_replay',
      readings / (replayMs / 1000),
      'readings/s',
      baseline,
      `${notes}; the same batches again into the filled table: 100 % duplicates, no row changes`,
    ),
  );

  // (c) day rows: one per meter and day with the 96 values as numeric[].
  log('COPY day rows into meter_days');
  let dayMs = 0;
  const dayBatch = Math.max(1, Math.floor(20_000 / 96) * 10);
  for (let d = 0; d < days; d++)
    for (let m = 0; m < meters; m += dayBatch)
      dayMs += await timed(() =>
        db.transaction((tx) =>
          tx.copyText('meter_days', DAY_COLUMNS, dayText(m, Math.min(meters, m + dayBatch), FIRST_DAY + d * DAY_MS)),
        ),
      );
  await db.exec('ANALYZE meter_days');
  const daySize = await sizeOf(db, 'meter_days');
  const dayBytes = daySize.total;
  emit(
    figure(
      'meter-layout',
      'day_rows_copy',
      readings / (dayMs / 1000),
      'readings/s',
      baseline,
      `${meters * days} day rows of 96 numeric values (+ quality text[96]), ${dayBatch} rows a transaction`,
    ),
  );
  emit(
    figure(
      'meter-layout',
      'day_rows_bytes_per_reading',
      dayBytes / readings,
      'bytes',
      { name: 'baseline table + index bytes per reading', value: baselineBytes / readings, lowerIsBetter: true },
      `meter_days: ${split(daySize, readings)} (heap includes TOAST: arrays over ~2 kB are compressed); narrow meter_intervals ${(narrowBytes / readings).toFixed(1)} bytes/reading`,
    ),
  );

  // (d) 30 days of a subset of meters in both layouts (generated on the server: setup, not measured), then reads.
  log(`${READ_DAYS} days × ${readMeters} meters in both layouts, ${READ_QUERIES} reads each`);
  const readFrom = FIRST_DAY - READ_DAYS * DAY_MS;
  await db.query(
    `INSERT INTO meter_intervals (${NARROW_COLUMNS.join(', ')})
     SELECT 'R' || lpad(m::text, 7, '0'), 'energy_import', t, 900, (ARRAY[${VALUES.join(',')}]::numeric[])[1 + (m * 7 + extract(epoch FROM t)::bigint / 900) % ${VALUES.length}],
            'interval', 'feeder-' || (m % 500), t + interval '16 minutes', 'raw.meters', m % 12, 0
     FROM generate_series(0, $1::int - 1) m, generate_series($2::timestamptz, $3::timestamptz - interval '15 minutes', interval '15 minutes') t`,
    [readMeters, utc(readFrom), utc(FIRST_DAY)],
  );
  for (let d = 0; d < READ_DAYS; d++)
    await db.transaction((tx) =>
      tx.copyText('meter_days', DAY_COLUMNS, dayText(0, readMeters, readFrom + d * DAY_MS, readId)),
    );
  await db.exec('ANALYZE meter_intervals; ANALYZE meter_days');
  const rand = lcg(13);
  const picks = Array.from({ length: READ_QUERIES }, () => readId((rand.next().value ?? 0) % readMeters));
  const readNarrow = (id: string) =>
    db.query<{ ts: Date; value: string }>(
      `SELECT ts, value FROM meter_intervals WHERE meter_id = $1 AND quantity = 'energy_import' AND ts >= $2 AND ts < $3 ORDER BY ts`,
      [id, utc(readFrom), utc(FIRST_DAY)],
    );
  const readDays = (id: string) =>
    db.query<{ local_day: Date; values: string[] }>(
      `SELECT local_day, "values" FROM meter_days WHERE meter_id = $1 AND quantity = 'energy_import' AND local_day >= $2 AND local_day < $3 ORDER BY local_day`,
      [id, utc(readFrom).slice(0, 10), utc(FIRST_DAY).slice(0, 10)],
    );
  // Both read the same meters, alternating; a first pass warms caches and plans and is not counted.
  for (const id of picks.slice(0, 20)) {
    await readNarrow(id);
    await readDays(id);
  }
  const narrowTimes: number[] = [];
  const dayTimes: number[] = [];
  for (const id of picks) {
    let got = 0;
    narrowTimes.push(await timed(async () => void (got = (await readNarrow(id)).rowCount)));
    if (got !== READ_DAYS * 96) throw new Error(`narrow read of ${id} gave ${got} rows`);
    dayTimes.push(await timed(async () => void (got = (await readDays(id)).rows.flatMap((r) => r.values).length)));
    if (got !== READ_DAYS * 96) throw new Error(`day-row read of ${id} gave ${got} values`);
  }
  narrowTimes.sort((a, b) => a - b);
  dayTimes.sort((a, b) => a - b);
  const readNotes = `one meter's ${READ_DAYS} days (${READ_DAYS * 96} values), ${READ_QUERIES} random meters of ${readMeters}, tables also holding the ${meters}-meter load; client round trip included`;
  for (const p of [50, 99]) {
    emit(
      figure(
        'meter-layout',
        `read_30d_day_rows_p${p}`,
        percentile(dayTimes, p),
        'ms',
        {
          name: `same read from narrow meter_intervals rows (p${p})`,
          value: percentile(narrowTimes, p),
          lowerIsBetter: true,
        },
        readNotes,
      ),
    );
  }
  emit(figure('meter-layout', 'read_30d_narrow_p50', percentile(narrowTimes, 50), 'ms', undefined, readNotes));
  emit(figure('meter-layout', 'read_30d_narrow_p99', percentile(narrowTimes, 99), 'ms', undefined, readNotes));
}

export const meterLayoutBenchmark: Benchmark = {
  name: 'meter-layout',
  description:
    'meter interval storage on PostgreSQL: narrow rows (COPY, staging upsert) vs day rows of numeric[], size, 30-day reads (--meters=N --days=D --read-meters=R)',
  needs: ['postgres'],
  async run(emit: (f: Figure) => void) {
    const url =
      process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
      process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
      'postgres://postgres@127.0.0.1:5432/test';
    const schema = `gs_bench_layout_${process.pid}`;
    const db = await openDb({ url, dataDir: tmpdir(), schema, logger: silentLogger() });
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close();
      throw new Error(`PostgreSQL is required (set GRIDSTREAM_BENCH_DATABASE_URL): ${String(error)}`, { cause: error });
    }
    try {
      await run(db, emit);
    } finally {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
  },
};
