import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../../src/config/index.ts';
import type { EntsoeClientOptions } from '../../../src/connectors/entsoe/index.ts';
import { EntsoeClient, entsoeRequest, formatEntsoeTime } from '../../../src/connectors/entsoe/index.ts';
import { MemoryRateLimitStore } from '../../../src/connectors/http/index.ts';
import { loadReference } from '../../../src/reference/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../../helpers/fake-entsoe.ts';

const reference = loadReference();
const at = (iso: string): number => Date.parse(iso);

function client(fake: FakeEntsoe, extra: Partial<EntsoeClientOptions> = {}): EntsoeClient {
  return new EntsoeClient({
    baseUrl: fake.url,
    token: new Secret(TEST_TOKEN),
    logger: captureLogger().logger,
    rateLimits: new MemoryRateLimitStore(),
    limit: { requestsPerMinute: 60_000 },
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
    timeoutMs: 2000,
    ...extra,
  });
}

describe('ENTSO-E client against the fake service', () => {
  let fake: FakeEntsoe;
  before(async () => {
    fake = await FakeEntsoe.start({ pageSize: 1 });
  });
  after(() => fake.close());

  it('sends the documented parameters and publishes the matching real document', async () => {
    const request = entsoeRequest(
      'A75',
      'SE_4',
      { start: at('2025-10-21T00:00Z'), end: at('2025-10-22T00:00Z') },
      reference,
    );
    const result = await client(fake).fetch(request);
    assert.equal(result.failures.length, 0);
    assert.equal(result.documents.length, 1);
    const doc = result.documents[0]!;
    assert.equal(doc.origin, 'api');
    assert.equal(doc.httpStatus, 200);
    assert.deepEqual(doc.request, request);
    assert.match(doc.body, /GL_MarketDocument/);
    assert.equal(result.points, 355);
    const sent = fake.requests.at(-1)!.params;
    assert.equal(sent['documentType'], 'A75');
    assert.equal(sent['processType'], 'A16');
    assert.equal(sent['in_Domain'], '10Y1001A1001A47J');
    assert.equal(sent['periodStart'], '202510210000');
    assert.equal(sent['periodEnd'], '202510220000');
    assert.equal(sent['securityToken'], TEST_TOKEN);
  });

  it('treats "No matching data" as an empty result, not a failure', async () => {
    const request = entsoeRequest(
      'A75',
      'SE_4',
      { start: at('2020-01-01T00:00Z'), end: at('2020-01-02T00:00Z') },
      reference,
    );
    const result = await client(fake).fetch(request);
    assert.deepEqual([result.documents.length, result.failures.length, result.noData], [0, 0, 1]);
  });

  it('unpacks ZIP answers', async () => {
    fake.fail('zip');
    const request = entsoeRequest(
      'A75',
      'FI',
      { start: at('2023-05-08T07:00Z'), end: at('2023-05-09T07:00Z') },
      reference,
    );
    const result = await client(fake).fetch(request);
    assert.equal(result.documents.length, 1);
    assert.match(result.documents[0]!.body, /<type>A75<\/type>/);
    assert.equal(fake.requests.at(-1)!.answer, 'zip');
  });

  it('pages A44 with offset until a short page, asks for whole local days and contract type A01', async () => {
    const before = fake.requests.length;
    const request = entsoeRequest(
      'A44',
      'DE_LU',
      { start: at('2021-01-01T05:00Z'), end: at('2021-01-01T08:00Z') },
      reference,
    );
    const result = await client(fake, { limits: { A44: { pageSize: 1 } } }).fetch(request);
    const sent = fake.requests.slice(before).map((r) => r.params);
    assert.deepEqual(
      sent.map((p) => p['offset']),
      ['0', '1', '2', '3', '4'],
    );
    assert.equal(sent[0]!['periodStart'], '202012312300'); // local midnight in Berlin
    assert.equal(sent[0]!['periodEnd'], '202101012300');
    assert.equal(sent[0]!['contract_MarketAgreement.type'], 'A01');
    assert.equal(sent[0]!['in_Domain'], sent[0]!['out_Domain']);
    assert.equal(sent[0]!['classificationSequence_AttributeInstanceComponent.position'], undefined);
    assert.equal(result.documents.length, 4);
    assert.deepEqual(
      result.documents.map((d) => d.request?.offset),
      [0, 1, 2, 3],
    );
  });

  it('splits long ranges to the limits table (A65 by calendar month)', async () => {
    const before = fake.requests.length;
    // From Jan 15 (UTC) to local April 1 in Paris (CEST by then): cut at local month starts.
    const request = entsoeRequest(
      'A65',
      'FR',
      { start: at('2024-01-15T00:00Z'), end: at('2024-03-31T22:00Z') },
      reference,
    );
    const c = client(fake);
    assert.equal(c.plan(request).length, 3);
    await c.fetch(request);
    const periods = fake.requests.slice(before).map((r) => `${r.params['periodStart']}-${r.params['periodEnd']}`);
    assert.deepEqual(periods, ['202401150000-202401312300', '202401312300-202402292300', '202402292300-202403312200']);
    assert.ok(fake.requests.slice(before).every((r) => r.params['outBiddingZone_Domain'] === '10YFR-RTE------C'));
  });

  it('halves a request the service finds too large', async () => {
    fake.fail('too-large', { times: 1 });
    const before = fake.requests.length;
    const request = entsoeRequest(
      'A75',
      'SE_4',
      { start: at('2025-10-01T00:00Z'), end: at('2025-11-01T00:00Z') },
      reference,
    );
    const result = await client(fake).fetch(request);
    assert.equal(result.failures.length, 0);
    assert.equal(fake.requests.length - before, 3);
    assert.equal(result.documents.length, 1);
  });

  it('gives up on an invalid token at once: unauthorized, not retried', async () => {
    const before = fake.requests.length;
    const request = entsoeRequest(
      'A75',
      'SE_4',
      { start: at('2025-10-21T00:00Z'), end: at('2025-10-22T00:00Z') },
      reference,
    );
    const bad = new EntsoeClient({ ...optionsOf(fake), token: new Secret('wrong-token-9876543210') });
    const result = await bad.fetch(request);
    assert.equal(fake.requests.length - before, 1);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]!.httpStatus, 401);
    assert.equal((result.failures[0]!.error as { code: string }).code, 'entsoe.unauthorized');
  });

  it('can send the token in a header instead of the URL', async () => {
    const request = entsoeRequest(
      'A75',
      'SE_4',
      { start: at('2025-10-21T00:00Z'), end: at('2025-10-22T00:00Z') },
      reference,
    );
    const result = await client(fake, { tokenIn: 'header' }).fetch(request);
    assert.equal(result.documents.length, 1);
    assert.equal(fake.requests.at(-1)!.params['securityToken'], undefined);
    assert.equal(fake.requests.at(-1)!.token, TEST_TOKEN);
  });

  it('formats periods as UTC yyyyMMddHHmm', () => {
    assert.equal(formatEntsoeTime(at('2024-03-31T01:00Z')), '202403310100');
    assert.throws(() => formatEntsoeTime(at('2024-03-31T01:00:30Z')), RangeError);
  });
});

function optionsOf(fake: FakeEntsoe): EntsoeClientOptions {
  return {
    baseUrl: fake.url,
    token: new Secret(TEST_TOKEN),
    logger: captureLogger().logger,
    rateLimits: new MemoryRateLimitStore(),
    limit: { requestsPerMinute: 60_000 },
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
  };
}
