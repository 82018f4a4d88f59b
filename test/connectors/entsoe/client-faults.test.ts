import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../../src/config/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../../../src/contracts/index.ts';
import { DeadLetterSchema, MemoryPublisher } from '../../../src/contracts/index.ts';
import type { EntsoeClientOptions } from '../../../src/connectors/entsoe/index.ts';
import { EntsoeClient, EntsoeIngestor, entsoeRequest } from '../../../src/connectors/entsoe/index.ts';
import { CircuitBreakers, MemoryRateLimitStore } from '../../../src/connectors/http/index.ts';
import type { Fault } from '../../helpers/fake-entsoe.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../../helpers/fake-entsoe.ts';
import { loadReference } from '../../../src/reference/index.ts';

const reference = loadReference();
const SE4_DAY = entsoeRequest(
  'A75',
  'SE_4',
  { start: Date.parse('2025-10-21T00:00Z'), end: Date.parse('2025-10-22T00:00Z') },
  reference,
);

describe('ENTSO-E client: faults, retries, dead letters', () => {
  let fake: FakeEntsoe;
  const capture = captureLogger();
  const options = (extra: Partial<EntsoeClientOptions> = {}): EntsoeClientOptions => ({
    baseUrl: fake.url,
    token: new Secret(TEST_TOKEN),
    logger: capture.logger,
    rateLimits: new MemoryRateLimitStore(),
    limit: { requestsPerMinute: 60_000 },
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 },
    timeoutMs: 300,
    ...extra,
  });
  before(async () => {
    fake = await FakeEntsoe.start();
  });
  after(async () => {
    await fake.close();
    // Every line any test of this file logged, faults included: the token must be in none of them.
    assert.ok(capture.lines.length > 20, 'the runs logged');
    for (const line of capture.lines) assert.ok(!line.includes(TEST_TOKEN), `token in a log line: ${line}`);
  });

  const transient: Fault[] = ['timeout', 'reset', { status: 503 }, { status: 502 }, 'truncated', 'html'];
  for (const fault of transient) {
    it(`retries after ${JSON.stringify(fault)} and then succeeds`, async () => {
      fake.heal();
      fake.fail(fault, { times: 2 });
      const before = fake.requests.length;
      const result = await new EntsoeClient(options()).fetch(SE4_DAY);
      assert.equal(result.failures.length, 0);
      assert.equal(result.documents.length, 1);
      assert.equal(fake.requests.length - before, 3, 'two failed attempts and one success');
    });
  }

  it('stops after maxAttempts and reports attempts, times and the last HTTP status', async () => {
    fake.heal();
    fake.fail({ status: 503 }, { times: 10 });
    const before = fake.requests.length;
    const result = await new EntsoeClient(options()).fetch(SE4_DAY);
    assert.equal(fake.requests.length - before, 4);
    const failure = result.failures[0]!;
    assert.equal(failure.attempts, 4);
    assert.equal(failure.httpStatus, 503);
    assert.ok(failure.firstFailureAt <= failure.lastFailureAt);
    fake.heal();
  });

  it('opens the circuit for a host that keeps failing, and closes it once the host is back', async () => {
    fake.heal();
    fake.fail({ status: 503 }, { times: 1000 });
    const breakers = new CircuitBreakers({ failureThreshold: 2, openMs: 200 });
    const client = new EntsoeClient(options({ breakers, retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 6 } }));
    const before = fake.requests.length;
    const result = await client.fetch(SE4_DAY);
    // Six attempts, but the open circuit held some back: fewer requests reached the host.
    assert.equal(result.failures[0]!.attempts, 6);
    assert.ok(fake.requests.length - before < 6, `${fake.requests.length - before} requests reached the host`);
    assert.ok(['open', 'half_open'].includes(breakers.states()[new URL(fake.url).host] ?? ''));
    fake.heal();
    await new Promise((r) => setTimeout(r, 450));
    const again = await client.fetch(SE4_DAY);
    assert.equal(again.documents.length, 1);
    assert.equal(breakers.states()[new URL(fake.url).host], 'closed');
  });

  it('dead-letters failures without the token, and a replay succeeds once the fault is gone', async () => {
    fake.heal();
    fake.fail('reset', { times: 100 });
    const published = new MemoryPublisher<RawEntsoeDocument>();
    const dlq = new MemoryPublisher<DeadLetter>();
    const ingestor = new EntsoeIngestor({
      client: new EntsoeClient(options()),
      publisher: published,
      deadLetters: dlq,
      logger: capture.logger,
    });
    const report = await ingestor.ingest(SE4_DAY);
    assert.equal(report.documents, 0);
    assert.equal(dlq.values.length, 1);
    const letter = DeadLetterSchema.parse(dlq.values[0]);
    assert.equal(letter.stage, 'ingestion');
    assert.equal(letter.reason, 'http.network_error');
    assert.equal(letter.retryable, true);
    assert.equal(letter.attempts, 4);
    assert.equal(letter.httpStatus, null);
    assert.deepEqual(letter.request, SE4_DAY);
    assert.ok(!JSON.stringify(letter).includes(TEST_TOKEN));

    fake.heal();
    const replayed = await ingestor.replay(letter);
    assert.equal(replayed.documents, 1);
    assert.equal(dlq.values.length, 1, 'no new dead letter');
    assert.equal(published.values[0]!.origin, 'dlq-replay');
  });

  it('never puts the token in errors, dead letters or logs, whatever fails', async () => {
    fake.heal();
    const faults: Fault[] = ['timeout', 'reset', 'truncated', { status: 500 }, 'too-large', 'unauthorized', 'html'];
    for (const f of faults) fake.fail(f, { times: 1 });
    fake.fail({ status: 404 }, { times: 1 });
    const dlq = new MemoryPublisher<DeadLetter>();
    const ingestor = new EntsoeIngestor({
      client: new EntsoeClient(options({ retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } })),
      publisher: new MemoryPublisher(),
      deadLetters: dlq,
      logger: capture.logger,
    });
    const client = new EntsoeClient(options({ retry: { maxAttempts: 1 } }));
    for (let i = 0; i < 6; i++) await ingestor.ingest(SE4_DAY);
    const result = await client.fetch(SE4_DAY);
    assert.ok(dlq.values.length >= 2);
    const everything = inspect([dlq.values, result], { depth: 20 }) + JSON.stringify(dlq.values);
    for (const f of result.failures) assert.ok(!inspect(f.error, { depth: 20 }).includes(TEST_TOKEN));
    assert.ok(!everything.includes(TEST_TOKEN));
    fake.heal();
  });
});
