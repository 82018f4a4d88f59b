import type { CarbonMode } from '../../reference/index.ts';
import type { DayFactors } from './factors.ts';

/** One generation entry of a mix: its carbon mode, whether it counts as renewable / fossil-free, and MW. */
export interface MixEntry {
  readonly mode: CarbonMode;
  readonly renewable: boolean;
  readonly fossilFree: boolean;
  readonly mw: number;
}

export interface ProductionIntensity {
  /** Total generation counted (MW). */
  readonly generation: number;
  /** Emissions rate with lifecycle and direct factors (t/h numerically: MW × g/kWh = kg/h… kept as MW·g/kWh). */
  readonly emissionsLifecycle: number;
  readonly emissionsDirect: number;
  /** gCO2eq/kWh, `null` without generation. */
  readonly lifecycle: number | null;
  readonly direct: number | null;
  /** Fraction of generation, 0–1. */
  readonly renewableShare: number | null;
  readonly fossilFreeShare: number | null;
}

/**
 * Production-based carbon intensity of a mix: Σ generation × factor / Σ generation. Negative generation values
 * count as zero (a negative storage output is charging, which is consumption, not generation). Storage
 * discharge uses the storage discharge factor (emissions of the electricity that charged it); charging itself
 * emits nothing here (it is counted at discharge) and is not in the mix.
 */
export function productionIntensity(mix: Iterable<MixEntry>, factors: DayFactors): ProductionIntensity {
  let generation = 0;
  let lifecycle = 0;
  let direct = 0;
  let renewable = 0;
  let fossilFree = 0;
  for (const e of mix) {
    if (!(e.mw > 0)) continue;
    generation += e.mw;
    lifecycle += e.mw * factors.lifecycle[e.mode];
    direct += e.mw * factors.direct[e.mode];
    if (e.renewable) renewable += e.mw;
    if (e.fossilFree) fossilFree += e.mw;
  }
  const has = generation > 0;
  return {
    generation,
    emissionsLifecycle: lifecycle,
    emissionsDirect: direct,
    lifecycle: has ? lifecycle / generation : null,
    direct: has ? direct / generation : null,
    renewableShare: has ? renewable / generation : null,
    fossilFreeShare: has ? fossilFree / generation : null,
  };
}
