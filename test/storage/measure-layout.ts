/**
 * Measures the meter-readings layout choices on a private PostgreSQL cluster with a deliberately small buffer pool
 * (so that an index outgrows memory at a row count a laptop handles): time-ordered ingest (every device reports,
 * then the clock advances) into
 *   a. one table, primary key (device_id, quantity, ts)
 *   b. one table, primary key (ts, device_id, quantity)
 *   c. daily partitions, primary key (device_id, quantity, ts)
 *   d. partitions small enough for the active one's index to fit the buffer pool (2 h here; a day at production
 *      scale, where shared_buffers is GBs), primary key (device_id, quantity, ts)
 * reporting steady-state rows/s (last quarter of the batches), WAL bytes per row, index size, and the time of a
 * one-device one-day read. Run by hand: `node test/storage/measure-layout.ts [devices] [slots]`.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startPrivateCluster } from './private-cluster.ts';

const DEVICES = Number(process.argv[2] ?? 10_000);
const SLOTS = Number(process.argv[3] ?? 480);
const SLOTS_PER_BATCH = 8;
const START = Date.UTC(2025, 0, 1);

const VARIANTS: Record<string, { hours: number; pk: string }> = {
  'a: one table, PK (device_id, quantity, ts)': { hours: 0, pk: 'device_id, quantity, ts' },
  'b: one table, PK (ts, device_id, quantity)': { hours: 0, pk: 'ts, device_id, quantity' },
  'c: daily partitions, PK (device_id, quantity, ts)': { hours: 24, pk: 'device_id, quantity, ts' },
  'd: 2-hour partitions, PK (device_id, quantity, ts)': { hours: 2, pk: 'device_id, quantity, ts' },
};
const ONLY = process.argv[4]?.split(',');

function batchText(firstSlot: number): string {
  const lines: string[] = [];
  for (let s = firstSlot; s < firstSlot + SLOTS_PER_BATCH && s < SLOTS; s++) {
    const ts = new Date(START + s * 900_000).toISOString();
    for (let d = 0; d < DEVICES; d++) {
      lines.push(`meter-${(d * 7919) % DEVICES}\tenergy_import\t${ts}\t${(d % 97) / 10}\tkWh\tsmart_meter\n`);
    }
  }
  return lines.join('');
}

const cluster = await startPrivateCluster({ shared_buffers: '16MB', max_wal_size: '4GB', checkpoint_timeout: '30s' });
const pool = new pg.Pool({ connectionString: cluster.url, max: 2 });
try {
  for (const [name, v] of Object.entries(VARIANTS)) {
    if (ONLY !== undefined && !ONLY.includes(name.charAt(0))) continue;
    await pool.query('DROP TABLE IF EXISTS readings CASCADE');
    await pool.query(
      `CREATE TABLE readings (device_id text NOT NULL, quantity text NOT NULL, ts timestamptz NOT NULL,
         value double precision NOT NULL, unit text NOT NULL, kind text NOT NULL, PRIMARY KEY (${v.pk}))
       ${v.hours > 0 ? 'PARTITION BY RANGE (ts)' : ''}`,
    );
    const span = v.hours * 3_600_000;
    for (let k = 0; span > 0 && k * span < SLOTS * 900_000; k++) {
      const from = new Date(START + k * span).toISOString();
      const to = new Date(START + (k + 1) * span).toISOString();
      await pool.query(`CREATE TABLE readings_p${k} PARTITION OF readings FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
    await pool.query('CHECKPOINT');
    const client = await pool.connect();
    const times: number[] = [];
    const walStart = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    for (let s = 0; s < SLOTS; s += SLOTS_PER_BATCH) {
      const text = batchText(s);
      const t0 = performance.now();
      await pipeline(Readable.from([text]), client.query(copyFrom('COPY readings FROM STDIN')));
      times.push(performance.now() - t0);
    }
    const wal = (
      await client.query<{ bytes: number }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::float8 AS bytes', [
        walStart,
      ])
    ).rows[0]!.bytes;
    const size = (
      await client.query<{ bytes: number }>(
        `SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0)::float8 AS bytes FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname LIKE 'readings%'`,
      )
    ).rows[0]!.bytes;
    const q0 = performance.now();
    for (let k = 0; k < 20; k++) {
      await client.query(
        `SELECT sum(value) FROM readings WHERE device_id = $1 AND quantity = 'energy_import' AND ts >= $2 AND ts < $3`,
        [`meter-${k * 37}`, new Date(START + 86_400_000).toISOString(), new Date(START + 2 * 86_400_000).toISOString()],
      );
    }
    const readMs = (performance.now() - q0) / 20;
    client.release();
    const tail = times.slice(Math.floor(times.length * 0.75));
    const rowsPerBatch = DEVICES * SLOTS_PER_BATCH;
    const steady = (rowsPerBatch * tail.length) / (tail.reduce((a, b) => a + b, 0) / 1000);
    const total = (DEVICES * SLOTS) / (times.reduce((a, b) => a + b, 0) / 1000);
    process.stdout.write(
      `${JSON.stringify({
        variant: name,
        rows: DEVICES * SLOTS,
        rows_per_s_overall: Math.round(total),
        rows_per_s_last_quarter: Math.round(steady),
        wal_bytes_per_row: Math.round(wal / (DEVICES * SLOTS)),
        index_mb: Math.round(size / 1e6),
        one_device_day_read_ms: Math.round(readMs * 100) / 100,
      })}\n`,
    );
  }
} finally {
  await pool.end();
  await cluster.remove();
}
