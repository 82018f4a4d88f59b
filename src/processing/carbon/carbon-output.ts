import type { Flag, GridSeriesChunk, Metric, ObservationPoint, Unit } from '../../contracts/index.ts';
import { MAX_POINTS_PER_CHUNK } from '../chunks.ts';
import { slotIso } from '../slot-time.ts';
import type { CarbonResult } from './carbon-state.ts';

/** The CSV header of `gridstream carbon`. */
export const CARBON_CSV_HEADER =
  'zone,slot_start_utc,production_lifecycle,production_direct,consumption_lifecycle,renewable_share,fossil_free_share,completeness';

/** Numbers with at most 3 decimals and no trailing zeros; empty for `null`. */
export function formatNumber(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '';
  const rounded = Math.round(x * 1000) / 1000;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export function carbonCsvRow(r: CarbonResult): string {
  return [
    r.zone,
    slotIso(r.slot),
    formatNumber(r.productionLifecycle),
    formatNumber(r.productionDirect),
    formatNumber(r.consumptionLifecycle),
    formatNumber(r.renewableShare),
    formatNumber(r.fossilFreeShare),
    formatNumber(r.completeness),
  ].join(',');
}

interface Output {
  readonly metric: Metric;
  readonly qualifier: string;
  readonly unit: Unit;
  readonly value: (r: CarbonResult) => number | null;
}

const OUTPUTS: readonly Output[] = [
  {
    metric: 'carbon_intensity_production',
    qualifier: 'factors=lifecycle',
    unit: 'gCO2eq/kWh',
    value: (r) => r.productionLifecycle,
  },
  {
    metric: 'carbon_intensity_production',
    qualifier: 'factors=direct',
    unit: 'gCO2eq/kWh',
    value: (r) => r.productionDirect,
  },
  {
    metric: 'carbon_intensity_consumption',
    qualifier: 'factors=lifecycle',
    unit: 'gCO2eq/kWh',
    value: (r) => r.consumptionLifecycle,
  },
  {
    metric: 'carbon_intensity_consumption',
    qualifier: 'factors=direct',
    unit: 'gCO2eq/kWh',
    value: (r) => r.consumptionDirect,
  },
  { metric: 'renewable_share', qualifier: '', unit: 'fraction', value: (r) => r.renewableShare },
  { metric: 'fossil_free_share', qualifier: '', unit: 'fraction', value: (r) => r.fossilFreeShare },
];

const PARTIAL: Flag[] = ['partial'];

/**
 * Carbon results as `grid.carbon` chunks (source `gridstream`): production- and consumption-based intensity with
 * lifecycle and direct factors, renewable and fossil-free shares; incomplete slots flagged `partial`.
 */
export function carbonChunks(results: readonly CarbonResult[], documentId: string): GridSeriesChunk[] {
  const byKey = new Map<string, { zone: string; output: Output; points: ObservationPoint[] }>();
  const sorted = [...results].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : a.slot - b.slot));
  for (const r of sorted) {
    for (const output of OUTPUTS) {
      const v = output.value(r);
      if (v === null || !Number.isFinite(v)) continue;
      const key = `${r.zone}|${output.metric}|${output.qualifier}`;
      let entry = byKey.get(key);
      if (entry === undefined) {
        entry = { zone: r.zone, output, points: [] };
        byKey.set(key, entry);
      }
      entry.points.push(r.partial ? { t: slotIso(r.slot), v, f: PARTIAL } : { t: slotIso(r.slot), v });
    }
  }
  const chunks: GridSeriesChunk[] = [];
  for (const { zone, output, points } of byKey.values()) {
    for (let i = 0; i < points.length; i += MAX_POINTS_PER_CHUNK) {
      chunks.push({
        zone,
        metric: output.metric,
        productionType: '',
        counterpartZone: '',
        qualifier: output.qualifier,
        unit: output.unit,
        source: 'gridstream',
        documentId,
        revision: 0,
        points: points.slice(i, i + MAX_POINTS_PER_CHUNK),
      });
    }
  }
  return chunks;
}
