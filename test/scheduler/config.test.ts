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
  it('defaults: core zones and their neighbours, actuals and forecasts, hourly 3 h and daily 72 h jobs', () => {
    const config = parseSchedulerConfig({}, reference);
    for (const z of [...CORE_ZONES, 'AT', 'CH', 'PT', 'SI', 'NL']) assert.ok(config.zones.includes(z), z);
    assert.ok(DEFAULT_ZONES.every((z) => reference.hasZone(z)));
    assert.deepEqual(config.documents, ['A75', 'A65', 'A44', 'A11', 'A69', 'A69:A40', 'A71', 'A65:A01']);
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
    // The request budget of one run: one request per zone and item, two per border.
    const zoneItems = config.documents.filter((d) => d !== 'A11').length;
    assert.equal(requests.length, zoneItems * config.zones.length + 2 * config.borders.length);
  });

  it("a job run asks for forecasts up to the end of the zone's next local day, actuals for its window only", () => {
    const config = parseSchedulerConfig({}, reference);
    const window = { start: Date.parse('2024-05-01T07:00Z'), end: Date.parse('2024-05-01T10:00Z') };
    const requests = scopeRequests(config, window, reference, { ahead: true });
    const of = (type: string, process: string, zone: string) =>
      requests.find((r) => r.documentType === type && r.processType === process && r.zones[0] === zone);
    // Paris and Lisbon: tomorrow (2 May) ends at 22:00Z and 23:00Z in summer time.
    for (const [type, process] of [
      ['A69', 'A01'],
      ['A69', 'A40'],
      ['A71', 'A01'],
      ['A65', 'A01'],
    ] as const) {
      assert.deepEqual(
        [of(type, process, 'FR')?.periodStart, of(type, process, 'FR')?.periodEnd],
        ['2024-05-01T07:00:00Z', '2024-05-02T22:00:00Z'],
      );
      assert.equal(of(type, process, 'PT')?.periodEnd, '2024-05-02T23:00:00Z');
    }
    assert.equal(of('A75', 'A16', 'FR')?.periodEnd, '2024-05-01T10:00:00Z');
    assert.equal(of('A65', 'A16', 'FR')?.periodEnd, '2024-05-01T10:00:00Z');
    // Without `ahead` (backfills of a past range) the forecasts keep the range asked for.
    const plain = scopeRequests(config, window, reference);
    assert.ok(plain.every((r) => r.periodEnd === '2024-05-01T10:00:00Z'));
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
    // A75, A65, A44 and the forecasts A69, A69:A40, A71, A65:A01 for SE_4; no borders.
    assert.deepEqual([outcome.requests, outcome.errors], [7, 0]);
    // The forecasts asked for the coming day: to the end of 22 October in Stockholm (22:00Z in summer time).
    const forecasts = fake.requests.filter(
      (q) => ['A69', 'A71'].includes(q.params['documentType'] ?? '') || q.params['processType'] === 'A01',
    );
    assert.equal(forecasts.length, 4);
    for (const q of forecasts)
      assert.deepEqual([q.params['periodStart'], q.params['periodEnd']], ['202510210700', '202510222200']);
    const actual = fake.requests.find((q) => q.params['documentType'] === 'A75');
    assert.equal(actual?.params['periodEnd'], '202510211000');
    // The run names its zones, so zone-limited API keys see it (GET /api/v1/admin/jobs).
    assert.deepEqual(outcome.details?.['zones'], ['SE_4']);
    assert.ok(outcome.documents >= 1 && outcome.points > 0);
    assert.ok(published.values.every((d) => d.origin === 'api' && d.request?.zones[0] === 'SE_4'));
  });
});
