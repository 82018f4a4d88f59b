import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeAxisLabels, timeAxisSpace, valueAxisLabels } from '../../web/src/chart-axes.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
/** Epoch seconds of a UTC wall time. */
const at = (y: number, m: number, d: number, h = 0): number => Date.UTC(y, m - 1, d, h) / 1000;
/** No-break spaces (en-US "4:00 AM", de-DE "1,3 Mio.") as plain ones, to compare. */
const plain = (labels: readonly string[]): string[] => labels.map((l) => l.replace(/[\u00a0\u202f]/g, ' '));

describe('chart axis labels in the page locale', () => {
  it('formats values with the locale’s separators and enough fraction digits for the tick spacing', () => {
    assert.deepEqual(valueAxisLabels([0, 617.25, 1234.5], 617.25, 'de-DE'), ['0', '617,25', '1.234,5']);
    assert.deepEqual(valueAxisLabels([0, 617.25, 1234.5], 617.25, 'en-US'), ['0', '617.25', '1,234.5']);
    assert.deepEqual(valueAxisLabels([-2.5, 0, 2.5], 2.5, 'fr-FR'), ['-2,5', '0', '2,5']);
    assert.deepEqual(valueAxisLabels([0, 20, 40], 20, 'de-DE'), ['0', '20', '40']);
  });

  it('groups thousands, and shortens an axis that reaches a million the way the locale does', () => {
    assert.deepEqual(valueAxisLabels([0, 5_000, 10_000], 5_000, 'de-DE'), ['0', '5.000', '10.000']);
    assert.deepEqual(valueAxisLabels([0, 5_000, 10_000], 5_000, 'en-US'), ['0', '5,000', '10,000']);
    assert.deepEqual(plain(valueAxisLabels([0, 625_000, 1_250_000], 625_000, 'de-DE')), ['0', '625.000', '1,3 Mio.']);
    assert.deepEqual(valueAxisLabels([0, 625_000, 1_250_000], 625_000, 'en-US'), ['0', '625K', '1.3M']);
  });

  it('labels hours in the zone’s time zone with the date under the first tick and at midnight', () => {
    const splits = [at(2024, 5, 23, 18), at(2024, 5, 23, 20), at(2024, 5, 23, 22), at(2024, 5, 24, 0)];
    assert.deepEqual(timeAxisLabels(splits, 2 * HOUR, 'Europe/Berlin', 'de-DE'), [
      '20:00\n23. Mai 2024',
      '22:00',
      '00:00\n24. Mai',
      '02:00',
    ]);
    assert.deepEqual(plain(timeAxisLabels(splits, 2 * HOUR, 'Europe/Berlin', 'en-US')), [
      '8:00 PM\nMay 23, 2024',
      '10:00 PM',
      '12:00 AM\nMay 24',
      '2:00 AM',
    ]);
  });

  it('labels days and months, with the year where one starts', () => {
    const days = [at(2023, 12, 30, 23), at(2023, 12, 31, 23), at(2024, 1, 1, 23)];
    assert.deepEqual(timeAxisLabels(days, DAY, 'Europe/Berlin', 'de-DE'), [
      '31. Dez.\n2023',
      '1. Jan.\n2024',
      '2. Jan.',
    ]);
    assert.deepEqual(timeAxisLabels(days, DAY, 'Europe/Berlin', 'en-GB'), ['31 Dec\n2023', '1 Jan\n2024', '2 Jan']);
    const months = [at(2024, 2, 29, 23), at(2024, 3, 31, 22)];
    assert.deepEqual(timeAxisLabels(months, 31 * DAY, 'Europe/Berlin', 'de-DE'), ['Mär\n2024', 'Apr']);
    assert.deepEqual(timeAxisLabels([at(2024, 1, 1)], 365 * DAY, 'UTC', 'de-DE'), ['2024']);
  });

  it('leaves room between time ticks for the locale’s time of day', () => {
    assert.equal(timeAxisSpace('de-DE'), 50, '“23:00”: uPlot’s default spacing');
    assert.ok(timeAxisSpace('en-US') > 60, '“11:00 PM” needs more');
  });
});
