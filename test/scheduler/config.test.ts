import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../src/config/index.ts';
import { EntsoeClient, EntsoeIngestor } from '../../src/connectors/entsoe/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { MemoryRateLimitStore } from '../../src/connectors/http/index.ts';
import { MemoryPublisher } from '../../src/contracts/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import {
  CORE_ZONES,
  DEFAULT_ZONES,
  SchedulerError,
  entsoeJobs,
  parseSchedulerConfig,
  scopeRequests,
} from '../../src/scheduler/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../helpers/fake-entsoe.ts';

const reference = loadReference();

describe('scheduler configuration', () => {
  it('defaults: core zones and their neighbours, A75/A65/A44/A11, hourly 3 h and daily 72 h jobs', () => {
    const config = parseSchedulerConfig({}, reference);
    for (const z of [...CORE_ZONES, 'AT', 'CH', 'PT', 'SI', 'NL']) assert.ok(config.zones.includes(z), z);
    assert.ok(DEFAULT_ZONES.every((z) => reference.hasZone(z)));
    assert.deepEqual(config.documents, ['A75', 'A65', 'A44', 'A11']);
    const hourly = config.jobs.find((j) => j.name === 'entsoe-hourly');
    const daily = config.jobs.find((j) => j.name === 'entsoe-daily');
    assert.deepEqual([hourly?.cron, hourly?.lookbackHours], ['5 * * * *', 3]);
    assert.deepEqual([daily?.lookbackHours, daily?.timeZone], [72, 'Europe/Brussels']);
    assert.equal(config.requestsPerMinute, 400);
    assert.deepEqual(config.electricityMaps.zones, ['DE', 'FR', 'IT', 'ES']);
  });

  it('one request per zone and item, and per border in both directions', () => {
    const config = parseSchedulerConfig({}, reference);
    const requests = scopeRequests(
      config,
      { start: Date.parse('2024-05-01T07:00Z'), end: Date.parse('2024-05-01T10:00Z') },
      reference,
    );
    const count = (t: string) => requests.filter((r) => r.documentType === t).length;
    assert.equal(count('A75'), config.zones.length);
    assert.equal(count('A11'), 2 * config.borders.length);
    const flow = requests.find((r) => r.documentType === 'A11' && r.zones[0] === 'DE_LU' && r.zones[1] === 'FR');
    assert.deepEqual(flow?.domains, { out_Domain: '10Y1001A1001A82H', in_Domain: '10YFR-RTE------C' });
    assert.ok(requests.some((r) => r.documentType === 'A11' && r.zones[0] === 'FR' && r.zones[1] === 'DE_LU'));
  });

  it('rejects unknown zones, documents, cron expressions and duplicate job names, naming each', () => {
    assert.throws(() => parseSchedulerConfig({ zones: ['DE_LU', 'ATLANTIS'] }, reference), /ATLANTIS/);
    assert.throws(() => parseSchedulerConfig({ documents: ['A99'] }, reference), /documents/);
    assert.throws(
      () => parseSchedulerConfig({ jobs: [{ name: 'x', cron: 'every hour', lookbackHours: 3 }] }, reference),
      (e: unknown) => e instanceof SchedulerError && e.code === 'scheduler.invalid_config' && /cron/.test(e.message),
    );
    const job = { name: 'x', cron: '@hourly', lookbackHours: 3 };
    assert.throws(() => parseSchedulerConfig({ jobs: [job, job] }, reference), /x/);
  });

  it('a configured job fetches its window from the service and reports what it did', async (t) => {
    const fake = await FakeEntsoe.start();
    t.after(() => fake.close());
    const config = parseSchedulerConfig(
      { zones: ['SE_4'], borders: [], jobs: [{ name: 'h', cron: '5 * * * *', lookbackHours: 3 }] },
      reference,
    );
    const published = new MemoryPublisher<RawEntsoeDocument>();
    const { logger } = captureLogger();
    const ingestor = new EntsoeIngestor({
      client: new EntsoeClient({
        baseUrl: fake.url,
        token: new Secret(TEST_TOKEN),
        logger,
        rateLimits: new MemoryRateLimitStore(),
      }),
      publisher: published,
      deadLetters: new MemoryPublisher<DeadLetter>(),
      logger,
    });
    const [job] = entsoeJobs(config, ingestor, reference);
    const outcome = await job!.run({
      window: { start: Date.parse('2025-10-21T07:00Z'), end: Date.parse('2025-10-21T10:00Z') },
      scheduledFor: Date.parse('2025-10-21T10:05Z'),
      signal: new AbortController().signal,
      logger,
    });
    assert.deepEqual([outcome.requests, outcome.errors], [3, 0]); // A75, A65, A44 for SE_4; no borders
    // The run names its zones, so zone-limited API keys see it (GET /api/v1/admin/jobs).
    assert.deepEqual(outcome.details?.['zones'], ['SE_4']);
    assert.ok(outcome.documents >= 1 && outcome.points > 0);
    assert.ok(published.values.every((d) => d.origin === 'api' && d.request?.zones[0] === 'SE_4'));
  });
});
