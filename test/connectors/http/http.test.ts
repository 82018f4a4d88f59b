import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CircuitBreaker,
  HttpError,
  MemoryRateLimitStore,
  RateLimiter,
  bucketFor,
  isHostFailure,
  parseRetryAfter,
  rateLimitKey,
  requestPolitely,
  retryDelay,
  CircuitBreakers,
} from '../../../src/connectors/http/index.ts';
import { silentLogger } from '../../../src/observability/index.ts';

describe('retry policy', () => {
  it('draws full-jitter delays below an exponentially growing, capped ceiling (the toolkit formula)', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(retryDelay(1, { ...opts, random: () => 0.999 }), 99);
    assert.equal(retryDelay(3, { ...opts, random: () => 0.5 }), 200);
    assert.equal(retryDelay(10, { ...opts, random: () => 0.999 }), 999);
    assert.equal(retryDelay(4, { ...opts, random: () => 0 }), 0);
  });

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('120', 0), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:30 GMT', 10_000), 20_000);
    assert.equal(parseRetryAfter('soon', 0), null);
    assert.equal(parseRetryAfter(null, 0), null);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive host failures, lets one trial through when half-open, doubles on a failed trial', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, maxOpenMs: 3000, now: () => now });
    b.failure();
    b.failure();
    b.success(); // a success resets the count
    b.failure();
    b.failure();
    assert.equal(b.state, 'closed');
    b.failure();
    assert.equal(b.state, 'open');
    assert.deepEqual(b.tryPass(), { allowed: false, retryInMs: 1000 });
    now = 1000;
    assert.equal(b.state, 'half_open');
    assert.deepEqual(b.tryPass(), { allowed: true });
    assert.equal(b.tryPass().allowed, false, 'only one trial at a time');
    b.failure();
    assert.equal(b.state, 'open');
    now = 2999;
    assert.equal(b.state, 'open', 'open twice as long after a failed trial');
    now = 3000;
    assert.equal(b.tryPass().allowed, true);
    b.success();
    assert.equal(b.state, 'closed');
  });
});

describe('token bucket store and limiter', () => {
  it('grants the burst, then one token per refill interval, and says how long to wait', async () => {
    let now = 0;
    const store = new MemoryRateLimitStore({ now: () => now });
    const spec = { capacity: 2, refillPerSecond: 1 };
    assert.deepEqual(await store.take('k', spec), { granted: true });
    assert.deepEqual(await store.take('k', spec), { granted: true });
    assert.deepEqual(await store.take('k', spec), { granted: false, waitMs: 1000, bannedUntil: null });
    now = 500;
    assert.deepEqual(await store.take('k', spec), { granted: false, waitMs: 500, bannedUntil: null });
    now = 1000;
    assert.deepEqual(await store.take('k', spec), { granted: true });
  });

  it('refuses every take during a ban, never shortens a ban, and restarts empty afterwards', async () => {
    let now = 0;
    const store = new MemoryRateLimitStore({ now: () => now });
    const spec = { capacity: 5, refillPerSecond: 10 };
    await store.ban('k', 10_000);
    await store.ban('k', 5_000);
    assert.equal(await store.bannedUntil('k'), 10_000);
    now = 9_000;
    assert.deepEqual(await store.take('k', spec), { granted: false, waitMs: 1000, bannedUntil: 10_000 });
    now = 10_000;
    assert.equal(await store.bannedUntil('k'), null);
    assert.equal((await store.take('k', spec)).granted, false, 'no burst right after a ban');
    now = 10_100;
    assert.equal((await store.take('k', spec)).granted, true);
  });

  it('sizes buckets so that burst + one minute of refill equals the budget', () => {
    const b = bucketFor({ requestsPerMinute: 400 });
    assert.equal(b.capacity + 60 * b.refillPerSecond, 400);
    assert.equal(bucketFor({ requestsPerMinute: 120, burst: 10 }).refillPerSecond, 110 / 60);
    assert.throws(() => bucketFor({ requestsPerMinute: 1 }), RangeError);
  });

  it('derives store keys from credentials without revealing them', () => {
    const key = rateLimitKey('entsoe', 'secret-token-value');
    assert.match(key, /^entsoe:[0-9a-f]{20}$/);
    assert.ok(!key.includes('secret'));
  });

  it('waits for a token and can be cancelled while waiting', async () => {
    const limiter = new RateLimiter({ store: new MemoryRateLimitStore(), logger: silentLogger() });
    const limit = { requestsPerMinute: 6, burst: 1 };
    await limiter.acquire('k', limit);
    const controller = new AbortController();
    const waiting = limiter.acquire('k', limit, { signal: controller.signal });
    setTimeout(() => {
      controller.abort(new Error('stop'));
    }, 20);
    await assert.rejects(waiting, /stop/);
  });
});

describe('polite requests', () => {
  const politeness = () => ({
    limiter: new RateLimiter({ store: new MemoryRateLimitStore(), logger: silentLogger() }),
    limitKey: 'k',
    limit: { requestsPerMinute: 60_000 },
    breakers: new CircuitBreakers(),
    logger: silentLogger(),
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
  });

  it('retries retryable failures and reports the final failure as a value', async () => {
    let calls = 0;
    const result = await requestPolitely(
      'h',
      () => {
        calls++;
        return Promise.reject(new HttpError('http.status', 'HTTP 503', { status: 503 }));
      },
      politeness(),
    );
    assert.equal(calls, 3);
    assert.ok(!result.ok);
    assert.deepEqual([result.attempts, result.httpStatus], [3, 503]);
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    const result = await requestPolitely(
      'h',
      () => {
        calls++;
        return Promise.reject(new HttpError('http.status', 'HTTP 400', { status: 400 }));
      },
      politeness(),
    );
    assert.equal(calls, 1);
    assert.equal(result.ok, false);
    assert.equal(isHostFailure(new HttpError('http.status', 'x', { status: 400 })), false);
    assert.equal(isHostFailure(new HttpError('http.timeout', 'x')), true);
  });

  it('rejects with the abort reason when cancelled during a backoff, instead of reporting a failure', async () => {
    const controller = new AbortController();
    const p = requestPolitely(
      'h',
      () => {
        setTimeout(() => {
          controller.abort(new Error('shutdown'));
        }, 5);
        return Promise.reject(new HttpError('http.timeout', 'slow'));
      },
      { ...politeness(), retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, maxAttempts: 3, random: () => 0.9 } },
      { signal: controller.signal },
    );
    await assert.rejects(p, /shutdown/);
  });
});

describe('httpGet', () => {
  it('does not follow redirects (the URL may carry a credential) and reports them as they are', async (t) => {
    const { createServer } = await import('node:http');
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(302, { location: 'http://elsewhere.invalid/api' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(
      () =>
        new Promise<void>((r) =>
          server.close(() => {
            r();
          }),
        ),
    );
    const { port } = server.address() as { port: number };
    const { httpGet } = await import('../../../src/connectors/http/index.ts');
    const response = await httpGet(new URL(`http://127.0.0.1:${port}/api?securityToken=abc`));
    assert.equal(response.status, 302);
    assert.equal(hits.length, 1);
  });

  it('maps a refused connection to a retryable network_error with a redacted URL', async () => {
    const { httpGet } = await import('../../../src/connectors/http/index.ts');
    const error = await httpGet(new URL('http://127.0.0.1:9/api?securityToken=secret-value-123')).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpError);
    assert.equal(error.code, 'http.network_error');
    assert.equal(error.retryable, true);
    assert.ok(!error.message.includes('secret-value-123'));
  });
});
