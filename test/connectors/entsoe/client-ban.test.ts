import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../../src/config/index.ts';
import type { EntsoeClientOptions } from '../../../src/connectors/entsoe/index.ts';
import { EntsoeClient, entsoeRequest, parseBanUntil } from '../../../src/connectors/entsoe/index.ts';
import type { RateLimitStore } from '../../../src/connectors/http/index.ts';
import { MemoryRateLimitStore, bucketFor, rateLimitKey } from '../../../src/connectors/http/index.ts';
import { loadReference } from '../../../src/reference/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../../helpers/fake-entsoe.ts';

const reference = loadReference();
const day = (d: number) =>
  entsoeRequest(
    'A75',
    'SE_4',
    { start: Date.parse('2025-10-21T00:00Z') + d * 3_600_000, end: Date.parse('2025-10-21T01:00Z') + d * 3_600_000 },
    reference,
  );

describe('ENTSO-E client: bans and the shared rate limit', () => {
  let fake: FakeEntsoe;
  const capture = captureLogger();
  const options = (store: RateLimitStore, extra: Partial<EntsoeClientOptions> = {}): EntsoeClientOptions => ({
    baseUrl: fake.url,
    token: new Secret(TEST_TOKEN),
    logger: capture.logger,
    rateLimits: store,
    limit: { requestsPerMinute: 60_000 },
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
    ...extra,
  });
  before(async () => {
    fake = await FakeEntsoe.start();
  });
  after(async () => {
    await fake.close();
    for (const line of capture.lines) assert.ok(!line.includes(TEST_TOKEN));
  });

  it('sends nothing while the token is banned, then carries on', async () => {
    const banUntil = Date.now() + 1200;
    fake.fail({ banUntil }, { times: 1 });
    const before = fake.requests.length;
    const result = await new EntsoeClient(options(new MemoryRateLimitStore())).fetch(day(0));
    assert.equal(result.documents.length, 1);
    const sent = fake.requests.slice(before);
    assert.equal(sent.length, 2);
    assert.ok(sent[1]!.at >= banUntil, `request at ${sent[1]!.at - banUntil} ms relative to the ban end`);
  });

  it('pauses every client sharing the store, not just the one that was banned', async () => {
    const store = new MemoryRateLimitStore();
    const a = new EntsoeClient(options(store));
    const b = new EntsoeClient(options(store));
    const banUntil = Date.now() + 1000;
    fake.fail({ banUntil }, { times: 1 });
    const before = fake.requests.length;
    const first = a.fetch(day(1));
    // Wait until the ban is recorded, then let the other client try.
    while (
      (fake.requests.length === before || (await store.bannedUntil(rateLimitKey('entsoe', TEST_TOKEN))) === null) &&
      Date.now() < banUntil
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const [ra, rb] = await Promise.all([first, b.fetch(day(2)), b.fetch(day(3))]);
    assert.equal(ra.documents.length + rb.documents.length, 2);
    const afterBan = fake.requests.slice(before + 1);
    assert.equal(afterBan.length, 3);
    for (const r of afterBan) assert.ok(r.at >= banUntil, `a request ${banUntil - r.at} ms before the ban ended`);
  });

  it('uses the default ban length when the 429 page gives no end time', async () => {
    fake.fail('ban-page', { times: 1 });
    const before = fake.requests.length;
    const result = await new EntsoeClient(options(new MemoryRateLimitStore(), { defaultBanMs: 700 })).fetch(day(4));
    assert.equal(result.documents.length, 1);
    const [banned, next] = fake.requests.slice(before);
    assert.ok(next!.at - banned!.at >= 700);
  });

  it('keeps several clients on one store within the budget in every window', async () => {
    const store = new MemoryRateLimitStore();
    const limit = { requestsPerMinute: 1200 };
    const clients = [0, 1, 2].map(() => new EntsoeClient(options(store, { limit })));
    const before = fake.requests.length;
    const started = Date.now();
    await Promise.all(
      clients.flatMap((c, i) =>
        [0, 1, 2].map((w) =>
          (async () => {
            for (let k = 0; k < 10; k++) await c.fetch(day(i * 30 + w * 10 + k));
          })(),
        ),
      ),
    );
    assert.equal(fake.requests.length - before, 90);
    const { capacity, refillPerSecond } = bucketFor(limit);
    // In any window of W seconds a bucket lets at most capacity + W × refill requests leave. The fake counts
    // arrivals, which network latency can bunch by a few milliseconds (the first requests also open connections):
    // allow 100 ms of such jitter.
    for (const windowMs of [250, 1000, 2000]) {
      const allowed = Math.floor(capacity + ((windowMs + 100) / 1000) * refillPerSecond);
      const seen = fake.maxInWindow(TEST_TOKEN, windowMs);
      assert.ok(seen <= allowed, `${seen} requests in ${windowMs} ms, allowed ${allowed}`);
    }
    assert.ok(Date.now() - started >= ((90 - capacity) / refillPerSecond) * 1000 - 50);
  });

  it('reads ban end times in the formats seen or plausible', () => {
    assert.equal(parseBanUntil('Requester banned until 2026-05-01T10:15:00Z'), Date.parse('2026-05-01T10:15:00Z'));
    assert.equal(
      parseBanUntil('<p>Requester banned until 2026-05-01 10:15:00</p>'),
      Date.parse('2026-05-01T10:15:00Z'),
    );
    assert.equal(parseBanUntil('banned until: 2026-05-01T12:15:00+02:00.'), Date.parse('2026-05-01T10:15:00Z'));
    assert.equal(parseBanUntil('Max allowed requests per minute from each unique IP is max up to 400 only'), null);
  });
});
