import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { IntensitySlot, WindowSearch } from '../../src/api/index.ts';
import { ceilToSlot, floorToSlot, savingOf, searchWindows } from '../../src/api/index.ts';
import { HOUR_MS, MINUTE_MS, SLOT_MS, localDayHours, startOfLocalDay } from '../../src/time/index.ts';

const T0 = Date.parse('2024-05-21T00:00:00Z');
const at = (i: number) => T0 + i * SLOT_MS;
/** Slots at T0, T0+15 min, … with these values; `null` leaves the slot out (a gap). */
const series = (values: readonly (number | null)[], from = T0): IntensitySlot[] =>
  values.flatMap((v, i) => (v === null ? [] : [{ start: from + i * SLOT_MS, value: v }]));
const search = (over: Partial<WindowSearch> & Pick<WindowSearch, 'durationMs'>): WindowSearch => ({
  earliest: T0,
  latest: at(8),
  top: 3,
  ...over,
});

/**
 * The specification read literally, to compare against: every quarter hour from the first at or after earliest;
 * a window qualifies when it ends by latest and each of its slots has a value; its mean is the sum of its slot values
 * in time order over their number; the best are sorted by mean, then start.
 */
function bruteForce(slots: readonly IntensitySlot[], s: WindowSearch) {
  const byStart = new Map<number, number>();
  for (const slot of slots) if (slot.start % SLOT_MS === 0) byStart.set(slot.start, slot.value);
  const all: { start: number; end: number; mean: number }[] = [];
  let start = s.earliest;
  while (start % SLOT_MS !== 0) start += MINUTE_MS; // walk to the next quarter hour, a minute at a time (tests use whole minutes)
  for (; start + s.durationMs <= s.latest; start += SLOT_MS) {
    let sum = 0;
    let ok = true;
    for (let t = start; t < start + s.durationMs; t += SLOT_MS) {
      const v = byStart.get(t);
      if (v === undefined) ok = false;
      else sum += v;
    }
    if (ok) all.push({ start, end: start + s.durationMs, mean: sum / (s.durationMs / SLOT_MS) });
  }
  // Equal means (to a millionth of a gram: float sums depend on the order of their terms) go to the earlier start.
  const key = (w: { mean: number }) => Math.round(w.mean * 1e6);
  return all.sort((a, b) => key(a) - key(b) || a.start - b.start).slice(0, s.top);
}

describe('best-window search (pure)', () => {
  it('a range of exactly one duration has one candidate, which is also the window at earliest', () => {
    const r = searchWindows(series([100, 200, 300, 400]), search({ latest: at(4), durationMs: HOUR_MS }));
    assert.equal(r.candidates, 1);
    assert.equal(r.complete, 1);
    assert.deepEqual(r.windows, [{ start: T0, end: at(4), mean: 250 }]);
    assert.deepEqual(r.atEarliest, r.windows[0]);
    assert.deepEqual(savingOf(r.atEarliest, r.windows[0]!), { gPerKwh: 0, percent: 0 });
  });

  it('equal means go to the earliest start; top larger than the candidates gives them all', () => {
    const r = searchWindows(
      series([3, 1, 1, 3, 1, 1, 3]),
      search({ latest: at(7), durationMs: 30 * MINUTE_MS, top: 50 }),
    );
    assert.equal(r.candidates, 6);
    assert.deepEqual(
      r.windows.map((w) => [(w.start - T0) / SLOT_MS, w.mean]),
      [
        [1, 1],
        [4, 1],
        [0, 2],
        [2, 2],
        [3, 2],
        [5, 2],
      ],
    );
  });

  it('equal means that differ only by float rounding still go to the earliest start', () => {
    // 0.1 + 0.2 + 0.3 and 0.2 + 0.3 + 0.1 are both 0.6 but not the same double: the earlier window must win.
    const r = searchWindows(series([0.1, 0.2, 0.3, 0.1]), search({ latest: at(4), durationMs: 45 * MINUTE_MS }));
    assert.notEqual(r.windows[0]?.mean, r.windows[1]?.mean, 'the two sums differ in the last bit');
    assert.deepEqual(
      r.windows.map((w) => w.start),
      [at(0), at(1)],
    );
  });

  it('a window missing any slot is not a candidate; the saving is null when the window at earliest misses one', () => {
    const slots = series([null, 5, 6, 7, 1, 2, null, 9]);
    const r = searchWindows(slots, search({ durationMs: 30 * MINUTE_MS, top: 10 }));
    assert.equal(r.candidates, 7);
    assert.equal(r.complete, 4, 'windows at slots 1, 2, 3, 4; those touching slots 0 and 6 are out');
    assert.equal(r.atEarliest, null);
    assert.deepEqual(
      r.windows.map((w) => (w.start - T0) / SLOT_MS),
      [4, 3, 1, 2],
    );
    assert.equal(savingOf(r.atEarliest, r.windows[0]!), null);
    const none = searchWindows(series([1, null, 1, null]), search({ latest: at(4), durationMs: 30 * MINUTE_MS }));
    assert.deepEqual([none.candidates, none.complete, none.windows], [3, 0, []]);
  });

  it('PT15M windows are single slots: the lowest slot, ties to the earliest', () => {
    const r = searchWindows(series([4, 2, 9, 2, 2, 8, 1, 7]), search({ durationMs: SLOT_MS }));
    assert.deepEqual(
      r.windows.map((w) => [(w.start - T0) / SLOT_MS, w.mean, w.end - w.start]),
      [
        [6, 1, SLOT_MS],
        [1, 2, SLOT_MS],
        [3, 2, SLOT_MS],
      ],
    );
    assert.equal(r.candidates, 8);
  });

  it('an earliest off a quarter hour starts at the next quarter hour; a latest off one ends at the one before', () => {
    const slots = series([1, 50, 50, 50, 50, 50, 50, 1]);
    const r = searchWindows(slots, {
      earliest: T0 + 5 * MINUTE_MS,
      latest: at(7) + 10 * MINUTE_MS,
      durationMs: HOUR_MS,
      top: 10,
    });
    assert.equal(r.firstStart, at(1));
    assert.equal(r.candidates, 3, 'starts at slots 1, 2, 3; slot 0 is before earliest, slot 7 ends after latest');
    assert.ok(r.windows.every((w) => w.mean === 50));
    assert.equal(ceilToSlot(at(1)), at(1));
    assert.equal(floorToSlot(at(1) - 1), at(0));
    const exact = searchWindows(slots, { earliest: at(1), latest: at(5), durationMs: HOUR_MS, top: 1 });
    assert.equal(exact.firstStart, at(1));
    assert.equal(exact.candidates, 1);
  });

  it('DST plays no part: slots are UTC quarter hours, a local day of 25 hours is 100 slots like any other', () => {
    const tz = 'Europe/Berlin';
    const day = startOfLocalDay(Date.parse('2024-10-27T12:00:00Z'), tz);
    assert.equal(localDayHours(day, tz), 25);
    const slots = Array.from({ length: 100 }, (_, i) => ({ start: day + i * SLOT_MS, value: (i * 37) % 101 }));
    const s = { earliest: day, latest: day + 25 * HOUR_MS, durationMs: 3 * HOUR_MS, top: 5 };
    const r = searchWindows(slots, s);
    assert.equal(r.candidates, 100 - 12 + 1);
    assert.deepEqual(r.windows, bruteForce(slots, s));
  });

  it('ignores slots off a quarter hour, non-finite values and slots outside the range; the last value of a slot wins', () => {
    const slots = [
      ...series([10, 10, null, 10]),
      { start: at(1) + MINUTE_MS, value: -1000 },
      { start: at(2), value: Number.NaN },
      { start: at(-1), value: -1000 },
      { start: at(4), value: -1000 },
      { start: at(3), value: 2 },
    ];
    const r = searchWindows(slots, search({ latest: at(4), durationMs: SLOT_MS, top: 1 }));
    assert.deepEqual(r.windows, [{ start: at(3), end: at(4), mean: 2 }]);
    assert.equal(r.complete, 3, 'slot 2 has no usable value');
  });

  it('refuses a duration off the 15-minute grid, a non-positive top, or latest before earliest', () => {
    assert.throws(() => searchWindows([], search({ durationMs: 20 * MINUTE_MS })), RangeError);
    assert.throws(() => searchWindows([], search({ durationMs: 0 })), RangeError);
    assert.throws(() => searchWindows([], search({ durationMs: SLOT_MS, top: 0 })), RangeError);
    assert.throws(() => searchWindows([], search({ durationMs: SLOT_MS, latest: T0 - 1 })), RangeError);
    assert.deepEqual(searchWindows([], search({ durationMs: 4 * HOUR_MS })).candidates, 0, 'longer than the range');
  });

  it('agrees with the specification read literally on random series with gaps and ranges off the grid', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 900 }), { freq: 6 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 1050 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 8 }),
        (values, earliestOffset, span, slotsLong, top) => {
          const slots = series(values.map((v) => (v === null ? null : v / 7)));
          const earliest = T0 + earliestOffset * MINUTE_MS;
          const s = { earliest, latest: earliest + span * MINUTE_MS, durationMs: slotsLong * SLOT_MS, top };
          const r = searchWindows(slots, s);
          assert.deepEqual(r.windows, bruteForce(slots, s));
          assert.ok(r.complete <= r.candidates);
          const first = r.windows[0];
          if (first !== undefined && r.atEarliest !== null) {
            const saving = savingOf(r.atEarliest, first);
            assert.ok(saving !== null && saving.gPerKwh >= 0, 'the best is never worse than running at earliest');
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
