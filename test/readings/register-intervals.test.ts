import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import type { RegisterRead } from '../../src/readings/index.ts';
import { registerToIntervals } from '../../src/readings/index.ts';

const Q = 900_000;
const reads = (...pairs: [string, string][]): RegisterRead[] =>
  pairs.map(([ts, value]) => ({ ts: `2026-10-25T${ts}:00Z`, value: value as Decimal }));
const rows = (r: ReturnType<typeof registerToIntervals>): string[] =>
  r.intervals.map(
    (i) => `${i.start.slice(11, 16)}-${i.end.slice(11, 16)} ${i.value}${i.flags.length ? ` ${i.flags.join(',')}` : ''}`,
  );

describe('register reads → intervals by difference', () => {
  it('gives each interval the difference of the reads at its start and end, exactly', () => {
    const r = registerToIntervals(reads(['00:00', '100.0'], ['00:15', '100.5'], ['00:30', '101.25']), {
      intervalMs: Q,
    });
    assert.deepEqual(rows(r), ['00:00-00:15 0.5', '00:15-00:30 0.75']);
    assert.deepEqual(r.resets, []);
  });
  it('reads a counter going backwards as a rollover at capacity 99999.9 (modulus 100000)', () => {
    const r = registerToIntervals(reads(['00:00', '99999.5'], ['00:15', '0.3'], ['00:30', '1.0']), {
      intervalMs: Q,
      capacity: '99999.9' as Decimal,
    });
    // 99999.5 → 99999.9 is 0.4, → 0 is one more step 0.1, → 0.3 is 0.3: 0.8.
    assert.deepEqual(rows(r), ['00:00-00:15 0.8 rollover', '00:15-00:30 0.7']);
  });
  it('reads a counter going backwards without capacity as a reset: no negative energy, the span reported', () => {
    const r = registerToIntervals(reads(['00:00', '500'], ['00:15', '12'], ['00:30', '13.5']), { intervalMs: Q });
    assert.deepEqual(rows(r), ['00:15-00:30 1.5']);
    assert.deepEqual(r.resets, [
      { from: '2026-10-25T00:00:00Z', to: '2026-10-25T00:15:00Z', before: '500', after: '12' },
    ]);
  });
  it('splits a difference over 3 intervals in proportion to time, flagged, summing exactly', () => {
    const even = registerToIntervals(reads(['00:00', '10'], ['00:45', '13']), { intervalMs: Q });
    assert.deepEqual(rows(even), ['00:00-00:15 1 split', '00:15-00:30 1 split', '00:30-00:45 1 split']);
    const third = registerToIntervals(reads(['00:00', '0'], ['00:45', '1']), { intervalMs: Q });
    assert.deepEqual(rows(third), [
      '00:00-00:15 0.333333 split',
      '00:15-00:30 0.333333 split',
      '00:30-00:45 0.333334 split',
    ]);
  });
  it('splits across 2026-10-25 01:00Z (the end of summer time in Europe) like any other UTC hour', () => {
    const r = registerToIntervals(reads(['00:30', '1000'], ['01:30', '1004.4']), { intervalMs: Q });
    assert.deepEqual(rows(r), [
      '00:30-00:45 1.1 split',
      '00:45-01:00 1.1 split',
      '01:00-01:15 1.1 split',
      '01:15-01:30 1.1 split',
    ]);
  });
  it('shares reads off the interval grid between intervals, and leaves out intervals not fully covered', () => {
    const r = registerToIntervals(reads(['00:05', '0'], ['00:20', '1.5'], ['00:35', '3']), { intervalMs: Q });
    // [00:15, 00:30): 5 of the first span's 15 minutes (0.5) and 10 of the second's (1.0).
    assert.deepEqual(rows(r), ['00:15-00:30 1.5 split']);
  });
  it('takes reads in time order whatever order they come in; a second read at one instant replaces the first', () => {
    const r = registerToIntervals(reads(['00:30', '3'], ['00:00', '1'], ['00:15', '9'], ['00:15', '2']), {
      intervalMs: Q,
    });
    assert.deepEqual(rows(r), ['00:00-00:15 1', '00:15-00:30 1']);
  });
  it('gives nothing for fewer than two reads', () => {
    assert.deepEqual(registerToIntervals(reads(['00:00', '1']), { intervalMs: Q }), { intervals: [], resets: [] });
  });
});
