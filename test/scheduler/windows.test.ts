import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { entsoeRequest, planRequest, splitPeriod, wholeLocalDays } from '../../src/connectors/entsoe/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { lookbackWindow } from '../../src/scheduler/index.ts';

const at = (s: string): number => Date.parse(s);
const iso = (t: number): string => `${new Date(t).toISOString().slice(0, 16)}Z`;
const span = (w: { start: number; end: number }): string[] => [iso(w.start), iso(w.end)];
const reference = loadReference();

describe('lookback windows', () => {
  it('hourly: the trailing 3 hours, aligned to whole hours or quarter-hours', () => {
    assert.deepEqual(span(lookbackWindow(at('2024-05-01T10:05Z'), { lookbackHours: 3 })), [
      '2024-05-01T07:00Z',
      '2024-05-01T10:00Z',
    ]);
    assert.deepEqual(span(lookbackWindow(at('2024-05-01T10:20:31Z'), { lookbackHours: 3, align: 'quarter-hour' })), [
      '2024-05-01T07:15Z',
      '2024-05-01T10:15Z',
    ]);
  });

  it('covers exactly 3 real hours across the spring and autumn DST changes', () => {
    // 2024-03-31 01:00Z: Brussels jumps 02:00 → 03:00 local. The window is three elapsed hours, not three wall-clock hours.
    assert.deepEqual(span(lookbackWindow(at('2024-03-31T02:05Z'), { lookbackHours: 3 })), [
      '2024-03-30T23:00Z',
      '2024-03-31T02:00Z',
    ]);
    assert.deepEqual(span(lookbackWindow(at('2024-10-27T02:05Z'), { lookbackHours: 3 })), [
      '2024-10-26T23:00Z',
      '2024-10-27T02:00Z',
    ]);
  });

  it('daily: the trailing 72 hours across month ends and leap days', () => {
    assert.deepEqual(span(lookbackWindow(at('2024-03-01T02:30Z'), { lookbackHours: 72 })), [
      '2024-02-27T02:00Z',
      '2024-03-01T02:00Z',
    ]);
    assert.deepEqual(span(lookbackWindow(at('2023-03-01T02:30Z'), { lookbackHours: 72 })), [
      '2023-02-26T02:00Z',
      '2023-03-01T02:00Z',
    ]);
    assert.deepEqual(span(lookbackWindow(at('2025-01-01T00:00Z'), { lookbackHours: 72, lookaheadHours: 24 })), [
      '2024-12-29T00:00Z',
      '2025-01-02T00:00Z',
    ]);
  });

  it('always ends on the grid, lasts exactly lookback + lookahead hours and contains no future data beyond it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00Z'), max: at('2040-01-01T00:00Z') }),
        fc.integer({ min: 1, max: 200 }),
        (t, h) => {
          const w = lookbackWindow(t, { lookbackHours: h, align: 'quarter-hour' });
          return w.end % 900_000 === 0 && w.end <= t && t - w.end < 900_000 && w.end - w.start === h * 3_600_000;
        },
      ),
    );
  });
});

describe('request periods across DST and month ends', () => {
  it('widens day-ahead prices to whole local days: 23- and 25-hour days included', () => {
    assert.deepEqual(
      span(wholeLocalDays({ start: at('2024-03-31T05:00Z'), end: at('2024-03-31T08:00Z') }, 'Europe/Berlin')),
      [
        '2024-03-30T23:00Z',
        '2024-03-31T22:00Z', // a 23-hour day
      ],
    );
    assert.deepEqual(
      span(wholeLocalDays({ start: at('2024-10-27T05:00Z'), end: at('2024-10-27T08:00Z') }, 'Europe/Berlin')),
      [
        '2024-10-26T22:00Z',
        '2024-10-27T23:00Z', // a 25-hour day
      ],
    );
    const r = entsoeRequest('A44', 'ES', { start: at('2024-10-27T05:00Z'), end: at('2024-10-27T08:00Z') }, reference);
    assert.deepEqual(
      planRequest(r).map((p) => [p.periodStart, p.periodEnd]),
      [['2024-10-26T22:00:00Z', '2024-10-27T23:00:00Z']],
    );
  });

  it('splits month chunks at local month starts, whatever the month length and offset', () => {
    const chunks = splitPeriod(
      { start: at('2023-12-31T23:00Z'), end: at('2024-05-31T22:00Z') },
      { unit: 'month', count: 1 },
      'Europe/Paris',
    );
    assert.deepEqual(
      chunks.map((c) => iso(c.end)),
      [
        '2024-01-31T23:00Z',
        '2024-02-29T23:00Z', // leap February
        '2024-03-31T22:00Z', // CEST from here on
        '2024-04-30T22:00Z',
        '2024-05-31T22:00Z',
      ],
    );
  });

  it('splits prices into calendar quarters (≤ 92 days < the 100-instance limit)', () => {
    const r = entsoeRequest('A44', 'FR', { start: at('2023-12-31T23:00Z'), end: at('2024-12-31T23:00Z') }, reference);
    const parts = planRequest(r);
    assert.deepEqual(
      parts.map((p) => p.periodEnd),
      ['2024-03-31T22:00:00Z', '2024-06-30T22:00:00Z', '2024-09-30T22:00:00Z', '2024-12-31T23:00:00Z'],
    );
    // 92 local days at most (plus the hour a DST change adds).
    for (const p of parts)
      assert.ok(Date.parse(p.periodEnd) - Date.parse(p.periodStart) <= 92 * 86_400_000 + 3_600_000);
  });

  it('never leaves gaps or overlaps between chunks, and never exceeds the span (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2015-01-01T00:00Z'), max: at('2035-01-01T00:00Z') }),
        fc.integer({ min: 1, max: 900 }),
        fc.constantFrom('Europe/Lisbon', 'Europe/Paris', 'Europe/Athens'),
        fc.constantFrom(
          { unit: 'month', count: 1 } as const,
          { unit: 'month', count: 3 } as const,
          { unit: 'year', count: 1 } as const,
        ),
        (start, days, tz, s) => {
          const period = {
            start: Math.floor(start / 60_000) * 60_000,
            end: Math.floor(start / 60_000) * 60_000 + days * 86_400_000,
          };
          const chunks = splitPeriod(period, s, tz);
          const max = (s.unit === 'year' ? 366 : s.count * 31) * 86_400_000 + 3_600_000;
          return (
            chunks[0]?.start === period.start &&
            chunks.at(-1)?.end === period.end &&
            chunks.every(
              (c, i) => c.end > c.start && c.end - c.start <= max && (i === 0 || chunks[i - 1]?.end === c.start),
            )
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
