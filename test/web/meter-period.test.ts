import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addMonths,
  dayResolutionFor,
  periodBounds,
  periodFrom,
  periodLabel,
  periodQuery,
  periodSearch,
  periodWindows,
  shiftPeriod,
  switchView,
  todayIn,
} from '../../web/src/meter-period.ts';

const HOUR = 3_600_000;

describe('the period of a meter page', () => {
  it('reads the address, falling back to today as a day', () => {
    assert.deepEqual(periodFrom(new URLSearchParams('date=2025-10-26'), '2026-01-05'), {
      view: 'day',
      date: '2025-10-26',
    });
    assert.deepEqual(periodFrom(new URLSearchParams('view=month&month=2025-10'), '2026-01-05'), {
      view: 'month',
      month: '2025-10',
    });
    assert.deepEqual(periodFrom(new URLSearchParams('date=yesterday'), '2026-01-05'), {
      view: 'day',
      date: '2026-01-05',
    });
    assert.deepEqual(periodFrom(new URLSearchParams('view=month&month=2025-13'), '2026-01-05'), {
      view: 'month',
      month: '2026-01',
    });
    for (const p of [
      { view: 'day', date: '2025-03-30' },
      { view: 'month', month: '2025-03' },
    ] as const)
      assert.deepEqual(periodFrom(new URLSearchParams(periodSearch(p)), '2000-01-01'), p);
  });

  it('steps days and months across year ends', () => {
    assert.deepEqual(shiftPeriod({ view: 'day', date: '2025-12-31' }, 1), { view: 'day', date: '2026-01-01' });
    assert.deepEqual(shiftPeriod({ view: 'day', date: '2024-03-01' }, -1), { view: 'day', date: '2024-02-29' });
    assert.deepEqual(shiftPeriod({ view: 'month', month: '2026-01' }, -1), { view: 'month', month: '2025-12' });
    assert.equal(addMonths('2025-12', 1), '2026-01');
    assert.equal(addMonths('2025-01', -13), '2023-12');
  });

  it('switches between day and month around the same time', () => {
    assert.deepEqual(switchView({ view: 'day', date: '2025-10-26' }, 'month', '2026-01-05'), {
      view: 'month',
      month: '2025-10',
    });
    assert.deepEqual(switchView({ view: 'month', month: '2025-10' }, 'day', '2026-01-05'), {
      view: 'day',
      date: '2025-10-01',
    });
    assert.deepEqual(switchView({ view: 'month', month: '2026-01' }, 'day', '2026-01-05'), {
      view: 'day',
      date: '2026-01-05',
    });
  });

  it('asks the API for bare local dates at the resolution of the view', () => {
    assert.deepEqual(periodQuery({ view: 'day', date: '2025-10-26' }), {
      from: '2025-10-26',
      to: '2025-10-27',
      resolution: 'PT15M',
    });
    assert.deepEqual(periodQuery({ view: 'month', month: '2025-12' }), {
      from: '2025-12-01',
      to: '2026-01-01',
      resolution: 'P1D',
    });
  });

  it('a meter reporting less often than every quarter hour is shown by the hour', () => {
    assert.equal(dayResolutionFor('PT5M'), 'PT15M');
    assert.equal(dayResolutionFor('PT15M'), 'PT15M');
    assert.equal(dayResolutionFor('PT30M'), 'PT1H');
    assert.equal(dayResolutionFor('PT60M'), 'PT1H');
    assert.equal(periodQuery({ view: 'day', date: '2025-10-26' }, 'PT1H').resolution, 'PT1H');
    assert.equal(periodQuery({ view: 'month', month: '2025-10' }, 'PT1H').resolution, 'P1D');
    assert.equal(periodWindows({ view: 'day', date: '2025-10-26' }, 'Europe/Berlin', 'PT1H'), 25);
  });

  it('a Berlin DST day has 25 (autumn) or 23 (spring) hours: 100 or 92 quarter hours', () => {
    const autumn = periodBounds({ view: 'day', date: '2025-10-26' }, 'Europe/Berlin');
    assert.equal(new Date(autumn.from).toISOString(), '2025-10-25T22:00:00.000Z');
    assert.equal(new Date(autumn.to).toISOString(), '2025-10-26T23:00:00.000Z');
    assert.equal(autumn.to - autumn.from, 25 * HOUR);
    assert.equal(periodWindows({ view: 'day', date: '2025-10-26' }, 'Europe/Berlin'), 100);
    assert.equal(periodWindows({ view: 'day', date: '2025-03-30' }, 'Europe/Berlin'), 92);
    assert.equal(periodWindows({ view: 'day', date: '2025-10-26' }, 'UTC'), 96);
    const october = periodBounds({ view: 'month', month: '2025-10' }, 'Europe/Berlin');
    assert.equal(october.to - october.from, (31 * 24 + 1) * HOUR);
    assert.equal(periodWindows({ view: 'month', month: '2024-02' }, 'Europe/Berlin'), 29);
  });

  it("today is the meter's today, not UTC's", () => {
    const late = Date.parse('2025-10-26T23:30:00Z');
    assert.equal(todayIn('Europe/Berlin', late), '2025-10-27');
    assert.equal(todayIn('UTC', late), '2025-10-26');
    assert.equal(todayIn('America/New_York', late), '2025-10-26');
  });

  it('labels the period in the locale, on its calendar date', () => {
    assert.equal(periodLabel({ view: 'day', date: '2025-10-26' }, 'en-GB'), 'Sunday, 26 October 2025');
    assert.equal(periodLabel({ view: 'month', month: '2025-10' }, 'de-DE'), 'Oktober 2025');
  });
});
