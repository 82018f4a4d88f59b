import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decimalsFor, roundForUnit } from '../../src/api/numbers.ts';

describe('numbers for reading', () => {
  it('rounds by unit: MW and MWh 3 decimals, prices 2, gCO2eq/kWh 1, fractions 4', () => {
    assert.equal(roundForUnit(61.639140893470795, 'MW'), 61.639);
    assert.equal(roundForUnit(1234.56789, 'MWh'), 1234.568);
    assert.equal(roundForUnit(87.456, 'EUR/MWh'), 87.46);
    assert.equal(roundForUnit(-0.005, 'EUR/MWh'), -0.01, 'half away from zero, negative prices too');
    assert.equal(roundForUnit(123.45, 'gCO2eq/kWh'), 123.5);
    assert.equal(roundForUnit(0.123456, 'fraction'), 0.1235);
    assert.equal(Object.is(roundForUnit(-0.0001, 'MW'), 0), true, 'no -0');
  });
  it('never moves a value by more than half a unit of its last decimal', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.constantFrom('MW', 'MWh', 'EUR/MWh', 'gCO2eq/kWh', 'fraction'),
        (v, unit) => {
          const r = roundForUnit(v, unit);
          assert.ok(Math.abs(r - v) <= 0.5 * 10 ** -decimalsFor(unit) + 1e-9 * Math.abs(v), `${v} ${unit} → ${r}`);
        },
      ),
    );
  });
});
