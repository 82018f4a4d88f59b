import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HOUR_MS,
  addLocalDays,
  addLocalMonths,
  addSteps,
  formatUtc,
  fromLocal,
  localDayHours,
  offsetAt,
  parseResolution,
  parseUtc,
  startOfLocalDay,
  toLocal,
} from '../../src/time/index.ts';

const ZONES = [
  'Europe/Berlin',
  'Europe/London',
  'Europe/Lisbon',
  'Europe/Helsinki',
  'Europe/Madrid',
  'Europe/Istanbul',
  'UTC',
];
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });

describe('UTC timestamps', () => {
  it('parses the forms ENTSO-E writes and refuses impossible dates', () => {
    assert.equal(parseUtc('2024-05-21T10:00Z'), Date.UTC(2024, 4, 21, 10));
    assert.equal(parseUtc('2024-05-21T10:00:30Z'), Date.UTC(2024, 4, 21, 10, 0, 30));
    assert.equal(parseUtc('2023-02-19T23:00:00.000Z'), Date.UTC(2023, 1, 19, 23));
    assert.equal(parseUtc('2024-02-30T00:00Z'), undefined);
    assert.equal(parseUtc('2024-05-21T10:00+02:00'), undefined);
    assert.equal(parseUtc('yesterday'), undefined);
    assert.equal(formatUtc(Date.UTC(2024, 4, 21, 10)), '2024-05-21T10:00:00Z');
  });
  it('format/parse round-trips any second', () => {
    fc.assert(fc.property(instant, (t) => parseUtc(formatUtc(t)) === Math.floor(t / 1000) * 1000));
  });
});

describe('resolutions', () => {
  it('parses fixed and calendar durations', () => {
    assert.deepEqual(parseResolution('PT15M'), { kind: 'fixed', text: 'PT15M', ms: 900_000 });
    assert.deepEqual(parseResolution('PT60M'), { kind: 'fixed', text: 'PT60M', ms: HOUR_MS });
    assert.deepEqual(parseResolution('PT1H'), { kind: 'fixed', text: 'PT1H', ms: HOUR_MS });
    assert.deepEqual(parseResolution('P7D'), { kind: 'calendar', text: 'P7D', months: 0, days: 7 });
    assert.deepEqual(parseResolution('P1M'), { kind: 'calendar', text: 'P1M', months: 1, days: 0 });
    assert.deepEqual(parseResolution('P1Y'), { kind: 'calendar', text: 'P1Y', months: 12, days: 0 });
    for (const bad of ['P', 'PT', 'PT0M', 'P1DT1H', '15M', 'PT-1M', ''])
      assert.equal(parseResolution(bad), undefined, bad);
  });
  it('P1Y from local new year lands on the next local new year', () => {
    const start = Date.UTC(2023, 11, 31, 23); // 2024-01-01T00:00 CET
    const r = parseResolution('P1Y');
    assert.ok(r);
    assert.equal(formatUtc(addSteps(start, r, 1, 'Europe/Berlin')), '2024-12-31T23:00:00Z');
  });
});

describe('local calendar arithmetic (DST)', () => {
  it('European DST days last 23 and 25 hours', () => {
    assert.equal(localDayHours(Date.UTC(2026, 2, 29, 12), 'Europe/Berlin'), 23);
    assert.equal(localDayHours(Date.UTC(2025, 9, 26, 12), 'Europe/Berlin'), 25);
    assert.equal(localDayHours(Date.UTC(2025, 9, 27, 12), 'Europe/Berlin'), 24);
    assert.equal(localDayHours(Date.UTC(2025, 9, 26, 12), 'UTC'), 24);
  });
  it('resolves skipped and repeated wall times like Temporal "compatible"', () => {
    assert.equal(formatUtc(fromLocal(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin')), '2026-03-29T01:30:00Z');
    assert.equal(formatUtc(fromLocal(Date.UTC(2025, 9, 26, 2, 30), 'Europe/Berlin')), '2025-10-26T00:30:00Z');
  });
  it("a change off the quarter hour: St. John's went to summer time at 00:01 local (03:31 UTC) on 2010-03-14", () => {
    const tz = 'America/St_Johns';
    assert.equal(offsetAt(Date.parse('2010-03-14T03:30:59Z'), tz), -3.5 * HOUR_MS);
    assert.equal(offsetAt(Date.parse('2010-03-14T03:31:00Z'), tz), -2.5 * HOUR_MS);
    assert.equal(offsetAt(Date.parse('2010-03-14T03:44:59Z'), tz), -2.5 * HOUR_MS);
    // The day starts at 00:00 NST and ends at 00:00 NDT: 23 hours.
    assert.equal(formatUtc(startOfLocalDay(Date.parse('2010-03-14T12:00:00Z'), tz)), '2010-03-14T03:30:00Z');
    assert.equal(localDayHours(Date.parse('2010-03-14T12:00:00Z'), tz), 23);
    assert.equal(formatUtc(fromLocal(Date.UTC(2010, 2, 14, 1, 5), tz)), '2010-03-14T03:35:00Z');
  });
  it('offsets agree with Intl for any instant', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (t, tz) => {
        const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(t);
        const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
        const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
        const expected = m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
        assert.equal(offsetAt(t, tz), expected);
      }),
    );
  });
  it('toLocal then fromLocal returns the instant, except for the second pass of a repeated hour', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (t, tz) => {
        const back = fromLocal(toLocal(t, tz), tz);
        if (back !== t) assert.equal(back, t - HOUR_MS, 'only the later of two identical wall times maps back earlier');
      }),
    );
  });
  it('a local day is 23, 24 or 25 hours, starts at local midnight and contains its instant', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (t, tz) => {
        const start = startOfLocalDay(t, tz);
        const next = addLocalDays(start, tz, 1);
        assert.ok(start <= t && t < next);
        assert.ok([23, 24, 25].includes((next - start) / HOUR_MS));
        assert.equal(new Date(toLocal(start, tz)).getUTCHours(), 0);
      }),
    );
  });
  it('adding n local days then -n returns to the same local midnight', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), fc.integer({ min: -800, max: 800 }), (t, tz, n) => {
        const start = startOfLocalDay(t, tz);
        assert.equal(addLocalDays(addLocalDays(start, tz, n), tz, -n), start);
      }),
    );
  });
  it('adding months clamps the day of month', () => {
    const jan31 = fromLocal(Date.UTC(2024, 0, 31), 'Europe/Berlin');
    assert.equal(formatUtc(addLocalMonths(jan31, 'Europe/Berlin', 1)), '2024-02-28T23:00:00Z');
  });
});
