import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { MemoryRateLimitStore } from '../../src/connectors/http/index.ts';
import { MemoryPublisher } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import type { DeadLetter, RawElectricityMaps, RawEntsoeDocument } from '../../src/contracts/index.ts';
import {
  MemoryJobRunStore,
  MemoryLeaseStore,
  MemoryReplayedDocumentStore,
  createSchedulerRole,
  parseSchedulerConfig,
} from '../../src/scheduler/index.ts';
import type { ReplayStatus } from '../../src/scheduler/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../helpers/fake-entsoe.ts';
import { DATA } from '../helpers/fixtures.ts';

const stores = () => ({
  rateLimits: new MemoryRateLimitStore(),
  leases: new MemoryLeaseStore(),
  runs: new MemoryJobRunStore(),
  replayed: new MemoryReplayedDocumentStore(),
});

describe('scheduler role', () => {
  it('without ENTSOE_TOKEN: offline replay of the bundled documents, and no cron jobs', async () => {
    const entsoe = new MemoryPublisher<RawEntsoeDocument>();
    const { logger, lines } = captureLogger();
    const role = createSchedulerRole({
      config: loadConfig({}),
      logger,
      entsoe,
      electricityMaps: new MemoryPublisher<RawElectricityMaps>(),
      deadLetters: new MemoryPublisher<DeadLetter>(),
      stores: stores(),
    });
    assert.equal(role.mode, 'offline-replay');
    assert.equal(role.scheduler, undefined);
    // No ENTSO-E client to hand to the gap healer: the runtime builds none, nothing is asked upstream.
    assert.equal(role.entsoe, undefined);
    assert.equal(role.isLeader(), false);
    await role.start();
    while (entsoe.values.length === 0) await new Promise((r) => setTimeout(r, 5));
    await role.stop();
    assert.equal(entsoe.values[0]!.origin, 'replay');
    assert.ok(lines.some((l) => l.includes('OFFLINE REPLAY')));
  });

  it('reports replay progress in its connector status: bundled, published, skipped, passes, last file, idle', async () => {
    const files = readdirSync(join(DATA, 'replay', 'entsoe'))
      .filter((f) => f.endsWith('.xml'))
      .sort();
    const replayed = new MemoryReplayedDocumentStore();
    const build = (entsoe: MemoryPublisher<RawEntsoeDocument>) =>
      createSchedulerRole({
        config: loadConfig({}),
        schedule: parseSchedulerConfig({ replay: { intervalMs: 10 } }, loadReference()),
        logger: silentLogger(),
        entsoe,
        electricityMaps: new MemoryPublisher<RawElectricityMaps>(),
        deadLetters: new MemoryPublisher<DeadLetter>(),
        stores: { ...stores(), replayed },
      });
    const replay = (status: { readonly replay: ReplayStatus | null }): ReplayStatus => {
      assert.ok(status.replay !== null);
      return status.replay;
    };
    const first = new MemoryPublisher<RawEntsoeDocument>();
    let role = build(first);
    assert.deepEqual(role.status(), { mode: 'offline-replay', leader: null, replay: null }, 'not started: no progress');
    await role.start();
    while (!replay(role.status()).idle) await new Promise((r) => setTimeout(r, 5));
    await role.stop();
    const done = replay(role.status());
    assert.equal(done.state, 'stopped');
    assert.deepEqual(
      { ...done, cycles: undefined, last_published_at: undefined },
      {
        state: 'stopped',
        documents: files.length,
        published: files.length,
        skipped: (done.cycles - 1) * files.length,
        pending: 0,
        cycles: undefined,
        last_file: files.at(-1),
        last_published_at: undefined,
        idle: true,
        interval_ms: 10,
      },
    );
    assert.ok(done.cycles >= 2, 'the publishing pass, then one that found nothing new');
    assert.equal(new Date(done.last_published_at ?? '').toISOString(), done.last_published_at);
    assert.equal(first.values.length, files.length);

    // The same store after a restart: everything is skipped, nothing published, idle from the first pass.
    const second = new MemoryPublisher<RawEntsoeDocument>();
    role = build(second);
    await role.start();
    while (replay(role.status()).cycles === 0) await new Promise((r) => setTimeout(r, 5));
    await role.stop();
    const restarted = replay(role.status());
    assert.deepEqual(
      [restarted.published, restarted.skipped, restarted.idle, restarted.last_file, restarted.last_published_at],
      [0, files.length * restarted.cycles, true, null, null],
    );
    assert.equal(second.values.length, 0);
  });

  it('with a token: live cron jobs (hourly, daily, day-ahead), and dead-letter replay through the right client', async (t) => {
    const fake = await FakeEntsoe.start();
    t.after(() => fake.close());
    const entsoe = new MemoryPublisher<RawEntsoeDocument>();
    const { logger, lines } = captureLogger();
    const role = createSchedulerRole({
      config: loadConfig({ ENTSOE_TOKEN: TEST_TOKEN, ENTSOE_BASE_URL: fake.url }),
      logger,
      entsoe,
      electricityMaps: new MemoryPublisher<RawElectricityMaps>(),
      deadLetters: new MemoryPublisher<DeadLetter>(),
      stores: stores(),
    });
    assert.equal(role.mode, 'live');
    assert.equal(role.replayer, undefined);
    assert.ok(role.entsoe !== undefined, 'the ingestor the gap healer asks through');
    assert.equal(role.status().replay, null);
    const letter = {
      id: 'x',
      stage: 'ingestion',
      reason: 'network_error',
      message: 'm',
      retryable: true,
      source: null,
      attempts: 5,
      firstFailureAt: '2025-10-21T10:00:00Z',
      lastFailureAt: '2025-10-21T10:01:00Z',
      payload: '{}',
      payloadEncoding: 'json',
      request: {
        documentType: 'A75',
        processType: 'A16',
        domains: { in_Domain: '10Y1001A1001A47J' },
        periodStart: '2025-10-21T00:00:00Z',
        periodEnd: '2025-10-22T00:00:00Z',
        zones: ['SE_4'],
      },
      httpStatus: null,
      replays: 0,
    } satisfies DeadLetter;
    assert.deepEqual(await role.replay(letter), { deadLetters: 0 });
    assert.equal(entsoe.values[0]!.origin, 'dlq-replay');
    const emapsLetter = {
      ...letter,
      request: { source: 'electricitymaps', endpoint: 'power-breakdown/latest', zone: 'DE' },
    };
    await assert.rejects(role.replay(emapsLetter), /Electricity Maps token/);
    assert.ok(lines.every((l) => !l.includes(TEST_TOKEN)));
  });
});
