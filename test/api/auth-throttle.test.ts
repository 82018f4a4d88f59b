import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthThrottle } from '../../src/api/index.ts';

describe('AuthThrottle', () => {
  it('lets an address fail 10 times, then makes it wait 1 s, 2 s, 4 s… up to the cap', () => {
    const t = new AuthThrottle({ maxFailures: 10, baseMs: 1000, maxMs: 8000 });
    let now = 0;
    for (let i = 0; i < 9; i++) assert.equal(t.failure('a', now), 0);
    assert.equal(t.waitSeconds('a', now), 0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const wait = t.failure('a', now);
      waits.push(wait);
      now += wait * 1000;
      assert.equal(t.waitSeconds('a', now), 0);
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 8]);
    assert.equal(t.waitSeconds('b', now), 0, 'per address');
  });
  it('a success or a quiet quarter of an hour starts the address afresh', () => {
    const t = new AuthThrottle({ maxFailures: 2, baseMs: 1000, forgetAfterMs: 900_000 });
    t.failure('a', 0);
    t.success('a');
    assert.equal(t.failure('a', 0), 0);
    assert.equal(t.failure('a', 1), 1);
    assert.equal(t.failure('a', 900_000 + 2000), 0, 'forgotten after 15 minutes without failures');
  });
});
