import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { metersByIds } from './meter-store.ts';
import type { Meter } from './types.ts';

/** Meters held at most; past it the cache starts over (a fleet of millions is looked up batch by batch). */
const DEFAULT_MAX_METERS = 500_000;

/**
 * Registry rows of the meters a process has looked up, valid while the registry's version (a counter every
 * registry change moves in its transaction: `meter_registry_version`) stays where it was when they were read. The
 * version is read before the rows, so rows read after a change are never kept under the version from before it.
 * A meter not in the registry is not remembered: it is looked up again next time (it may be imported meanwhile).
 */
export class MeterRegistryCache {
  readonly #max: number;
  #version: string | undefined;
  #meters = new Map<string, Meter[]>();

  constructor(maxMeters: number = DEFAULT_MAX_METERS) {
    this.#max = maxMeters;
  }

  /** The registry history of each of `meterIds` that is registered (like {@link metersByIds}). */
  async lookup(q: Queryable, meterIds: readonly string[], options: DbCallOptions = {}): Promise<Map<string, Meter[]>> {
    const { rows } = await q.query<{ version: string }>(
      'SELECT version::text AS version FROM meter_registry_version',
      [],
      options,
    );
    const version = rows[0]?.version;
    if (version === undefined || version !== this.#version) this.#meters.clear();
    this.#version = version;
    const missing = meterIds.filter((id) => !this.#meters.has(id));
    if (missing.length > 0) {
      const found = await metersByIds(q, missing, options);
      if (this.#meters.size + found.size > this.#max) this.#meters.clear();
      for (const [id, history] of found) this.#meters.set(id, history);
    }
    const out = new Map<string, Meter[]>();
    for (const id of meterIds) {
      const history = this.#meters.get(id);
      if (history !== undefined) out.set(id, history);
    }
    return out;
  }
}
