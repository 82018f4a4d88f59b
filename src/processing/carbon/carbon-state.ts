import type { GridSeriesChunk } from '../../contracts/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import { SLOT_MS } from '../../time/index.ts';
import { FactorCache } from './factors.ts';
import type { TracingZone } from './flow-tracing.ts';
import { traceFlows } from './flow-tracing.ts';
import type { MixEntry } from './production-intensity.ts';
import { productionIntensity } from './production-intensity.ts';

/** Carbon figures of one zone in one 15-minute slot. */
export interface CarbonResult {
  readonly zone: string;
  readonly slot: number;
  /** Generation counted (MW). */
  readonly generation: number;
  readonly productionLifecycle: number | null;
  readonly productionDirect: number | null;
  /** `null` where the zone has no physical-flow data in the slot. */
  readonly consumptionLifecycle: number | null;
  readonly consumptionDirect: number | null;
  readonly renewableShare: number | null;
  readonly fossilFreeShare: number | null;
  /** Share of the zone's usual production types present in the slot (1 = all). */
  readonly completeness: number;
  readonly partial: boolean;
  readonly missingTypes: readonly string[];
}

export interface CarbonOptions {
  /**
   * A production type is "usual" for a zone when it has a value in at least this share of the zone's slots with
   * generation data in the state (the recent history). @default 0.8
   */
  readonly usualShare?: number;
  /** Fewer slots of history than this: every present type counts as usual (no basis to call a slot partial). @default 8 */
  readonly minHistorySlots?: number;
}

interface SlotData {
  /** zone → psrType → MW */
  readonly generation: Map<string, Map<string, number>>;
  /** "from\0to" → MW */
  readonly flows: Map<string, number>;
  /** Issue time (epoch ms) of each value that came with one, by "zone\0psrType" or "from\0to\0": see {@link CarbonState.add}. */
  readonly issued: Map<string, number>;
}

/**
 * The inputs of carbon accounting over a window of slots — generation per production type and physical flows,
 * from `grid.observations` chunks of source ENTSO-E — and the computation of production- and consumption-based
 * intensity per zone and slot. Used on files by `gridstream carbon` (the window is the whole input) and by the
 * `process` role as the state of its carbon processor (a window of recent slots).
 */
export class CarbonState {
  readonly #reference: ReferenceData;
  readonly #factors: FactorCache;
  readonly #slots = new Map<number, SlotData>();
  readonly #dirty = new Set<number>();
  readonly #usualShare: number;
  readonly #minHistory: number;

  constructor(reference: ReferenceData, options: CarbonOptions = {}) {
    this.#reference = reference;
    this.#factors = new FactorCache(reference);
    this.#usualShare = options.usualShare ?? 0.8;
    this.#minHistory = options.minHistorySlots ?? 8;
  }

  /**
   * Takes the carbon-relevant points of a chunk; returns whether it was relevant. Marks touched slots dirty. A value
   * issued earlier than the one held for its slot is ignored, as the sink ignores it (a replayed old document must
   * not turn the intensity back to what the old figures gave).
   */
  add(chunk: GridSeriesChunk): boolean {
    if (chunk.source !== 'entsoe' || chunk.qualifier !== '') return false;
    const issued = chunk.issuedAt === undefined ? undefined : Date.parse(chunk.issuedAt);
    if (
      chunk.metric === 'generation_actual' &&
      chunk.productionType !== '' &&
      this.#reference.hasProductionType(chunk.productionType)
    ) {
      if (this.#reference.productionType(chunk.productionType).mode === null) return false;
      const key = `${chunk.zone}\u0000${chunk.productionType}`;
      for (const p of chunk.points) {
        const slot = this.#slot(Date.parse(p.t), key, issued);
        if (slot === undefined) continue;
        let mix = slot.generation.get(chunk.zone);
        if (mix === undefined) {
          mix = new Map();
          slot.generation.set(chunk.zone, mix);
        }
        mix.set(chunk.productionType, p.v);
      }
      return true;
    }
    if (chunk.metric === 'flow_physical' && chunk.counterpartZone !== '') {
      const key = `${chunk.zone}\u0000${chunk.counterpartZone}`;
      const issuedKey = `${key}\u0000`;
      for (const p of chunk.points) this.#slot(Date.parse(p.t), issuedKey, issued)?.flows.set(key, p.v);
      return true;
    }
    return false;
  }

  /** The slot's data, marked dirty; `undefined` when the slot holds a value of `key` issued after `issued`. */
  #slot(t: number, key: string, issued: number | undefined): SlotData | undefined {
    let data = this.#slots.get(t);
    if (data === undefined) {
      data = { generation: new Map(), flows: new Map(), issued: new Map() };
      this.#slots.set(t, data);
    }
    if (issued !== undefined) {
      const held = data.issued.get(key);
      if (held !== undefined && held > issued) return undefined;
      data.issued.set(key, issued);
    }
    this.#dirty.add(t);
    return data;
  }

  /** Slots changed since the last {@link takeDirty}. */
  takeDirty(): number[] {
    const slots = [...this.#dirty].sort((a, b) => a - b);
    this.#dirty.clear();
    return slots;
  }

  /** All slots with data, ascending. */
  slots(): number[] {
    return [...this.#slots.keys()].sort((a, b) => a - b);
  }

  /** Forgets slots before `t` (the window moves on). */
  evictBefore(t: number): void {
    for (const slot of this.#slots.keys()) if (slot < t) this.#slots.delete(slot);
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Carbon results for `slots` (default: all), zones in code order within a slot. */
  compute(slots: readonly number[] = this.slots()): CarbonResult[] {
    const usual = this.#usualTypes();
    const results: CarbonResult[] = [];
    for (const slot of slots) {
      const data = this.#slots.get(slot);
      if (data !== undefined) results.push(...this.#computeSlot(slot, data, usual));
    }
    return results;
  }

  #computeSlot(slot: number, data: SlotData, usual: Map<string, Set<string>>): CarbonResult[] {
    const zones = [...data.generation.keys()].sort();
    const production = new Map<string, ReturnType<typeof productionIntensity>>();
    for (const zone of zones) {
      const area = this.#reference.zone(zone);
      const mix: MixEntry[] = [];
      for (const [psr, mw] of data.generation.get(zone) ?? []) {
        const type = this.#reference.productionType(psr);
        if (type.mode !== null)
          mix.push({ mode: type.mode, renewable: type.renewable, fossilFree: type.fossilFree, mw });
      }
      production.set(zone, productionIntensity(mix, this.#factors.at(area, slot)));
    }
    // Zones with a mix and at least one flow this slot form the tracing system.
    const withFlows = new Set<string>();
    const flows = [...data.flows].map(([key, mw]) => {
      const [from = '', to = ''] = key.split('\u0000');
      withFlows.add(from);
      withFlows.add(to);
      return { from, to, mw };
    });
    const system: TracingZone[] = zones
      .filter((z) => withFlows.has(z) && (production.get(z)?.generation ?? 0) > 0)
      .map((z) => {
        const p = production.get(z);
        return {
          zone: z,
          production: p?.generation ?? 0,
          emissions: [p?.emissionsLifecycle ?? 0, p?.emissionsDirect ?? 0],
        };
      });
    // Imports from zones outside the data set come in at the generation-weighted mean production intensity of the
    // zones that are in it (documented default: no better estimate exists without their mix).
    let total = 0;
    const mean = [0, 0];
    for (const p of production.values()) {
      total += p.generation;
      mean[0] = (mean[0] ?? 0) + p.emissionsLifecycle;
      mean[1] = (mean[1] ?? 0) + p.emissionsDirect;
    }
    const external = total > 0 ? [(mean[0] ?? 0) / total, (mean[1] ?? 0) / total] : [0, 0];
    const consumption =
      system.length === 0
        ? new Map<string, (number | null)[]>()
        : traceFlows({ zones: system, flows, rhsCount: 2, externalIntensity: (_zone, r) => external[r] ?? 0 });

    return zones.map((zone) => {
      const p = production.get(zone);
      const present = data.generation.get(zone) ?? new Map<string, number>();
      const expected = usual.get(zone) ?? new Set(present.keys());
      const missingTypes = [...expected].filter((t) => !present.has(t)).sort();
      const c = consumption.get(zone);
      return {
        zone,
        slot,
        generation: p?.generation ?? 0,
        productionLifecycle: p?.lifecycle ?? null,
        productionDirect: p?.direct ?? null,
        consumptionLifecycle: c?.[0] ?? null,
        consumptionDirect: c?.[1] ?? null,
        renewableShare: p?.renewableShare ?? null,
        fossilFreeShare: p?.fossilFreeShare ?? null,
        completeness: expected.size === 0 ? 1 : (expected.size - missingTypes.length) / expected.size,
        partial: missingTypes.length > 0,
        missingTypes,
      };
    });
  }

  /** zone → production types present in at least `usualShare` of the zone's slots with generation. */
  #usualTypes(): Map<string, Set<string>> {
    const slotsWith = new Map<string, number>();
    const typeCount = new Map<string, Map<string, number>>();
    for (const data of this.#slots.values()) {
      for (const [zone, mix] of data.generation) {
        slotsWith.set(zone, (slotsWith.get(zone) ?? 0) + 1);
        let counts = typeCount.get(zone);
        if (counts === undefined) {
          counts = new Map();
          typeCount.set(zone, counts);
        }
        for (const psr of mix.keys()) counts.set(psr, (counts.get(psr) ?? 0) + 1);
      }
    }
    const usual = new Map<string, Set<string>>();
    for (const [zone, n] of slotsWith) {
      if (n < this.#minHistory) continue; // not enough history: judge each slot by itself
      const types = new Set<string>();
      for (const [psr, count] of typeCount.get(zone) ?? []) if (count >= this.#usualShare * n) types.add(psr);
      usual.set(zone, types);
    }
    return usual;
  }
}

/** Slot start of an instant (re-exported for callers building windows). */
export function slotOf(t: number): number {
  return Math.floor(t / SLOT_MS) * SLOT_MS;
}
