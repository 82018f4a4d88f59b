import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerError, nextFire, parseCron } from '../../src/scheduler/index.ts';

const iso = (t: number): string => `${new Date(t).toISOString().slice(0, 16)}Z`;
/** The next `n` fires after `from`. */
function fires(expr: string, from: string, tz: string, n: number): string[] {
  const schedule = parseCron(expr);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) out.push(iso((t = nextFire(schedule, t, tz))));
  return out;
}

describe('cron', () => {
  it('fires hourly at minute 5, strictly after the given instant', () => {
    assert.deepEqual(fires('5 * * * *', '2024-05-01T10:05Z', 'UTC', 3), [
      '2024-05-01T11:05Z',
      '2024-05-01T12:05Z',
      '2024-05-01T13:05Z',
    ]);
  });

  it('reads steps, ranges, lists and aliases', () => {
    assert.deepEqual(fires('*/20 8-9 * * 1-5', '2024-05-03T09:30Z', 'UTC', 3), [
      '2024-05-03T09:40Z',
      '2024-05-06T08:00Z', // Friday → Monday
      '2024-05-06T08:20Z',
    ]);
    assert.deepEqual(fires('@daily', '2024-05-03T09:30Z', 'UTC', 1), ['2024-05-04T00:00Z']);
    assert.deepEqual(fires('0 0 * * 7', '2024-05-03T00:00Z', 'UTC', 1), ['2024-05-05T00:00Z']); // 7 = Sunday
  });

  it('matches either day field when both are restricted (cron rule)', () => {
    assert.deepEqual(fires('0 12 13 * 5', '2024-09-01T00:00Z', 'UTC', 3), [
      '2024-09-06T12:00Z', // a Friday
      '2024-09-13T12:00Z', // the 13th (also a Friday)
      '2024-09-20T12:00Z',
    ]);
  });

  it('handles month ends: the 31st skips short months, the 29th of February waits for a leap year', () => {
    assert.deepEqual(fires('0 0 31 * *', '2024-01-31T00:00Z', 'UTC', 3), [
      '2024-03-31T00:00Z',
      '2024-05-31T00:00Z',
      '2024-07-31T00:00Z',
    ]);
    assert.deepEqual(fires('0 6 29 2 *', '2024-03-01T00:00Z', 'UTC', 1), ['2028-02-29T06:00Z']);
  });

  it('daily local jobs keep local time across DST changes (Europe/Brussels)', () => {
    // 2024-03-31: 02:00 CET → 03:00 CEST; 2024-10-27: 03:00 CEST → 02:00 CET.
    assert.deepEqual(fires('30 3 * * *', '2024-03-30T00:00Z', 'Europe/Brussels', 3), [
      '2024-03-30T02:30Z', // CET
      '2024-03-31T01:30Z', // CEST
      '2024-04-01T01:30Z',
    ]);
    assert.deepEqual(fires('30 3 * * *', '2024-10-26T00:00Z', 'Europe/Brussels', 3), [
      '2024-10-26T01:30Z',
      '2024-10-27T02:30Z', // CET again: the day had 25 hours
      '2024-10-28T02:30Z',
    ]);
  });

  it('a wall time skipped by spring-forward fires once at the jump; a repeated one fires once', () => {
    assert.deepEqual(fires('30 2 * * *', '2024-03-30T12:00Z', 'Europe/Brussels', 2), [
      '2024-03-31T01:30Z', // 02:30 does not exist: 03:30 CEST
      '2024-04-01T00:30Z',
    ]);
    assert.deepEqual(fires('30 2 * * *', '2024-10-26T12:00Z', 'Europe/Brussels', 2), [
      '2024-10-27T00:30Z', // the first 02:30 (CEST), not the second (CET)
      '2024-10-28T01:30Z',
    ]);
    // Hourly in local time across the autumn change: 02:05 happens twice but fires once.
    assert.deepEqual(fires('5 * * * *', '2024-10-26T23:30Z', 'Europe/Brussels', 4), [
      '2024-10-27T00:05Z', // 02:05 CEST
      '2024-10-27T02:05Z', // 03:05 CET: the second 02:05 (01:05Z) does not fire
      '2024-10-27T03:05Z',
      '2024-10-27T04:05Z',
    ]);
  });

  it('refuses what it cannot read', () => {
    for (const bad of ['* * * *', '60 * * * *', '5-1 * * * *', '*/0 * * * *', 'x * * * *', '0 0 31 2 *']) {
      assert.throws(
        () => nextFire(parseCron(bad), 0, 'UTC'),
        (e: unknown) => e instanceof SchedulerError && e.code === 'scheduler.invalid_cron',
        bad,
      );
    }
  });
});
