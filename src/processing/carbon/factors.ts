import type { Area, CarbonMode, FactorKind, ReferenceData } from '../../reference/index.ts';
import { CARBON_MODES } from '../../reference/index.ts';
import { DAY_MS } from '../../time/index.ts';

/** Emission factors of every carbon mode for one zone on one UTC day, lifecycle and direct (gCO2eq/kWh). */
export interface DayFactors {
  readonly lifecycle: Readonly<Record<CarbonMode, number>>;
  readonly direct: Readonly<Record<CarbonMode, number>>;
}

/**
 * Emission factors valid at a moment, zone overrides first (see `ReferenceData.emissionFactor`). Factors change
 * at most at their `valid_from` dates, so they are looked up once per zone and UTC day and cached: intensity for
 * a year of 40 zones is tens of millions of (slot, type) pairs.
 */
export class FactorCache {
  readonly #reference: ReferenceData;
  readonly #cache = new Map<string, DayFactors>();

  constructor(reference: ReferenceData) {
    this.#reference = reference;
  }

  at(zone: Area, t: number): DayFactors {
    const day = Math.floor(t / DAY_MS);
    const key = `${zone.code}|${day}`;
    let factors = this.#cache.get(key);
    if (factors === undefined) {
      const at = day * DAY_MS;
      const table = (kind: FactorKind): Record<CarbonMode, number> => {
        const out = {} as Record<CarbonMode, number>;
        for (const mode of CARBON_MODES) out[mode] = this.#reference.emissionFactor({ mode, kind, at, zone }).value;
        return out;
      };
      factors = { lifecycle: table('lifecycle'), direct: table('direct') };
      if (this.#cache.size > 50_000) this.#cache.clear();
      this.#cache.set(key, factors);
    }
    return factors;
  }
}
