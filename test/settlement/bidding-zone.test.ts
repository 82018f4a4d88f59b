import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadReference } from '../../src/reference/index.ts';
import { biddingZoneOf } from '../../src/settlement/index.ts';

const reference = loadReference();

describe('biddingZoneOf (the shipped reference data)', () => {
  it('a bidding zone is its own', () => {
    assert.equal(biddingZoneOf(reference, 'DE_LU'), 'DE_LU');
    assert.equal(biddingZoneOf(reference, 'FR'), 'FR');
    assert.equal(biddingZoneOf(reference, 'NO_2'), 'NO_2');
    assert.equal(biddingZoneOf(reference, 'IT_NORD'), 'IT_NORD');
    assert.equal(biddingZoneOf(reference, 'LU_BZN'), 'DE_LU', 'an alias gives the canonical code');
  });
  it('a control area or country maps to the one bidding zone that fits it tightest', () => {
    // LU (CTA/CTY) lies in DE_LU and in the former DE_AT_LU (split in 2018): DE_LU has fewer countries.
    assert.equal(reference.zone('LU').primaryType, 'CTA');
    assert.equal(biddingZoneOf(reference, 'LU'), 'DE_LU');
    // DE (IPA/CTY) also lies in DE_AT_LU and CZ_DE_SK; its TSO control areas the same.
    assert.equal(biddingZoneOf(reference, 'DE'), 'DE_LU');
    assert.equal(biddingZoneOf(reference, 'DE_AMPRION'), 'DE_LU');
    assert.equal(biddingZoneOf(reference, 'DE_50HZ'), 'DE_LU');
    assert.equal(biddingZoneOf(reference, 'IE'), 'IE_SEM');
    assert.equal(biddingZoneOf(reference, 'PL_LFB'), 'PL');
  });
  it('a country split into several bidding zones has none', () => {
    for (const zone of ['IT', 'SE', 'NO', 'DK', 'DK_CA', 'UK', 'NIE', 'IT_MACRO_NORTH']) {
      assert.equal(biddingZoneOf(reference, zone), undefined, zone);
    }
  });
  it('a region without a country and an unknown zone have none', () => {
    assert.equal(biddingZoneOf(reference, 'CORE'), undefined);
    assert.equal(biddingZoneOf(reference, 'CONTINENTAL_EUROPE'), undefined);
    assert.equal(biddingZoneOf(reference, 'XX'), undefined);
    assert.equal(biddingZoneOf(reference, ''), undefined);
  });
  it('always answers a bidding zone of the reference data', () => {
    for (const area of reference.areas()) {
      const zone = biddingZoneOf(reference, area.code);
      if (zone !== undefined) assert.ok(reference.zone(zone).areaTypes.includes('BZN'), `${area.code} → ${zone}`);
    }
  });
});
