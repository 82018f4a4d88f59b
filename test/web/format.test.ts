import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatValue } from '../../web/src/format.ts';

describe('dashboard value formatting', () => {
  it('shows a share (a fraction 0–1 from the API) as percent, other units as they are', () => {
    assert.match(formatValue(0.4235, 'fraction'), /^42\s?%$/);
    assert.match(formatValue(0.05, 'fraction'), /^5\s?%$/);
    assert.match(formatValue(48.19, 'EUR/MWh'), /^48(\.|,)19 EUR\/MWh$/);
    assert.equal(formatValue(null, 'fraction'), '–');
  });
});
