import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseElectricityMaps } from '../../src/connectors/electricitymaps/index.ts';
import { FactorCache, observationsFromElectricityMaps, productionIntensity } from '../../src/processing/index.ts';
import type { MixEntry } from '../../src/processing/index.ts';
import { CARBON_MODES, loadReference } from '../../src/reference/index.ts';
import type { CarbonMode } from '../../src/reference/index.ts';
import { emapsFixture } from '../helpers/emaps.ts';

const reference = loadReference();

describe('Electricity Maps → observations', () => {
  it('power breakdown history: generation per mode, flows per neighbour, published shares; no loss', () => {
    const r = observationsFromElectricityMaps(
      parseElectricityMaps(emapsFixture('v3_power-breakdown_history_DE_2024-03-05.json')),
      { reference, documentId: 'x' },
    );
    assert.equal(r.rejects.length, 0);
    assert.equal(r.stats.stepsIn, r.stats.stepsUsed);
    const keys = new Set(
      r.chunks.map((c) => `${c.zone}|${c.metric}|${c.productionType}|${c.counterpartZone}|${c.qualifier}`),
    );
    assert.ok(keys.has('DE|generation_actual|coal||source=electricitymaps'));
    assert.ok(keys.has('DE|generation_actual|hydro_discharge||source=electricitymaps'));
    assert.ok(keys.has('DK_1|flow_physical||DE|source=electricitymaps'), 'imports: from the neighbour into DE');
    assert.ok(keys.has('DE|flow_physical||PL|source=electricitymaps'), 'exports: from DE to the neighbour');
    assert.ok(keys.has('DE|renewable_share|||source=electricitymaps'));
    assert.ok(r.chunks.every((c) => c.source === 'electricitymaps'));
    const coal = r.chunks.find((c) => c.metric === 'generation_actual' && c.productionType === 'coal');
    assert.deepEqual(
      coal?.points.slice(0, 4).map((p) => [p.t, p.v]),
      [
        ['2024-03-05T20:00:00Z', 22506],
        ['2024-03-05T20:15:00Z', 22506],
        ['2024-03-05T20:30:00Z', 22506],
        ['2024-03-05T20:45:00Z', 22506],
      ],
    );
  });
  it('carbon intensity keeps its factor basis and never shares a key with gridstream values', () => {
    const r = observationsFromElectricityMaps(
      parseElectricityMaps(emapsFixture('v3_carbon-intensity_history_DE_2024-03-05.json')),
      { reference, documentId: 'x' },
    );
    assert.deepEqual(
      new Set(r.chunks.map((c) => `${c.metric}|${c.qualifier}`)),
      new Set(['carbon_intensity_consumption|factors=lifecycle;source=electricitymaps']),
    );
    assert.equal(r.chunks[0]?.points[0]?.v, 599);
  });
  it('a zone outside the reference data is dead-lettered as unmapped_area', () => {
    const r = observationsFromElectricityMaps(
      parseElectricityMaps(emapsFixture('v3_carbon-intensity_latest_US-CAR-DUK_2024-03-06.json')),
      { reference, documentId: 'x' },
    );
    assert.equal(r.rejects[0]?.code, 'processing.unmapped_area');
    assert.equal(r.rejects[0].position['zone'], 'US-CAR-DUK');
    assert.equal(r.stats.stepsRejected, r.stats.stepsIn);
  });
  it('legacy CO2 Signal: intensity and the fossil-free share (100 − fossil fuel share)', () => {
    const r = observationsFromElectricityMaps(
      parseElectricityMaps(emapsFixture('co2signal_v1_latest_DE_ok_2023-10-02.json')),
      { reference, documentId: 'x' },
    );
    const ff = r.chunks.find((c) => c.metric === 'fossil_free_share');
    assert.ok(ff !== undefined && Math.abs((ff.points[0]?.v ?? 0) - 0.5778) < 1e-9);
    assert.equal(ff.unit, 'fraction');
  });
});

describe('production-based intensity from their production breakdown vs their published intensity', () => {
  // What we compare and why: Electricity Maps publishes a consumption-based (flow-traced) intensity c for DE,
  // lifecycle factors. With production P at intensity p and imports I at unknown intensities between the lowest
  // lifecycle factor and the highest (coal), c·(P + I) = p·P + Σ Iᵢ·cᵢ bounds p to
  // [(c·(P+I) − I·max)/P, (c·(P+I) − I·min)/P]: the range their own figures allow. Our production-based intensity
  // from their production breakdown, with the DE emission factors of our reference table, must fall inside it.
  it('every hour of the DE history lies in the allowed range', () => {
    const breakdown = parseElectricityMaps(emapsFixture('v3_power-breakdown_history_DE_2024-03-05.json'));
    const published = parseElectricityMaps(emapsFixture('v3_carbon-intensity_history_DE_2024-03-05.json'));
    assert.ok(breakdown.kind === 'power_breakdown' && published.kind === 'carbon_intensity');
    const factors = new FactorCache(reference);
    const de = reference.zone('DE');
    breakdown.entries.forEach((e, i) => {
      const f = factors.at(de, Date.parse(e.datetime));
      const mix: MixEntry[] = Object.entries(e.powerProductionBreakdown)
        .filter(([mode]) => (CARBON_MODES as readonly string[]).includes(mode))
        .map(([mode, mw]) => ({ mode: mode as CarbonMode, mw: mw ?? 0, renewable: false, fossilFree: false }));
      const ours = productionIntensity(mix, f);
      const c = published.entries[i]?.carbonIntensity ?? Number.NaN;
      const P = ours.generation;
      const I = e.powerImportTotal ?? 0;
      const used = Object.values(f.lifecycle).filter((x) => x > 0);
      const lo = (c * (P + I) - I * Math.max(...used)) / P;
      const hi = (c * (P + I) - I * Math.min(...used)) / P;
      assert.ok(
        ours.lifecycle !== null && ours.lifecycle >= lo && ours.lifecycle <= hi,
        `${e.datetime}: ${String(ours.lifecycle)} not in [${lo}, ${hi}]`,
      );
    });
  });
});
