import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { CarbonState, FactorCache, productionIntensity, traceFlows } from '../../src/processing/index.ts';
import type { MixEntry, TracingZone } from '../../src/processing/index.ts';
import { CARBON_MODES, loadReference } from '../../src/reference/index.ts';

const reference = loadReference();
const SLOT = '2024-06-01T12:00:00Z';
const close = (a: number | null | undefined, b: number, eps = 1e-9) => {
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${String(a)} ≉ ${b}`);
};

function gen(
  zone: string,
  type: string,
  mw: number,
  t = SLOT,
  metric: 'generation_actual' | 'consumption_actual' = 'generation_actual',
): GridSeriesChunk {
  return {
    zone,
    metric,
    productionType: type,
    counterpartZone: '',
    qualifier: '',
    unit: 'MW',
    source: 'entsoe',
    documentId: 'test',
    revision: 1,
    points: [{ t, v: mw }],
  };
}
function flow(from: string, to: string, mw: number, t = SLOT): GridSeriesChunk {
  return {
    zone: from,
    metric: 'flow_physical',
    productionType: '',
    counterpartZone: to,
    qualifier: '',
    unit: 'MW',
    source: 'entsoe',
    documentId: 'test',
    revision: 1,
    points: [{ t, v: mw }],
  };
}
function compute(chunks: GridSeriesChunk[]) {
  const state = new CarbonState(reference);
  for (const c of chunks) state.add(c);
  return new Map(state.compute().map((r) => [r.zone, r]));
}

describe('production-based intensity (hand-computed; TR has no factor overrides, so IPCC 2014 defaults apply)', () => {
  it('Σ generation × factor / Σ generation, lifecycle and direct, with shares', () => {
    const r = compute([gen('TR', 'B04', 100), gen('TR', 'B19', 300)]).get('TR');
    close(r?.productionLifecycle, (100 * 490 + 300 * 11) / 400); // 130.75
    close(r?.productionDirect, (100 * 370 + 300 * 0) / 400); // 92.5
    close(r?.renewableShare, 0.75);
    close(r?.fossilFreeShare, 0.75);
    assert.equal(r?.consumptionLifecycle, null, 'no flows: no consumption-based value');
  });
  it('storage: discharge counts with the storage factor; pumping (consumption) and negative output are not generation', () => {
    const r = compute([
      gen('TR', 'B04', 100),
      gen('TR', 'B19', 300),
      gen('TR', 'B10', 100),
      gen('TR', 'B25', -50), // a battery charging reported as negative output
      gen('TR', 'B10', 200, SLOT, 'consumption_actual'),
    ]).get('TR');
    // hydro discharge 2024: 350.96 lifecycle / 291.77 direct (Electricity Maps fallback, emission-factors.csv)
    close(r?.productionLifecycle, (100 * 490 + 300 * 11 + 100 * 350.96) / 500);
    close(r?.productionDirect, (100 * 370 + 100 * 291.77) / 500);
    close(r?.renewableShare, 0.6, 1e-12);
    close(r?.generation, 500);
  });
  it('zone overrides come first: DE_LU coal uses the DE 2024 lifecycle factor 1140.4', () => {
    close(compute([gen('DE_LU', 'B05', 10)]).get('DE_LU')?.productionLifecycle, 1140.4);
  });
  it('a slot missing a usually present type is partial; completeness is the share of usual types present', () => {
    const chunks: GridSeriesChunk[] = [];
    for (let h = 0; h < 10; h++) {
      const t = `2024-06-01T${String(h).padStart(2, '0')}:00:00Z`;
      chunks.push(gen('TR', 'B04', 100, t), gen('TR', 'B19', 100, t));
      if (h !== 9) chunks.push(gen('TR', 'B14', 100, t));
      if (h === 3) chunks.push(gen('TR', 'B20', 5, t)); // rare: not usual, its absence is not partial
    }
    const state = new CarbonState(reference);
    for (const c of chunks) state.add(c);
    const results = state.compute();
    const last = results.find((r) => r.slot === Date.parse('2024-06-01T09:00:00Z'));
    assert.equal(last?.partial, true);
    assert.deepEqual(last.missingTypes, ['B14']);
    close(last.completeness, 2 / 3);
    assert.ok(
      results
        .filter((r) => r.slot !== Date.parse('2024-06-01T09:00:00Z'))
        .every((r) => !r.partial && r.completeness === 1),
    );
  });
});

describe('consumption-based intensity by flow tracing', () => {
  it('three zones in a flow cycle: the exact solution of the balance equations', () => {
    // Production 100 MW each at 100, 200, 300 g/kWh; 50 MW A→B→C→A.
    // 3a − c = 200, 3b − a = 400, 3c − b = 600  ⇒  a = 2000/13, b = 2400/13, c = 3400/13
    const zones: TracingZone[] = [
      { zone: 'A', production: 100, emissions: [10_000] },
      { zone: 'B', production: 100, emissions: [20_000] },
      { zone: 'C', production: 100, emissions: [30_000] },
    ];
    const c = traceFlows({
      zones,
      flows: [
        { from: 'A', to: 'B', mw: 50 },
        { from: 'B', to: 'C', mw: 50 },
        { from: 'C', to: 'A', mw: 50 },
      ],
      rhsCount: 1,
      externalIntensity: () => 0,
    });
    close(c.get('A')?.[0], 2000 / 13);
    close(c.get('B')?.[0], 2400 / 13);
    close(c.get('C')?.[0], 3400 / 13);
  });
  it('the same cycle through CarbonState on real zones (TR gas 490, BY wind 11, GE nuclear 12)', () => {
    // 3a − c = 980, 3b − a = 22, 3c − b = 24  ⇒  a = 8914/26, b = 9a − 2964, c = 3a − 980
    const a = 8914 / 26;
    const results = compute([
      gen('TR', 'B04', 100),
      gen('BY', 'B19', 100),
      gen('GE', 'B14', 100),
      flow('TR', 'BY', 50),
      flow('BY', 'GE', 50),
      flow('GE', 'TR', 50),
    ]);
    close(results.get('TR')?.consumptionLifecycle, a);
    close(results.get('BY')?.consumptionLifecycle, 9 * a - 2964);
    close(results.get('GE')?.consumptionLifecycle, 3 * a - 980);
    close(results.get('TR')?.consumptionDirect, (9 * 740) / 26); // direct: 3a − c = 740, 3b = a, 3c = b ⇒ a = 9·740/26
  });
  it('opposite flows of a pair are netted', () => {
    const c = traceFlows({
      zones: [
        { zone: 'A', production: 100, emissions: [10_000] },
        { zone: 'B', production: 100, emissions: [50_000] },
      ],
      flows: [
        { from: 'A', to: 'B', mw: 80 },
        { from: 'B', to: 'A', mw: 30 },
      ],
      rhsCount: 1,
      externalIntensity: () => 0,
    });
    close(c.get('A')?.[0], 100); // A only exports (net 50)
    close(c.get('B')?.[0], (50_000 + 50 * 100) / 150);
  });
  it('imports from a zone without a mix come in at the generation-weighted mean production intensity', () => {
    const results = compute([gen('TR', 'B04', 100), gen('BY', 'B19', 100), flow('FR', 'TR', 100)]);
    const mean = (100 * 490 + 100 * 11) / 200;
    close(results.get('TR')?.consumptionLifecycle, (100 * 490 + 100 * mean) / 200);
    assert.equal(results.get('BY')?.consumptionLifecycle, null);
  });
});

describe('issue time', () => {
  const issued = (c: GridSeriesChunk, issuedAt: string | undefined): GridSeriesChunk =>
    issuedAt === undefined ? c : { ...c, issuedAt };
  const intensity = (chunks: GridSeriesChunk[]) => compute(chunks).get('TR')?.productionLifecycle;

  it('a value issued earlier than the one held is ignored, as the sink ignores it', () => {
    // TR: gas 490, wind 11 (IPCC 2014 lifecycle). Held: 100 MW gas issued at 10:00; a replay issued at 08:00 says 0.
    const newer = issued(gen('TR', 'B04', 100), '2024-06-01T10:00:00Z');
    const wind = gen('TR', 'B19', 100);
    const stale = issued(gen('TR', 'B04', 0), '2024-06-01T08:00:00Z');
    close(intensity([newer, wind, stale]), (100 * 490 + 100 * 11) / 200);
    // Issued later, or with no issue time: it replaces the held value.
    close(intensity([newer, wind, issued(gen('TR', 'B04', 0), '2024-06-01T11:00:00Z')]), 11);
    close(intensity([newer, wind, gen('TR', 'B04', 0)]), 11);
  });

  it('flows follow the same rule', () => {
    const base = [gen('TR', 'B04', 100), gen('BY', 'B19', 100)];
    const held = issued(flow('BY', 'TR', 100), '2024-06-01T10:00:00Z');
    const stale = issued(flow('BY', 'TR', 0), '2024-06-01T09:00:00Z');
    const results = compute([...base, held, stale]);
    close(results.get('TR')?.consumptionLifecycle, (100 * 490 + 100 * 11) / 200);
  });
});

describe('properties', () => {
  const modes = CARBON_MODES.filter((m) => !m.endsWith('charge'));
  it('production intensity lies between the smallest and largest factor in the mix', () => {
    const factors = new FactorCache(reference);
    const zones = ['DE_LU', 'FR', 'IT_NORD', 'ES', 'PL', 'TR', 'SE_4'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2026, 11, 31) }),
        fc.array(fc.tuple(fc.constantFrom(...modes), fc.double({ min: 0.001, max: 10_000, noNaN: true })), {
          minLength: 1,
          maxLength: 12,
        }),
        (zone, t, raw) => {
          const f = factors.at(reference.zone(zone), t);
          const mix: MixEntry[] = raw.map(([mode, mw]) => ({
            mode: mode,
            mw,
            renewable: false,
            fossilFree: false,
          }));
          const r = productionIntensity(mix, f);
          for (const kind of ['lifecycle', 'direct'] as const) {
            const used = mix.map((e) => f[kind][e.mode]);
            const value = r[kind];
            assert.ok(value !== null && value >= Math.min(...used) - 1e-9 && value <= Math.max(...used) + 1e-9);
          }
        },
      ),
    );
  });
  it('flow tracing: intensities stay within the range of the sources, and emissions are conserved', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 12 })
          .chain((n) =>
            fc.tuple(
              fc.array(
                fc.tuple(fc.double({ min: 1, max: 5000, noNaN: true }), fc.double({ min: 0, max: 1200, noNaN: true })),
                { minLength: n, maxLength: n },
              ),
              fc.array(
                fc.tuple(
                  fc.integer({ min: 0, max: n }),
                  fc.integer({ min: 0, max: n }),
                  fc.double({ min: 0, max: 3000, noNaN: true }),
                ),
                { maxLength: 3 * n },
              ),
              fc.double({ min: 0, max: 1200, noNaN: true }),
            ),
          ),
        ([zonesRaw, flowsRaw, external]) => {
          const n = zonesRaw.length;
          const name = (i: number) => (i === n ? 'EXT' : `Z${i}`);
          const zones = zonesRaw.map(([p, intensity], i) => ({
            zone: name(i),
            production: p,
            emissions: [p * intensity],
          }));
          const flows = flowsRaw.map(([from, to, mw]) => ({ from: name(from), to: name(to), mw }));
          const c = traceFlows({ zones, flows, rhsCount: 1, externalIntensity: () => external });
          const sources = [...zonesRaw.map(([, i]) => i), external];
          const lo = Math.min(...sources);
          const hi = Math.max(...sources);
          for (const z of zones) {
            const v = c.get(z.zone)?.[0];
            assert.ok(
              v !== null && v !== undefined && v >= lo - 1e-6 && v <= hi + 1e-6,
              `${String(v)} outside [${lo}, ${hi}]`,
            );
          }
          // Conservation: Σ c_z·(P_z + imports_z) = Σ E_z + external imports·c_ext + Σ c_y·(flows y→z inside), i.e.
          // Σ c_z·consumption_z = Σ E_z + ext_in·c_ext − Σ c_z·exports_to_outside, with consumption = P + in − out.
          const net = new Map<string, number>();
          for (const f of flows)
            if (f.from !== f.to) net.set(`${f.from}>${f.to}`, (net.get(`${f.from}>${f.to}`) ?? 0) + f.mw);
          let left = 0;
          let right = zones.reduce((s, z) => s + (z.emissions[0] ?? 0), 0);
          const cons = new Map(zones.map((z) => [z.zone, z.production]));
          for (const [key, mw] of net) {
            const [from = '', to = ''] = key.split('>');
            const x = mw - (net.get(`${to}>${from}`) ?? 0);
            if (x <= 0) continue;
            if (cons.has(to)) cons.set(to, (cons.get(to) ?? 0) + x);
            if (cons.has(from)) cons.set(from, (cons.get(from) ?? 0) - x);
            if (!cons.has(from) && cons.has(to)) right += x * external;
          }
          for (const z of zones) left += (c.get(z.zone)?.[0] ?? 0) * (cons.get(z.zone) ?? 0);
          for (const [key, mw] of net) {
            const [from = '', to = ''] = key.split('>');
            const x = mw - (net.get(`${to}>${from}`) ?? 0);
            if (x > 0 && cons.has(from) && !cons.has(to)) right -= x * (c.get(from)?.[0] ?? 0);
          }
          assert.ok(Math.abs(left - right) <= 1e-6 * Math.max(1, Math.abs(right)), `${left} vs ${right}`);
        },
      ),
    );
  });
});
