import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveClientAddress } from '../../src/api/index.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';

const WRONG = 'gs_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

describe('client address behind reverse proxies', () => {
  it('believes X-Forwarded-For only from a trusted proxy, and only its last untrusted hop', () => {
    const proxies = new Set(['10.0.0.2', '10.0.0.3']);
    assert.equal(resolveClientAddress('203.0.113.9', '198.51.100.1', proxies), '203.0.113.9', 'not from a proxy');
    assert.equal(resolveClientAddress('10.0.0.2', '198.51.100.1', proxies), '198.51.100.1');
    assert.equal(resolveClientAddress('::ffff:10.0.0.2', '198.51.100.1', proxies), '198.51.100.1', 'dual-stack peer');
    // The client may write anything left of what the proxies appended: only the last untrusted hop counts.
    assert.equal(resolveClientAddress('10.0.0.2', '1.2.3.4, 198.51.100.1, 10.0.0.3', proxies), '198.51.100.1');
    assert.equal(resolveClientAddress('10.0.0.2', 'not-an-address', proxies), '10.0.0.2', 'garbage is not a client');
    assert.equal(resolveClientAddress('10.0.0.2', undefined, proxies), '10.0.0.2');
    assert.equal(resolveClientAddress(undefined, undefined, proxies), 'unknown');
  });

  it('a spoofed X-Forwarded-For neither escapes the failed-key throttle nor the anonymous rate limit', async (t) => {
    const api = await startTestApi({ publicRead: true, defaultRatePerMinute: 3 });
    t.after(() => api.close());
    const url = `http://127.0.0.1:${api.server.port}/api/v1/zones`;
    const anonymous: number[] = [];
    for (let i = 0; i < 5; i++) {
      anonymous.push((await fetch(url, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status);
    }
    assert.deepEqual(anonymous, [200, 200, 200, 429, 429], 'one bucket for the one real address');
    const guesses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const headers = { authorization: `Bearer ${WRONG}`, 'x-forwarded-for': `198.51.100.${i}` };
      guesses.push((await fetch(url, { headers })).status);
    }
    assert.deepEqual(guesses.slice(10), [429, 429], 'the 11th guess waits whatever the header says');
  });

  it('behind a trusted proxy, clients are throttled each on their own forwarded address', async (t) => {
    const api = await startTestApi({ trustedProxies: ['127.0.0.1'] });
    t.after(() => api.close());
    const url = `http://127.0.0.1:${api.server.port}/api/v1/zones`;
    const attempt = (client: string, key: string) =>
      fetch(url, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': client } });
    for (let i = 0; i < 11; i++) await attempt('198.51.100.7', WRONG);
    assert.equal((await attempt('198.51.100.7', WRONG)).status, 429, 'the guessing client waits');
    assert.equal((await attempt('198.51.100.8', ADMIN)).status, 200, 'another client behind the proxy does not');
  });
});
