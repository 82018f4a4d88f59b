import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Window, WindowResolution } from '../../src/streams/index.ts';
import {
  MAX_WINDOWS,
  WINDOW_RESOLUTIONS,
  localDayOf,
  slotsInWindow,
  windowOf,
  windowsBetween,
} from '../../src/streams/index.ts';
import { offsetAt } from '../../src/time/index.ts';

const Q = 900_000;
const H = 3_600_000;
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const show = (w: Window): string => `${iso(w.start)}/${iso(w.end)}`;
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('windowOf: UTC-aligned quarters and hours', () => {
  it('puts an instant in the quarter and hour holding it, start inclusive, end exclusive', () => {
    assert.equal(
      show(windowOf(t('2026-06-01T10:14:59.999Z'), 'PT15M', 'UTC')),
      '2026-06-01T10:00:00Z/2026-06-01T10:15:00Z',
    );
    assert.equal(
      show(windowOf(t('2026-06-01T10:15:00Z'), 'PT15M', 'UTC')),
      '2026-06-01T10:15:00Z/2026-06-01T10:30:00Z',
    );
    assert.equal(
      show(windowOf(t('2026-06-01T10:59:59Z'), 'PT1H', 'Europe/Berlin')),
      '2026-06-01T10:00:00Z/2026-06-01T11:00:00Z',
    );
    assert.equal(show(windowOf(-1, 'PT15M', 'UTC')), '1969-12-31T23:45:00Z/1970-01-01T00:00:00Z');
  });
  it('gives the same quarters in every zone, because every offset in use is a multiple of 15 minutes', () => {
    const zones = ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Eucla'];
    // One instant every 7 hours 1 minute over 2026 visits every time of day and both sides of each DST change.
    for (let ms = t('2026-01-01T00:00Z'); ms < t('2027-01-01T00:00Z'); ms += 7 * H + 60_000) {
      for (const tz of zones) {
        assert.ok(offsetAt(ms, tz) % Q === 0, `${tz} at ${iso(ms)}`);
        const w = windowOf(ms, 'PT15M', tz);
        assert.equal(w.start % Q, 0);
        // The local quarter (local clock floored to :00/:15/:30/:45) starts at the same instant.
        const local = ms + offsetAt(ms, tz);
        assert.equal(Math.floor(local / Q) * Q - offsetAt(ms, tz), w.start, `${tz} at ${iso(ms)}`);
      }
    }
  });
  it('keeps PT1H on the UTC hour: in +05:30 and −02:30 that is half past on the local clock', () => {
    const kolkata = windowOf(t('2026-06-01T04:40Z'), 'PT1H', 'Asia/Kolkata'); // 10:10 IST
    assert.equal(show(kolkata), '2026-06-01T04:00:00Z/2026-06-01T05:00:00Z'); // 09:30–10:30 IST
    const stJohns = windowOf(t('2026-06-01T12:40Z'), 'PT1H', 'America/St_Johns'); // 10:10 NDT (−02:30)
    assert.equal(show(stJohns), '2026-06-01T12:00:00Z/2026-06-01T13:00:00Z'); // 09:30–10:30 NDT
  });
});

describe('windowOf: local days and months', () => {
  it('gives Europe/Berlin days of 24, 23 (spring forward) and 25 hours (fall back)', () => {
    const day = (at: string) => windowOf(t(at), 'P1D', 'Europe/Berlin');
    assert.equal(show(day('2026-06-01T12:00Z')), '2026-05-31T22:00:00Z/2026-06-01T22:00:00Z');
    const spring = day('2026-03-29T12:00Z');
    assert.equal(show(spring), '2026-03-28T23:00:00Z/2026-03-29T22:00:00Z');
    assert.equal(slotsInWindow(spring, Q), 92);
    const fall = day('2026-10-25T12:00Z');
    assert.equal(show(fall), '2026-10-24T22:00:00Z/2026-10-25T23:00:00Z');
    assert.equal(slotsInWindow(fall, Q), 100);
    assert.equal(slotsInWindow(day('2026-06-01T12:00Z'), Q), 96);
    assert.equal(slotsInWindow(fall, H), 25);
  });
  it('puts the instants around local midnight and the repeated hour in the right day', () => {
    // 23:59:59.999 CET on the 28th of March belongs to the 28th, local midnight to the 29th.
    assert.equal(localDayOf(t('2026-03-28T22:59:59.999Z'), 'Europe/Berlin'), '2026-03-28');
    assert.equal(windowOf(t('2026-03-28T22:59:59.999Z'), 'P1D', 'Europe/Berlin').end, t('2026-03-28T23:00Z'));
    assert.equal(windowOf(t('2026-03-28T23:00Z'), 'P1D', 'Europe/Berlin').start, t('2026-03-28T23:00Z'));
    // 02:30 local happens twice on the 25th of October (00:30Z CEST and 01:30Z CET): both in the same day.
    for (const at of ['2026-10-25T00:30Z', '2026-10-25T01:30Z']) {
      assert.equal(show(windowOf(t(at), 'P1D', 'Europe/Berlin')), '2026-10-24T22:00:00Z/2026-10-25T23:00:00Z');
      assert.equal(localDayOf(t(at), 'Europe/Berlin'), '2026-10-25');
    }
  });
  it('follows half-hour zones: the Kolkata day starts at 18:30Z, the St John’s day at 02:30Z or 03:30Z', () => {
    const kolkata = windowOf(t('2026-06-01T20:00Z'), 'P1D', 'Asia/Kolkata');
    assert.equal(show(kolkata), '2026-06-01T18:30:00Z/2026-06-02T18:30:00Z');
    assert.equal(localDayOf(t('2026-06-01T20:00Z'), 'Asia/Kolkata'), '2026-06-02');
    assert.equal(slotsInWindow(kolkata, Q), 96);
    // St John's springs forward on 2026-03-08 at 02:00 NST (05:30Z): a 23-hour day, 92 quarters.
    const spring = windowOf(t('2026-03-08T12:00Z'), 'P1D', 'America/St_Johns');
    assert.equal(show(spring), '2026-03-08T03:30:00Z/2026-03-09T02:30:00Z');
    assert.equal(slotsInWindow(spring, Q), 92);
  });
  it('takes a day whose midnight is skipped (America/Santiago) from 01:00 to the next midnight', () => {
    // Chile springs forward at 24:00 on Saturday 2026-09-05: the 6th starts at 01:00 −03 (04:00Z).
    const w = windowOf(t('2026-09-06T12:00Z'), 'P1D', 'America/Santiago');
    assert.equal(show(w), '2026-09-06T04:00:00Z/2026-09-07T03:00:00Z');
    assert.equal(slotsInWindow(w, Q), 92);
    assert.equal(windowOf(t('2026-09-06T03:59Z'), 'P1D', 'America/Santiago').end, w.start);
  });
  it('gives the hour repeated before midnight (America/Sao_Paulo, 2018) to the day it reads: 25 hours', () => {
    // At 2018-02-18T02:00Z the clock went from 23:59:59 −02 back to 23:00 −03: 23:00–24:00 of the 17th happened
    // twice and midnight once, at 03:00Z.
    const repeated = t('2018-02-18T02:30Z');
    assert.equal(localDayOf(repeated, 'America/Sao_Paulo'), '2018-02-17');
    const w = windowOf(repeated, 'P1D', 'America/Sao_Paulo');
    assert.equal(show(w), '2018-02-17T02:00:00Z/2018-02-18T03:00:00Z');
    assert.equal(slotsInWindow(w, Q), 100);
    assert.equal(windowOf(t('2018-02-18T03:00Z'), 'P1D', 'America/Sao_Paulo').start, w.end);
  });
  it('keeps days tiling where a fall-back crosses midnight (St John’s until 2011, Antarctica/Casey 2010)', () => {
    // St John's fell back at 00:01 NDT on 2010-11-07 to 23:01 NST on the 6th. The 7th starts at its first
    // midnight, so the repeated late evening of the 6th lies inside the 7th's window (the window must hold its
    // instant and days must not overlap); label a day window by localDayOf(window.start), not by an instant in it.
    const repeated = t('2010-11-07T03:00Z'); // 23:30 NST on the 6th, the second time
    assert.equal(localDayOf(repeated, 'America/St_Johns'), '2010-11-06');
    const w = windowOf(repeated, 'P1D', 'America/St_Johns');
    assert.equal(show(w), '2010-11-07T02:30:00Z/2010-11-08T03:30:00Z');
    assert.equal(localDayOf(w.start, 'America/St_Johns'), '2010-11-07');
    assert.equal(windowOf(t('2010-11-07T02:29Z'), 'P1D', 'America/St_Johns').end, w.start);
    // Casey went from +11 to +8 at 02:00 on 2010-03-05: back to 23:00 on the 4th, a 27-hour 5th of March.
    const casey = windowOf(t('2010-03-04T15:30Z'), 'P1D', 'Antarctica/Casey');
    assert.equal(show(casey), '2010-03-04T13:00:00Z/2010-03-05T16:00:00Z');
    assert.equal(slotsInWindow(casey, Q), 108);
  });
  it('gives local months, including the ones with a DST change', () => {
    const march = windowOf(t('2026-03-15T00:00Z'), 'P1M', 'Europe/Berlin');
    assert.equal(show(march), '2026-02-28T23:00:00Z/2026-03-31T22:00:00Z');
    assert.equal(slotsInWindow(march, Q), 31 * 96 - 4);
    const october = windowOf(t('2026-10-31T22:59Z'), 'P1M', 'Europe/Berlin'); // 23:59 CET on the 31st
    assert.equal(show(october), '2026-09-30T22:00:00Z/2026-10-31T23:00:00Z');
    assert.equal(show(windowOf(t('2026-12-31T23:30Z'), 'P1M', 'UTC')), '2026-12-01T00:00:00Z/2027-01-01T00:00:00Z');
    assert.equal(
      show(windowOf(t('2026-12-31T23:30Z'), 'P1M', 'Europe/Berlin')),
      '2026-12-31T23:00:00Z/2027-01-31T23:00:00Z',
    );
  });
  it('always holds the instant and tiles the line (property over zones, resolutions and instants)', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'Asia/Kolkata',
      'America/St_Johns',
      'America/Santiago',
      'America/Sao_Paulo',
      'Australia/Lord_Howe',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: t('2000-01-01T00:00Z'), max: t('2040-01-01T00:00Z') }),
        fc.constantFrom(...zones),
        fc.constantFrom(...WINDOW_RESOLUTIONS),
        (ms, tz, res: WindowResolution) => {
          const w = windowOf(ms, res, tz);
          assert.ok(w.start <= ms && ms < w.end);
          assert.equal(windowOf(w.end, res, tz).start, w.end, 'the next window starts where this one ends');
          assert.equal(windowOf(w.start - 1, res, tz).end, w.start, 'the previous one ends where this one starts');
          if (res === 'P1D') assert.equal(localDayOf(w.start, tz), localDayOf(w.end - 1, tz));
        },
      ),
      { numRuns: 300 },
    );
  });
  it('refuses an unknown zone, resolution or a time that is not finite, with codes', () => {
    assert.throws(() => windowOf(0, 'P1D', 'Europe/Nowhere'), code('streams.invalid_time_zone'));
    assert.throws(() => windowOf(0, 'PT15M', 'Mars/Olympus'), code('streams.invalid_time_zone'));
    assert.throws(() => windowOf(Number.NaN, 'PT15M', 'UTC'), code('streams.invalid_argument'));
    assert.throws(() => windowOf(0, 'PT5M' as WindowResolution, 'UTC'), code('streams.invalid_argument'));
    assert.throws(() => localDayOf(Infinity, 'UTC'), code('streams.invalid_argument'));
  });
});

describe('windowsBetween', () => {
  it('lists the windows covering [from, to) in order: 100 quarters on the fall-back day', () => {
    const day = windowOf(t('2026-10-25T12:00Z'), 'P1D', 'Europe/Berlin');
    const quarters = windowsBetween(day.start, day.end, 'PT15M', 'Europe/Berlin');
    assert.equal(quarters.length, 100);
    assert.equal(quarters[0]?.start, day.start);
    assert.equal(quarters.at(-1)?.end, day.end);
    for (let i = 1; i < quarters.length; i++) assert.equal(quarters[i]?.start, quarters[i - 1]?.end);
  });
  it('includes partial windows at both ends and gives none for an empty range', () => {
    const ws = windowsBetween(t('2026-06-01T10:05Z'), t('2026-06-01T10:31Z'), 'PT15M', 'UTC');
    assert.deepEqual(ws.map(show), [
      '2026-06-01T10:00:00Z/2026-06-01T10:15:00Z',
      '2026-06-01T10:15:00Z/2026-06-01T10:30:00Z',
      '2026-06-01T10:30:00Z/2026-06-01T10:45:00Z',
    ]);
    assert.equal(windowsBetween(t('2026-06-01T10:00Z'), t('2026-06-01T10:15Z'), 'PT15M', 'UTC').length, 1);
    assert.deepEqual(windowsBetween(5, 5, 'P1D', 'UTC'), []);
  });
  it('lists local days across both DST changes of a year (365 days, 8 760 hours)', () => {
    const from = t('2025-12-31T23:00Z'); // 2026-01-01 00:00 CET
    const to = t('2026-12-31T23:00Z');
    const days = windowsBetween(from, to, 'P1D', 'Europe/Berlin');
    assert.equal(days.length, 365);
    const hours = days.map((d) => (d.end - d.start) / H);
    assert.deepEqual([hours.filter((h) => h === 23).length, hours.filter((h) => h === 25).length], [1, 1]);
    assert.equal(windowsBetween(from, to, 'PT1H', 'Europe/Berlin').length, 8760);
    assert.equal(windowsBetween(from, to, 'P1M', 'Europe/Berlin').length, 12);
  });
  it('refuses more windows than the limit, and a range that ends before it starts', () => {
    assert.throws(() => windowsBetween(0, (MAX_WINDOWS + 1) * Q, 'PT15M', 'UTC'), code('streams.too_many_windows'));
    assert.equal(windowsBetween(0, MAX_WINDOWS * Q, 'PT15M', 'UTC').length, MAX_WINDOWS);
    assert.throws(() => windowsBetween(0, 40 * 86_400_000, 'P1D', 'UTC', 30), code('streams.too_many_windows'));
    assert.equal(windowsBetween(0, 30 * 86_400_000, 'P1D', 'UTC', 30).length, 30);
    assert.throws(() => windowsBetween(10, 0, 'PT15M', 'UTC'), code('streams.invalid_argument'));
  });
});

describe('slotsInWindow', () => {
  it('refuses an interval that does not divide the window or is not positive', () => {
    const hour = windowOf(0, 'PT1H', 'UTC');
    assert.equal(slotsInWindow(hour, 60_000), 60);
    assert.throws(() => slotsInWindow(hour, 7 * 60_000), code('streams.invalid_argument'));
    assert.throws(() => slotsInWindow(hour, 0), code('streams.invalid_argument'));
    assert.throws(() => slotsInWindow(hour, 1.5), code('streams.invalid_argument'));
  });
});
