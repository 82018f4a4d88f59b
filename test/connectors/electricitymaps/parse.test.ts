import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { breakdownShares, parseElectricityMaps } from '../../../src/connectors/electricitymaps/index.ts';
import type { PowerBreakdown } from '../../../src/connectors/electricitymaps/index.ts';
import { emapsFixture, emapsFixtureNames } from '../../helpers/emaps.ts';

describe('parseElectricityMaps on every fixture', () => {
  const expected: Record<string, string> = {
    'co2signal_v1_latest_DE_no-data.json': 'no_data',
    'co2signal_v1_latest_DE_ok_2023-10-02.json': 'carbon_intensity',
    'v3_carbon-intensity_history_DE_2024-03-05.json': 'carbon_intensity',
    'v3_carbon-intensity_latest_US-CAR-DUK_2024-03-06.json': 'carbon_intensity',
    'v3_carbon-intensity_past-range_DK-DK2_2024-03-18.json': 'carbon_intensity',
    'v3_power-breakdown_history_DE_2024-03-05.json': 'power_breakdown',
    'v3_power-breakdown_latest_DE_2024-03-06.json': 'power_breakdown',
    'v3_zones_2023-10.json': 'unsupported',
  };
  it('recognises each shape', () => {
    assert.deepEqual(Object.keys(expected).sort(), emapsFixtureNames());
    for (const name of emapsFixtureNames())
      assert.equal(parseElectricityMaps(emapsFixture(name)).kind, expected[name], name);
  });
  it('reads history entries and the past-range "data" key', () => {
    const history = parseElectricityMaps(emapsFixture('v3_carbon-intensity_history_DE_2024-03-05.json'));
    assert.equal(history.kind, 'carbon_intensity');
    assert.equal(history.entries.length, 24);
    const range = parseElectricityMaps(emapsFixture('v3_carbon-intensity_past-range_DK-DK2_2024-03-18.json'));
    assert.equal(range.kind, 'carbon_intensity');
    assert.deepEqual(
      range.entries.map((e) => e.carbonIntensity),
      [161, 167],
    );
  });
  it('an error body or garbage is invalid, not a crash', () => {
    assert.deepEqual(parseElectricityMaps({ error: 'Invalid auth-token' }), {
      kind: 'invalid',
      message: 'error response: Invalid auth-token',
    });
    assert.equal(parseElectricityMaps(42).kind, 'invalid');
  });
});

describe('renewable and fossil-free shares, recomputed from their breakdowns', () => {
  // Electricity Maps publishes integer percentages computed from unrounded data, from the consumption (flow-traced)
  // breakdown, counting hydro and battery discharge as renewable and nuclear as fossil-free. The breakdowns in the
  // response are rounded to whole MW, so "equal to rounding" means within one percentage point.
  const entries = (name: string): PowerBreakdown[] => {
    const outcome = parseElectricityMaps(emapsFixture(name));
    assert.equal(outcome.kind, 'power_breakdown');
    return [...outcome.entries];
  };
  for (const name of [
    'v3_power-breakdown_history_DE_2024-03-05.json',
    'v3_power-breakdown_latest_DE_2024-03-06.json',
  ]) {
    it(`${name}: every hour within one point of the published figures`, () => {
      let exact = 0;
      const all = entries(name);
      for (const e of all) {
        const shares = breakdownShares(e.powerConsumptionBreakdown);
        assert.ok(shares);
        assert.ok(
          Math.abs(shares.renewable - (e.renewablePercentage ?? Number.NaN)) < 1,
          `${e.datetime} renewable ${shares.renewable} vs ${String(e.renewablePercentage)}`,
        );
        assert.ok(
          Math.abs(shares.fossilFree - (e.fossilFreePercentage ?? Number.NaN)) < 1,
          `${e.datetime} fossil-free ${shares.fossilFree} vs ${String(e.fossilFreePercentage)}`,
        );
        if (
          Math.round(shares.renewable) === e.renewablePercentage &&
          Math.round(shares.fossilFree) === e.fossilFreePercentage
        )
          exact++;
      }
      assert.ok(exact >= all.length * 0.7, `${exact}/${all.length} hours round exactly to the published pair`);
    });
  }
});
