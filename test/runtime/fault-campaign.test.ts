import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { createKafkaLog } from '../../src/log/kafka/index.ts';
import type { Log } from '../../src/log/index.ts';
import { importMeters, METERS_GROUP } from '../../src/meters/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { loadOffsets, migrate, openDb } from '../../src/storage/index.ts';
import {
  allDeadLetters,
  checkGrid,
  checkMeters,
  expectedGrid,
  fleetCsv,
  meterLoad,
  progress,
  progressMonitor,
  readAll,
  readinessWatcher,
  seeded,
} from '../helpers/fault-campaign.ts';
import { FakeEntsoe, TEST_TOKEN, type FakeRequest } from '../helpers/fake-entsoe.ts';
import { privateBroker, type PrivateBroker } from '../helpers/kafka-broker.ts';
import { freePort, kafkaBrokers, tempDir, testDatabaseUrl } from '../helpers/services.ts';
import { Worker } from '../helpers/workers.ts';
import { havePgBinaries, startPrivateCluster, type PrivateCluster } from '../storage/private-cluster.ts';

/**
 * The fault campaign of distributed mode: every role in its own process on a private Kafka broker and a private
 * PostgreSQL cluster (never the shared ones, which other suites use), under a steady load of grid documents (the
 * scheduler polling a fake ENTSO-E that answers with real documents) and meter readings (posted to the ingest
 * gateway). Faults drawn from a seed: `kill -9` of random workers (started again at once, under their instance id),
 * a restart of the broker, an immediate-mode restart of PostgreSQL, and responses cut mid-body by the upstream.
 * Afterwards, once every group has committed everything, nothing acknowledged may be lost, duplicated or altered.
 *
 * GRIDSTREAM_FAULT_SEED replays a campaign; GRIDSTREAM_FAULT_COUNT makes it longer (10 by default).
 */

const KEY = 'gs_fault_admin_key_Qm7Xv3Lp9Kz2Wr6Tn4Hy8';
const METERS = 20;
const SEED = Number(process.env['GRIDSTREAM_FAULT_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env['GRIDSTREAM_FAULT_COUNT'] ?? 10);
/** Worker processes: two per consumer-group role, one of the others. */
const WORKERS: readonly (readonly [name: string, roles: string])[] = [
  ['ingest-1', 'ingest'],
  ['api-1', 'api'],
  ['scheduler-1', 'scheduler'],
  ['process-1', 'process'],
  ['process-2', 'process'],
  ['store-1', 'store'],
  ['store-2', 'store'],
  ['meters-1', 'meters'],
  ['meters-2', 'meters'],
  ['downstream-1', 'quality,settle,alerts'],
];

type Fault = { readonly kind: 'kill'; readonly worker: Worker } | { readonly kind: 'kafka' | 'postgres' | 'upstream' };

interface FaultRecord {
  readonly n: number;
  readonly what: string;
  readonly start: number;
  end: number;
  detected: string;
  /** When a killed worker's own start-up check saw its `/readyz` answer 200 again. */
  readyAt?: number;
}

/** The fault sequence: the infrastructure faults, the rest kills spread over the roles, in seeded order. */
function plan(rng: ReturnType<typeof seeded>, count: number, workers: readonly Worker[]): Fault[] {
  // Per ten faults: one broker restart, one PostgreSQL restart, one upstream cut; kills make up the rest.
  const tens = Math.ceil(count / 10);
  const fixed: Fault[] = [];
  for (let i = 0; i < tens; i++) fixed.push({ kind: 'kafka' }, { kind: 'postgres' });
  for (let i = 1; i < tens; i++) fixed.push({ kind: 'upstream' });
  const roles = [...new Set(workers.map((w) => w.roles))];
  for (let i = roles.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [roles[i], roles[j]] = [roles[j] ?? '', roles[i] ?? ''];
  }
  const kills: Fault[] = [];
  for (let i = 0; i < Math.max(0, count - 1 - fixed.length); i++) {
    const role = roles[i % roles.length];
    kills.push({ kind: 'kill', worker: rng.pick(workers.filter((w) => w.roles === role)) });
  }
  const rest = [...fixed, ...kills].slice(0, Math.max(0, count - 1));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [rest[i], rest[j]] = [rest[j] ?? { kind: 'kafka' }, rest[i] ?? { kind: 'kafka' }];
  }
  // The upstream cut comes first: the scheduler polls once a minute, so it must be armed early to be hit.
  return count > 0 ? [{ kind: 'upstream' }, ...rest] : [];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(
  `fault campaign (seed ${SEED}, ${COUNT} faults): nothing acknowledged is lost, duplicated or altered`,
  {
    timeout: 600_000,
  },
  async (t) => {
    // The shared services are only asked about to honour GRIDSTREAM_TEST_REQUIRE_SERVICES; everything runs on
    // private instances.
    if (kafkaBrokers(t) === undefined || testDatabaseUrl(t) === undefined) return;
    if (!(await havePgBinaries())) {
      if (process.env['GRIDSTREAM_TEST_REQUIRE_SERVICES'] === '1') assert.fail('PostgreSQL server binaries missing');
      t.skip('PostgreSQL server binaries missing');
      return;
    }
    const began = Date.now();
    const rng = seeded(SEED);
    process.stderr.write(
      `# fault campaign: seed ${SEED}, ${COUNT} faults (GRIDSTREAM_FAULT_SEED=${SEED} replays it)\n`,
    );
    const dir = await tempDir('gridstream-faults-');
    const workers: Worker[] = [];
    const running: { stop(): Promise<void> }[] = [];
    const cleanups: (() => Promise<unknown>)[] = [() => dir.remove()];
    t.after(async () => {
      // After a failure too: the load, the monitors, every process, the private servers and their files go.
      await Promise.all(running.map((r) => r.stop()));
      await Promise.all(workers.map((w) => w.kill()));
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });
    const started = await Promise.allSettled([
      privateBroker(join(dir.path, 'kafka')).then((b) => {
        cleanups.push(() => b.kafka('reset'));
        return b;
      }),
      startPrivateCluster({ max_connections: '400' }).then((c) => {
        cleanups.push(() => c.remove());
        return c;
      }),
      FakeEntsoe.start({ ignorePeriod: true }).then((f) => {
        cleanups.push(() => f.close());
        return f;
      }),
    ] as const);
    const [brokerStart, pgStart, fakeStart] = started;
    if (brokerStart.status === 'rejected') throw brokerStart.reason;
    if (pgStart.status === 'rejected') throw pgStart.reason;
    if (fakeStart.status === 'rejected') throw fakeStart.reason;
    const broker: PrivateBroker = brokerStart.value;
    const cluster: PrivateCluster = pgStart.value;
    const upstream: FakeEntsoe = fakeStart.value;
    const brokers = broker.brokers;
    const log: Log = await createKafkaLog({
      brokers,
      clientId: 'fault-campaign',
      logger: silentLogger(),
      operationTimeoutMs: 10_000,
      reconnectTimeoutMs: 10_000,
    });
    cleanups.push(() => log.close());
    const db: Db = await openDb({ url: cluster.url, dataDir: dir.path, logger: silentLogger() });
    cleanups.push(() => db.close());
    await migrate(db, { logger: silentLogger() });
    const imported = await importMeters(db, loadReference(), fleetCsv(METERS));
    assert.equal(imported.inserted, METERS, JSON.stringify(imported.rejects));
    const schedulerConfig = join(dir.path, 'scheduler.json');
    writeFileSync(
      schedulerConfig,
      JSON.stringify({
        zones: ['FI', 'LU', 'SE_4'],
        borders: [],
        documents: ['A75', 'A44'],
        jobs: [{ name: 'fault-campaign', cron: '* * * * *', lookbackHours: 3 }],
      }),
    );

    const ingestPort = await freePort();
    const base = {
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: cluster.url,
      GRIDSTREAM_ADMIN_KEY: KEY,
      ENTSOE_TOKEN: TEST_TOKEN,
      ENTSOE_BASE_URL: upstream.url,
      GRIDSTREAM_SCHEDULER_CONFIG: schedulerConfig,
      GRIDSTREAM_LOG_LEVEL: 'warn',
      GRIDSTREAM_LOG_FORMAT: 'json',
      GRIDSTREAM_SIMULATED_METERS: '0',
      GRIDSTREAM_SHUTDOWN_GRACE_MS: '10000',
      GRIDSTREAM_INGEST_PORT: String(ingestPort),
    };
    for (const [name, roles] of WORKERS) {
      const port = await freePort();
      workers.push(
        new Worker(name, roles, port, {
          ...base,
          GRIDSTREAM_DATA_DIR: join(dir.path, name),
          GRIDSTREAM_INSTANCE_ID: name,
          ...(roles === 'api' ? { GRIDSTREAM_PORT: String(port) } : { GRIDSTREAM_METRICS_PORT: String(port) }),
        }),
      );
    }
    for (const w of workers) w.start();
    await Promise.all(workers.map((w) => w.waitReady(180_000)));
    const startedAt = Date.now();
    process.stderr.write(`# fault campaign: ${workers.length} workers ready after ${startedAt - began} ms\n`);

    const testLog = log;
    const scheduler = workers.find((w) => w.name === 'scheduler-1');
    assert.ok(scheduler !== undefined);
    const readiness = readinessWatcher(workers);
    const monitor = progressMonitor(testLog);
    const load = meterLoad({
      url: () => `http://127.0.0.1:${ingestPort}/ingest/meters`,
      key: KEY,
      meters: METERS,
      intervalMs: 200,
    });
    running.push(readiness, monitor, { stop: () => load.stop({ abandon: true }) });
    // The scheduler counts each attempt's outcome by status: `ok`, or the HTTP status of a failed one (`200` for a
    // body cut short). Read while it runs: a scheduler killed and started again counts from 0.
    const upstreamErrors = new Map<string, number>();
    const scraping = new AbortController();
    const scraper = (async () => {
      while (!scraping.signal.aborted) {
        const samples = await scheduler.metric('gridstream_upstream_requests_total');
        for (const [labels, value] of samples) {
          if (!labels.includes('status="ok"'))
            upstreamErrors.set(labels, Math.max(value, upstreamErrors.get(labels) ?? 0));
        }
        await sleep(1000);
      }
    })();
    running.push({
      stop: async () => {
        scraping.abort();
        await scraper;
      },
    });
    const faults: FaultRecord[] = [];
    const recoveries: Promise<void>[] = [];
    for (const [n, fault] of plan(rng, COUNT, workers).entries()) {
      await sleep(rng.int(3000, 7000));
      const record: FaultRecord = { n: n + 1, what: '', start: Date.now(), end: 0, detected: '' };
      faults.push(record);
      switch (fault.kind) {
        case 'kill': {
          const w = fault.worker;
          Object.assign(record, { what: `kill -9 ${w.name} (${w.roles})` });
          await w.kill();
          await sleep(rng.int(200, 2000));
          w.start();
          recoveries.push(
            w.waitReady(180_000).then(() => {
              record.readyAt = Date.now();
            }),
          );
          break;
        }
        case 'kafka':
          Object.assign(record, { what: 'restart the Kafka broker' });
          await broker.kafka('restart');
          break;
        case 'postgres':
          Object.assign(record, { what: 'restart PostgreSQL (immediate mode)' });
          await cluster.stop('immediate');
          await sleep(rng.int(500, 2000));
          await cluster.start();
          break;
        case 'upstream':
          Object.assign(record, { what: 'cut the next ENTSO-E response mid-body' });
          upstream.fail('truncated', { times: 1 });
          break;
      }
      record.end = Date.now();
      process.stderr.write(`# fault ${record.n}: ${record.what} at +${record.start - startedAt} ms\n`);
    }
    await Promise.all(recoveries);
    // Every cut must have happened before the load stops (the scheduler polls once a minute), the k-th cut fault
    // meeting the k-th cut response; and each cut request asked again (the client's retry, or the next run's).
    const armed = faults.filter((f) => f.what.startsWith('cut')).length;
    const cuts = () => upstream.requests.filter((r) => r.answer === 'truncated');
    const deadline = Date.now() + 90_000;
    while (cuts().length < armed) {
      assert.ok(Date.now() < deadline, `the scheduler met ${cuts().length} of ${armed} upstream cuts`);
      await sleep(500);
    }
    const same = (a: FakeRequest, b: FakeRequest) => JSON.stringify(a.params) === JSON.stringify(b.params);
    const retryOf = (cut: FakeRequest) =>
      upstream.requests.find((r) => r.at > cut.at && same(r, cut) && r.answer !== 'truncated');
    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(250)) {
      if (cuts().every((c) => retryOf(c) !== undefined) && upstreamErrors.size > 0) break;
    }
    await load.stop();
    await scheduler.stop();
    const loadEnded = Date.now();

    // Drained: every group has committed the end of every partition of its inputs (and the meters role has stored
    // its offsets with its output). Never "until the counts stop changing".
    const drainDeadline = Date.now() + 180_000;
    for (;;) {
      const p = await progress(testLog).catch(() => undefined);
      const ends = await testLog.offsets('raw.meters');
      const stored = await loadOffsets(db, METERS_GROUP, 'raw.meters');
      const metersBehind = ends.some(
        (e) => e.next > 0 && (stored.find((s) => s.partition === e.partition)?.offset ?? 0) < e.next,
      );
      if (p !== undefined && p.lagging.length === 0 && !metersBehind) break;
      assert.ok(Date.now() < drainDeadline, `not drained: ${JSON.stringify(p?.lagging)}`);
      await sleep(250);
    }
    const drainedAt = Date.now();
    await monitor.stop();
    await readiness.stop();

    // What was acknowledged and what the database holds.
    const meters = await checkMeters(db, load.acknowledged);
    const grid = expectedGrid(await readAll(testLog, 'raw.entsoe'));
    const stored = await checkGrid(db, grid.observations, grid.conflicts);
    const letters = await allDeadLetters(testLog, ['dlq-ingestion', 'dlq-processing', 'dlq-storage']);

    // How each fault was seen.
    for (const f of faults) {
      const after = readiness.changes.filter((c) => c.at >= f.start && c.at <= f.end + 20_000);
      if (f.what.startsWith('kill')) {
        const name = f.what.split(' ')[2] ?? '';
        const down = after.find((c) => c.worker === name && c.status === 'down');
        // 200 again: seen by the watcher, or by the restart's own wait for readiness (which polls more often: a
        // worker restarted last may be stopped before the watcher's next round reaches it).
        const seen = readiness.changes.find((c) => c.worker === name && c.at > f.start && c.status === 200)?.at;
        const up = [seen, f.readyAt].filter((at) => at !== undefined).sort((a, b) => a - b)[0];
        f.detected =
          `/readyz of ${name} unreachable after ${down === undefined ? '?' : down.at - f.start} ms, ` +
          `200 again ${up === undefined ? 'never' : `after ${up - f.start} ms`}`;
      } else if (f.what.startsWith('cut')) {
        const cut = cuts()[faults.filter((g) => g.what.startsWith('cut')).indexOf(f)];
        const retried = cut === undefined ? undefined : retryOf(cut);
        const failed = [...upstreamErrors];
        f.detected =
          `upstream cut at +${cut === undefined ? '?' : cut.at - startedAt} ms, request retried ${retried === undefined ? 'never' : `after ${retried.at - (cut?.at ?? 0)} ms`}; ` +
          `scheduler metrics: ${failed.map(([l, v]) => `gridstream_upstream_requests_total${l} ${v}`).join(', ') || 'none'}`;
      } else {
        const failing = after.filter((c) => c.status !== 200 && c.status !== 'down');
        const first = failing[0];
        const warnings = workers.flatMap((w) =>
          w.warnings(f.start, f.end + 20_000).map((x) => ({ ...x, worker: w.name })),
        );
        const firstWarning = warnings.sort((a, b) => a.time - b.time)[0];
        f.detected =
          `${new Set(failing.map((c) => c.worker)).size} workers' /readyz not ready ` +
          `(${[...new Set(failing.map((c) => c.status))].join(', ') || '—'}${first === undefined ? '' : `; first ${first.worker} after ${first.at - f.start} ms${first.body === '' ? '' : `: ${first.body.slice(0, 100)}`}`}); ` +
          `${warnings.length} warnings logged by ${new Set(warnings.map((w) => w.worker)).size} workers` +
          `${firstWarning === undefined ? '' : ` (first after ${firstWarning.time - f.start} ms: "${firstWarning.msg.slice(0, 80)}")`}; ` +
          `${load.failuresBetween(f.start, f.end + 20_000)} gateway posts failed`;
      }
    }
    const longest = monitor.longest();
    const loadStats = load.stats();
    const report = [
      `fault campaign: seed ${SEED}, ${faults.length} faults, ${workers.length} workers; ` +
        `load ${loadEnded - startedAt} ms, drained ${drainedAt - loadEnded} ms after, total ${Date.now() - began} ms`,
      ...faults.map((f) => `  ${f.n}. +${f.start - startedAt} ms (${f.end - f.start} ms) ${f.what} — ${f.detected}`),
      ...workers.flatMap((w) =>
        w.crashes.map(
          (c) =>
            `  ${w.name} exited on its own at +${c.at - startedAt} ms (code ${c.code}) and was started again: ${c.log.replace(/\s+/g, ' ').slice(-200)}`,
        ),
      ),
      `longest stall of the consumer groups: ${longest.ms} ms (from +${longest.from - startedAt} ms)` +
        `; longest wait for a gateway acknowledgement: ${loadStats.longestGapMs} ms`,
      `meters: ${load.acknowledged.size} readings acknowledged (${loadStats.batches} batches, ${loadStats.attempts} posts, ${loadStats.failures} failed and sent again); ` +
        `${meters.stored} stored, lost ${meters.lost.length}, extra ${meters.extra.length}, corrupted ${meters.corrupted.length}, revisions ${meters.revisions}`,
      `grid: ${grid.documents} documents on raw.entsoe, ${grid.observations.size} observations expected, ${stored.stored} stored, ` +
        `lost ${stored.lost.length}, extra ${stored.extra.length}, corrupted ${stored.corrupted.length}, revisions ${stored.revisions}`,
      `dead letters: ${letters.length} (${[...new Set(letters.map((l) => `${l.stage}:${l.reason}`))].join(', ') || 'none'}); ` +
        `fake ENTSO-E answered ${upstream.requests.length} requests`,
    ];
    process.stderr.write(`${report.map((l) => `# ${l}`).join('\n')}\n`);
    for (const line of report) t.diagnostic(line);

    // Every fault took effect and was recovered from: a killed worker was ready again, a cut request was asked again.
    const unrecovered = faults.filter((f) => /200 again never|retried never/.test(f.detected));
    assert.deepEqual(
      unrecovered.map((f) => `${f.what}: ${f.detected}`),
      [],
      'faults not recovered from',
    );
    assert.deepEqual(meters.lost.slice(0, 10), [], 'acknowledged readings lost');
    assert.deepEqual(meters.extra.slice(0, 10), [], 'readings stored that were never sent');
    assert.deepEqual(meters.corrupted.slice(0, 10), [], 'readings stored with another value');
    assert.equal(meters.stored, load.acknowledged.size);
    assert.ok(grid.documents > 0, 'no grid document reached raw.entsoe');
    assert.deepEqual(stored.lost.slice(0, 10), [], 'grid observations lost');
    assert.deepEqual(stored.extra.slice(0, 10), [], 'grid observations that no document holds');
    assert.deepEqual(stored.corrupted.slice(0, 10), [], 'grid observations with another value');
    assert.equal(stored.revisions, 0, 'replaying the same documents revised observations');
    // Dead letters: only the rejects the real documents hold (a document re-processed after a kill may repeat its
    // own), and no storage or ingestion failures.
    const allowed = new Set(['processing.invalid_document', 'processing.unsupported_document']);
    const unexplained = letters.filter((l) => !(l.stage === 'processing' && allowed.has(l.reason)));
    assert.deepEqual(
      unexplained.map((l) => `${l.stage}:${l.reason}: ${l.message.slice(0, 200)}`),
      [],
      'dead letters the faults do not explain',
    );
  },
);
