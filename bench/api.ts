import { ApiServer } from '../src/api/index.ts';
import { createEmbeddedLog } from '../src/log/index.ts';
import { createMetrics, silentLogger } from '../src/observability/index.ts';
import { loadReference } from '../src/reference/index.ts';
import { migrate, openDb, refreshRollups } from '../src/storage/index.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZONES = ['DE_LU', 'FR', 'ES', 'IT_NORD', 'PL', 'NL', 'BE', 'AT'];
const TYPES = 12;
const FROM = '2023-01-01T00:00:00Z';
const TO = '2026-01-01T00:00:00Z';
const KEY = 'bench-Wq7Lz3Xk9Pv2Rt6Ym4Hn8Js1Dc5Gb0Fa';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function timeRequests(urls: readonly string[]): Promise<number[]> {
  const times: number[] = [];
  for (const url of urls) {
    const start = performance.now();
    const r = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

async function requestsPerSecond(url: string, seconds: number, concurrency: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const r = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
        done++;
      }
    }),
  );
  return done / seconds;
}

export const apiBenchmark: Benchmark = {
  name: 'api',
  description: `API latency on PostgreSQL with ${ZONES.length} zones × ${TYPES} production types × 3 years of 15-minute data (~10M rows)`,
  needs: ['postgres'],
  async run(emit) {
    const url =
      process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
      process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
      'postgres://postgres@127.0.0.1:5432/test';
    const schema = `bench_api_${Date.now().toString(36)}`;
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-api-'));
    const db = await openDb({ url, dataDir: dir, schema, logger: silentLogger(), poolSize: 10 });
    const log = await createEmbeddedLog({ dir: join(dir, 'log') });
    let server: ApiServer | undefined;
    try {
      await migrate(db);
      let started = performance.now();
      for (const zone of ZONES) {
        await db.query(
          `INSERT INTO grid_observations (zone, metric, production_type, counterpart_zone, qualifier, slot_start, value, unit, source, document_id, revision)
           SELECT $1, 'generation_actual', 'B' || lpad(p::text, 2, '0'), '', '', ts,
                  greatest(0, 300 * p + 200 * sin(extract(epoch FROM ts) / 43200.0 + p)), 'MW', 'entsoe', 'bench', 1
           FROM generate_series(1, ${TYPES}) p, generate_series($2::timestamptz, $3::timestamptz - interval '15 minutes', interval '15 minutes') ts`,
          [zone, FROM, TO],
        );
      }
      await db.query(
        `INSERT INTO grid_series (zone, metric, production_type, counterpart_zone, qualifier, unit, source, first_slot, last_slot, dirty_from, dirty_to)
         SELECT zone, metric, production_type, counterpart_zone, qualifier, 'MW', 'entsoe', min(slot_start), max(slot_start), min(slot_start), max(slot_start)
         FROM grid_observations GROUP BY 1, 2, 3, 4, 5`,
      );
      // A steady-state store: vacuumed as autovacuum would have done by then, so that it does not run (on this
      // 2-core machine) in the middle of the measurement after the bulk load.
      await db.exec('VACUUM (ANALYZE) grid_observations');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM grid_observations');
      const loadMs = performance.now() - started;
      started = performance.now();
      const reference = loadReference();
      for (;;) if (!(await refreshRollups(db, (z) => reference.zone(z).timeZone, { limit: 20 })).remaining) break;
      await db.exec('VACUUM (ANALYZE) grid_rollup_daily, grid_rollup_hourly, grid_series');
      const rollupMs = performance.now() - started;
      process.stderr.write(
        `# api: ${rows[0]?.n ?? 0} rows loaded in ${Math.round(loadMs)} ms, rollups built in ${Math.round(rollupMs)} ms\n`,
      );

      server = new ApiServer({
        db,
        log,
        logger: silentLogger(),
        metrics: createMetrics({ defaultMetrics: false }),
        reference,
        host: '127.0.0.1',
        port: 0,
        adminKey: KEY,
        publicRead: false,
        defaultRatePerMinute: 10_000_000,
        version: 'bench',
        consumerGroups: [],
      });
      await server.start();
      const base = `http://127.0.0.1:${server.port}`;
      const yearUrls = (n: number) =>
        Array.from(
          { length: n },
          (_, i) =>
            `${base}/api/v1/series?zone=${ZONES[i % ZONES.length] ?? 'FR'}&metric=generation_actual&from=2025-01-01&to=2026-01-01&resolution=P1D`,
        );
      await timeRequests(yearUrls(8)); // warm-up
      // 400 requests: the p99 is the 4th slowest, not the single slowest of a short run.
      const year = await timeRequests(yearUrls(400));
      // Baseline: the same queries answered from the base table (rollups bypassed by marking every series dirty).
      await db.query('UPDATE grid_series SET dirty_from = first_slot, dirty_to = last_slot');
      const yearBase = await timeRequests(yearUrls(16));
      const notes = `${rows[0]?.n ?? 0} rows; a year of P1D for all ${TYPES} production types of a zone (${TYPES} × 365 points) over HTTP, ${year.length} requests one after another`;
      emit(
        figure(
          'api',
          'year_series_p50',
          percentile(year, 0.5),
          'ms',
          {
            name: 'same query from the base table (no rollups)',
            value: percentile(yearBase, 0.5),
            lowerIsBetter: true,
          },
          notes,
        ),
      );
      emit(
        figure(
          'api',
          'year_series_p99',
          percentile(year, 0.99),
          'ms',
          {
            name: 'same query from the base table (no rollups)',
            value: percentile(yearBase, 0.99),
            lowerIsBetter: true,
          },
          'aim: p99 ≤ 100 ms',
        ),
      );

      const mixUrls = Array.from(
        { length: 200 },
        (_, i) => `${base}/api/v1/mix?zone=${ZONES[i % ZONES.length] ?? 'FR'}`,
      );
      await timeRequests(mixUrls.slice(0, 10));
      const mix = await timeRequests(mixUrls);
      const health = await timeRequests(Array.from({ length: 200 }, () => `${base}/healthz`));
      emit(
        figure('api', 'latest_mix_p50', percentile(mix, 0.5), 'ms', {
          name: 'GET /healthz through the same server',
          value: percentile(health, 0.5),
          lowerIsBetter: true,
        }),
      );
      emit(
        figure('api', 'latest_mix_p99', percentile(mix, 0.99), 'ms', {
          name: 'GET /healthz through the same server',
          value: percentile(health, 0.99),
          lowerIsBetter: true,
        }),
      );
      const rps = await requestsPerSecond(`${base}/api/v1/mix?zone=DE_LU`, 8, 8);
      const healthRps = await requestsPerSecond(`${base}/healthz`, 4, 8);
      emit(
        figure(
          'api',
          'latest_mix_throughput',
          rps,
          'requests/s',
          { name: 'GET /healthz through the same server', value: healthRps },
          '8 concurrent clients, keep-alive',
        ),
      );
    } finally {
      await server?.stop({ graceMs: 1000 });
      await log.close();
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
