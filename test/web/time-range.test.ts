import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  customRange,
  localDate,
  presetRange,
  resolutionFor,
  zoneMidnight,
  zoneOffset,
} from '../../web/src/time-range.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('time ranges of the zone page', () => {
  it('presets end at the hour after the latest slot', () => {
    const anchor = Date.parse('2024-05-24T09:45:00Z');
    const range = presetRange(anchor, '1d');
    assert.equal(new Date(range.to).toISOString(), '2024-05-24T10:00:00.000Z');
    assert.equal(range.to - range.from, DAY);
    assert.equal(range.resolution, 'PT15M');
    assert.equal(presetRange(anchor, '7d').resolution, 'PT1H');
  });

  it('custom dates are whole local days in the zone, across DST changes', () => {
    // Europe/Berlin: 2024-03-31 has 23 hours.
    const range = customRange('2024-03-30', '2024-03-31', 'Europe/Berlin');
    assert.equal(new Date(range.from).toISOString(), '2024-03-29T23:00:00.000Z');
    assert.equal(new Date(range.to).toISOString(), '2024-03-31T22:00:00.000Z');
    assert.equal(range.to - range.from, 47 * HOUR);
    // Reversed or equal dates still give at least a day.
    const one = customRange('2023-05-09', '2023-05-09', 'Europe/Helsinki');
    assert.equal(new Date(one.from).toISOString(), '2023-05-08T21:00:00.000Z');
    assert.equal(one.to - one.from, DAY);
  });

  it('offsets and local dates', () => {
    assert.equal(zoneOffset(Date.parse('2023-05-09T12:00:00Z'), 'Europe/Helsinki'), 3 * HOUR);
    assert.equal(zoneOffset(Date.parse('2023-12-09T12:00:00Z'), 'Europe/Helsinki'), 2 * HOUR);
    assert.equal(zoneOffset(Date.parse('2023-12-09T12:00:00Z'), 'UTC'), 0);
    assert.equal(localDate(Date.parse('2023-05-08T21:30:00Z'), 'Europe/Helsinki'), '2023-05-09');
    assert.equal(zoneMidnight('2024-10-27', 'Europe/Paris'), Date.parse('2024-10-26T22:00:00Z'));
    assert.equal(zoneMidnight('2024-10-28', 'Europe/Paris'), Date.parse('2024-10-27T23:00:00Z'));
  });

  it('picks a resolution that keeps series short', () => {
    assert.equal(resolutionFor(3 * DAY), 'PT15M');
    assert.equal(resolutionFor(30 * DAY), 'PT1H');
    assert.equal(resolutionFor(400 * DAY), 'P1D');
  });
});
