import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCsv } from '../../src/common/index.ts';
import { ReferenceDataError, loadReference } from '../../src/reference/index.ts';
import { DATA } from '../helpers/fixtures.ts';

const reference = loadReference();

describe('areas', () => {
  it('every EIC of the table is an area with a unique zone code and a valid time zone', () => {
    const rows = parseCsv(readFileSync(join(DATA, 'reference', 'eic-areas.csv'), 'utf8'));
    assert.equal(reference.areas().length, rows.length);
    const codes = new Set(reference.areas().map((a) => a.code));
    assert.equal(codes.size, rows.length, 'zone codes are unique');
    for (const row of rows) {
      const area = reference.area(row['eic'] ?? '');
      assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: area.timeZone }));
      if (row['timezone'] !== '') assert.equal(area.timeZone, row['timezone']);
    }
  });
  it('maps the codes issue #3 names, keeping control areas and countries apart from bidding zones', () => {
    assert.equal(reference.area('10Y1001A1001A82H').code, 'DE_LU');
    assert.equal(reference.area('10Y1001A1001A82H').primaryType, 'BZN');
    assert.equal(reference.area('10YLU-CEGEDEL-NQ').code, 'LU');
    assert.equal(reference.area('10YLU-CEGEDEL-NQ').primaryType, 'CTA');
    assert.equal(reference.area('10Y1001A1001A83F').code, 'DE');
    assert.equal(reference.area('10Y1001A1001A73I').code, 'IT_NORD');
    assert.equal(reference.area('10Y1001A1001A48H').code, 'NO_5');
    assert.equal(reference.area('10YFR-RTE------C').timeZone, 'Europe/Paris');
  });
  it('resolves a code shared by two EICs: the bidding zone keeps it', () => {
    assert.equal(reference.zone('PL').eic, '10YPL-AREA-----S');
    assert.equal(reference.zone('PL_LFB').eic, '10YCB-POLAND---Z');
  });
  it('finds areas by alias', () => {
    assert.equal(reference.zone('LU_BZN').code, 'DE_LU');
  });
  it('an unknown code is a typed, non-retryable error, never undefined', () => {
    assert.throws(
      () => reference.area('10YXX----------X'),
      (e: unknown) => e instanceof ReferenceDataError && e.code === 'reference.unknown_area' && !e.retryable,
    );
    assert.throws(
      () => reference.zone('ATLANTIS'),
      (e: unknown) => e instanceof ReferenceDataError && e.code === 'reference.unknown_zone',
    );
    assert.throws(
      () => reference.productionType('B99'),
      (e: unknown) => e instanceof ReferenceDataError && e.code === 'reference.unknown_production_type',
    );
    assert.equal(reference.hasEic('nope'), false);
  });
});

describe('production types', () => {
  it('B01–B25 and the aggregates are known, with their carbon modes', () => {
    for (let i = 1; i <= 25; i++) assert.ok(reference.hasProductionType(`B${String(i).padStart(2, '0')}`));
    assert.equal(reference.productionType('B16').mode, 'solar');
    assert.equal(reference.productionType('B02').mode, 'coal');
    assert.equal(reference.productionType('B17').mode, 'biomass');
    assert.equal(reference.productionType('B21').mode, null);
  });
  it('storage is explicit: discharge and charge modes', () => {
    assert.deepEqual(
      [reference.productionType('B10').mode, reference.productionType('B10').chargeMode],
      ['hydro discharge', 'hydro charge'],
    );
    assert.deepEqual(
      [reference.productionType('B25').mode, reference.productionType('B25').chargeMode],
      ['battery discharge', 'battery charge'],
    );
  });
  it('renewable and fossil-free flags follow the category', () => {
    assert.equal(reference.productionType('B19').renewable, true);
    assert.equal(reference.productionType('B14').renewable, false);
    assert.equal(reference.productionType('B14').fossilFree, true);
    assert.equal(reference.productionType('B04').fossilFree, false);
  });
});

describe('emission factors', () => {
  const at = (y: number) => Date.UTC(y, 5, 1);
  it('global defaults (IPCC 2014 lifecycle, direct)', () => {
    assert.equal(reference.emissionFactor({ mode: 'coal', kind: 'lifecycle', at: at(2024) }).value, 820);
    assert.equal(reference.emissionFactor({ mode: 'gas', kind: 'direct', at: at(2024) }).value, 370);
    assert.equal(reference.emissionFactor({ mode: 'wind', kind: 'direct', at: at(2024) }).value, 0);
  });
  it('picks the factor valid at the date', () => {
    assert.equal(
      reference.emissionFactor({ mode: 'battery discharge', kind: 'lifecycle', at: at(2018) }).value,
      509.14,
    );
    assert.equal(
      reference.emissionFactor({ mode: 'battery discharge', kind: 'lifecycle', at: at(2025) }).value,
      358.44,
    );
    assert.equal(
      reference.emissionFactor({ mode: 'battery discharge', kind: 'lifecycle', at: at(2010) }).value,
      370.25,
      'before the first entry: the earliest',
    );
  });
  it('zone overrides come first; DE_LU uses the DE overrides through its country', () => {
    const de = reference.zone('DE');
    const deLu = reference.zone('DE_LU');
    assert.equal(reference.emissionFactor({ mode: 'coal', kind: 'lifecycle', at: at(2024), zone: de }).value, 1140.4);
    assert.equal(reference.emissionFactor({ mode: 'coal', kind: 'lifecycle', at: at(2024), zone: deLu }).value, 1140.4);
    assert.equal(reference.emissionFactor({ mode: 'coal', kind: 'lifecycle', at: at(2019), zone: de }).value, 1108.04);
    assert.equal(
      reference.emissionFactor({ mode: 'geothermal', kind: 'lifecycle', at: at(2024), zone: de }).value,
      38,
      'no override: default',
    );
  });
  it('storage charging emits nothing (counted at discharge)', () => {
    assert.equal(reference.emissionFactor({ mode: 'hydro charge', kind: 'lifecycle', at: at(2024) }).value, 0);
  });
});

describe('code lists', () => {
  it('names ENTSO-E codes', () => {
    assert.equal(reference.codeName('document-types', 'A75'), 'Actual generation per type');
    assert.equal(reference.hasCode('process-types', 'A16'), true);
    assert.throws(() => reference.codeName('curve-types', 'Z9'), ReferenceDataError);
  });
});
