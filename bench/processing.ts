import { parseEntsoeDocument, stepStart } from '../src/connectors/entsoe/index.ts';
import type { EntsoeParseOutcome, EntsoeSeries } from '../src/connectors/entsoe/index.ts';
import { observationsFromEntsoe, slotIso, traceFlows } from '../src/processing/index.ts';
import type { TracingFlow, TracingZone } from '../src/processing/index.ts';
import { loadReference } from '../src/reference/index.ts';
import { buildYearDocument } from './entsoe-parse.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';

type SeriesOutcome = Extract<EntsoeParseOutcome, { kind: 'series' }>;

/** The same parsed year re-pointed at another zone (shares the period arrays; only the domain changes). */
function forZone(outcome: SeriesOutcome, eic: string): SeriesOutcome {
  return { ...outcome, series: outcome.series.map((s): EntsoeSeries => ({ ...s, inDomain: eic })) };
}

/** The least work that still turns every step into a {t, v} point: no mapping, merging, validation or chunks. */
function minimalPass(outcome: SeriesOutcome): number {
  let n = 0;
  let sink = 0;
  for (const s of outcome.series) {
    for (const p of s.periods) {
      for (let i = 0; i < p.positions.length; i++) {
        const point = { t: slotIso(stepStart(p, p.positions[i] ?? 0)), v: Number(p.values[i]) };
        sink += point.v;
        n++;
      }
    }
  }
  return n + (sink === Number.POSITIVE_INFINITY ? 1 : 0);
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Naive consumption intensity by fixed-point (Jacobi) iteration to 1e-9: what one writes without the linear algebra. */
function iterate(zones: readonly TracingZone[], flows: readonly TracingFlow[]): Map<string, number> {
  const c = new Map(zones.map((z) => [z.zone, (z.emissions[0] ?? 0) / z.production]));
  const imports = new Map<string, TracingFlow[]>();
  for (const f of flows) imports.set(f.to, [...(imports.get(f.to) ?? []), f]);
  for (let it = 0; it < 100_000; it++) {
    let delta = 0;
    const next = new Map<string, number>();
    for (const z of zones) {
      let e = z.emissions[0] ?? 0;
      let total = z.production;
      for (const f of imports.get(z.zone) ?? []) {
        e += f.mw * (c.get(f.from) ?? 0);
        total += f.mw;
      }
      const v = e / total;
      delta = Math.max(delta, Math.abs(v - (c.get(z.zone) ?? 0)));
      next.set(z.zone, v);
    }
    for (const [k, v] of next) c.set(k, v);
    if (delta < 1e-9) break;
  }
  return c;
}

export const processingBenchmark: Benchmark = {
  name: 'processing',
  description:
    'ENTSO-E series → 15-minute observations for a year × 40 zones; flow-tracing solve per slot for all European bidding zones',
  run(emit) {
    const reference = loadReference();
    const { bytes } = buildYearDocument();
    const parsed = parseEntsoeDocument(bytes, { maxBytes: 512 * 1024 * 1024 });
    if (parsed.kind !== 'series') throw new Error('benchmark document did not parse');
    const zones = reference
      .areas()
      .filter((a) => a.primaryType === 'BZN' && a.timeZoneKnown)
      .slice(0, 40);
    if (zones.length < 40) throw new Error(`only ${zones.length} bidding zones in the reference data`);
    let observations = 0;
    let start = performance.now();
    for (const zone of zones) {
      const result = observationsFromEntsoe(forZone(parsed, zone.eic), { reference, fallbackDocumentId: 'bench' });
      observations += result.stats.observations;
    }
    const ms = performance.now() - start;
    start = performance.now();
    let minimal = 0;
    for (const zone of zones) minimal += minimalPass(forZone(parsed, zone.eic));
    const baseMs = performance.now() - start;
    if (minimal !== observations)
      throw new Error(`minimal pass saw ${minimal} steps, processing made ${observations} observations`);
    emit(
      figure(
        'processing',
        'observations',
        observations / (ms / 1000),
        'observations/s',
        { name: 'minimal pass over the same steps (slot time + value only)', value: minimal / (baseMs / 1000) },
        `${observations} observations: 40 zones × 20 production types × a year at PT15M`,
      ),
    );

    // Flow tracing: every bidding zone of the reference data, each linked to 2–6 others, random mixes and flows.
    const all = reference
      .areas()
      .filter((a) => a.primaryType === 'BZN')
      .map((a) => a.code);
    const random = mulberry32(42);
    const slots = 2000;
    const systems: { zones: TracingZone[]; flows: TracingFlow[] }[] = [];
    for (let s = 0; s < slots; s++) {
      const tz: TracingZone[] = all.map((zone) => {
        const production = 100 + random() * 20_000;
        return { zone, production, emissions: [production * (20 + random() * 800), production * random() * 700] };
      });
      const flows: TracingFlow[] = [];
      all.forEach((from, i) => {
        const links = 1 + Math.floor(random() * 3);
        for (let l = 0; l < links; l++)
          flows.push({ from, to: all[(i + 1 + Math.floor(random() * 8)) % all.length] ?? from, mw: random() * 3000 });
      });
      systems.push({ zones: tz, flows });
    }
    start = performance.now();
    for (const sys of systems) traceFlows({ ...sys, rhsCount: 2, externalIntensity: () => 300 });
    const solveUs = ((performance.now() - start) * 1000) / slots;
    start = performance.now();
    for (const sys of systems.slice(0, 200)) iterate(sys.zones, sys.flows);
    const iterateUs = ((performance.now() - start) * 1000) / 200;
    emit(
      figure(
        'processing',
        'flow_tracing_solve',
        solveUs,
        'µs/slot',
        { name: 'fixed-point iteration to 1e-9 (one factor basis)', value: iterateUs, lowerIsBetter: true },
        `${all.length} zones, lifecycle + direct solved together, ${slots} slots`,
      ),
    );
  },
};
