import { addLocalDays } from '../src/time/index.ts';
import type { Db } from '../src/storage/index.ts';
import { ensurePartitions } from '../src/storage/index.ts';
import type { Figure } from './figure.ts';
import { figure } from './figure.ts';
import type { ReadingsAnswer } from './meters.ts';
import { BENCH, QUARTER_MS, TIME_ZONE, ZONE, iso, percentile } from './meters.ts';
import { api, log } from './meters-processes.ts';

/** The read part of bench/meters.ts (`--read-meters`): one meter's month through the API with ≥ 10⁷ rows stored. */

export const READ_DAYS = 30;
const READ_QUERIES = 400;
/** Requests per resolution before the measured ones (connections, caches, JIT), not counted. */
const READ_WARMUP = 20;

/** ≥ 10⁷ rows bulk-loaded for `readMeters` meters × 30 days before the run, then API reads of one meter's month. */
export async function reads(
  emit: (f: Figure) => void,
  db: Db,
  base: string,
  until: number,
  readMeters: number,
): Promise<void> {
  const from = addLocalDays(until, TIME_ZONE, -READ_DAYS);
  await ensurePartitions(db, 'meter_intervals', new Date(from), new Date(until));
  // The fleet may be smaller than --read-meters: the missing meters are registered for the reads alone.
  const registered = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM meters')).rows[0]?.n);
  if (registered < readMeters)
    await db.query(
      `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh, profile)
       SELECT 'read-' || lpad(i::text, 7, '0'), $1, 'read-bench', $2, 'import', 'PT15M', 3500, 'H0'
       FROM generate_series(1, $3::int) AS i`,
      [ZONE, TIME_ZONE, readMeters - registered],
    );
  log(`bulk-loading ${readMeters} meters × ${READ_DAYS} days into meter_intervals (setup)`);
  const { rowCount: loaded } = await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, source, group_id, recorded_at, log_topic, log_partition, log_offset)
     SELECT m.meter_id, 'energy_import', t, 900, (ARRAY[0.125, 0.25, 0.0375, 0.1, 0.2, 0.0625])[1 + (m.id + extract(epoch FROM t)::bigint / 900) % 6],
            'interval', m.group_id, t + interval '16 minutes', 'bench', 0, 0
     FROM (SELECT id, meter_id, group_id FROM meters ORDER BY meter_id LIMIT $1) m,
          generate_series($2::timestamptz, $3::timestamptz - interval '15 minutes', interval '15 minutes') t`,
    [readMeters, iso(from), iso(until)],
  );
  // As the engine leaves them once the watermark passed: every day but the last compacted into a meter_days row.
  const lastDay = addLocalDays(until, TIME_ZONE, -1);
  log(`compacting the days before the last into meter_days rows (setup)`);
  const { rowCount: dayRows } = await db.query(
    `INSERT INTO meter_days (meter_id, quantity, local_day, time_zone, day_start, day_end, interval_s, "values",
       quality, sum, count, expected, group_id)
     SELECT meter_id, quantity, d, $3, (d::timestamp AT TIME ZONE $3), ((d + 1)::timestamp AT TIME ZONE $3), 900,
       array_agg(value ORDER BY ts), array_agg(quality ORDER BY ts), sum(value), count(*)::int, count(*)::int,
       min(group_id)
     FROM (SELECT *, (ts AT TIME ZONE $3)::date AS d FROM meter_intervals
           WHERE log_topic = 'bench' AND ts >= $1::timestamptz AND ts < $2::timestamptz) x
     GROUP BY meter_id, quantity, d`,
    [iso(from), iso(lastDay), TIME_ZONE],
  );
  await db.exec('ANALYZE meter_intervals; ANALYZE meter_days');
  const total = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM meter_intervals')).rows[0]?.n);
  const ids = (
    await db.query<{ meter_id: string }>('SELECT meter_id FROM meters ORDER BY meter_id LIMIT $1', [readMeters])
  ).rows.map((x) => x.meter_id);
  const notes = `one meter's ${READ_DAYS} days through the API (HTTP, key check, registry, audit row), ${READ_QUERIES} requests one at a time (after ${READ_WARMUP} not counted) over ${ids.length} meters; meter_intervals holds ${total} rows (${loaded} bulk-loaded by INSERT … SELECT, not through the pipeline); the days before the last compacted into ${dayRows} meter_days rows, as the engine leaves them once the watermark passed (the last day is read from meter_intervals)`;
  const sqlTimes: number[] = [];
  for (let i = 0; i < READ_QUERIES + READ_WARMUP; i++) {
    const id = ids[(i * 7919) % ids.length] ?? '';
    const t0 = performance.now();
    await db.query(
      `SELECT ts, value FROM meter_intervals WHERE meter_id = $1 AND quantity = 'energy_import' AND ts >= $2 AND ts < $3 ORDER BY ts`,
      [id, iso(from), iso(until)],
    );
    if (i >= READ_WARMUP) sqlTimes.push(performance.now() - t0);
  }
  for (const resolution of ['PT15M', 'P1D'] as const) {
    const times: number[] = [];
    const want = resolution === 'PT15M' ? (until - from) / QUARTER_MS : READ_DAYS;
    for (let i = 0; i < READ_QUERIES + READ_WARMUP; i++) {
      const id = ids[(i * 7919) % ids.length] ?? '';
      const t0 = performance.now();
      const a = await api<ReadingsAnswer>(
        base,
        `/api/v1/meters/${id}/readings?from=${iso(from)}&to=${iso(until)}&resolution=${resolution}`,
      );
      const ms = performance.now() - t0;
      const valued = a.points.filter((p) => p.value !== null).length;
      if (valued !== want) throw new Error(`${id}: ${valued} values, expected ${want}`);
      if (i >= READ_WARMUP) times.push(ms);
    }
    for (const p of [50, 99])
      emit(
        figure(
          BENCH,
          `read_30d_${resolution}_p${p}`,
          percentile(times, p),
          'ms',
          {
            name: `the same meters' 30 days of meter_intervals rows by SQL from the bench (p${p})`,
            value: percentile(sqlTimes, p),
            lowerIsBetter: true,
          },
          notes,
        ),
      );
  }
}
