import { gridObservationsTopic } from '../../contracts/index.ts';
import type { GridSeriesChunk } from '../../contracts/index.ts';
import type { Log } from '../../log/index.ts';
import { decodeRecord } from '../../log/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import { DAY_MS } from '../../time/index.ts';
import { carbonChunks } from './carbon-output.ts';
import type { CarbonResult } from './carbon-state.ts';
import { CarbonState } from './carbon-state.ts';

export interface CarbonWindowOptions {
  /** Slots older than the newest one minus this are forgotten (event time). @default 45 days */
  readonly keepMs?: number;
  /** On start, state is rebuilt from grid.observations records appended within this time. @default 3 days */
  readonly bootstrapMs?: number;
}

/**
 * The carbon processor's state: generation mixes and physical flows of recent slots, across documents (an A75
 * and the A11 documents of its neighbours arrive separately). Each batch adds its chunks and gets back carbon
 * chunks for the slots it touched. The window is bounded in event time and rebuilt at start from the recent end
 * of `grid.observations`, so a restarted worker does not overwrite good consumption-based values with ones
 * computed from a half-empty state.
 */
export class CarbonWindow {
  readonly #state: CarbonState;
  readonly #keepMs: number;
  readonly #bootstrapMs: number;
  #newest = Number.NEGATIVE_INFINITY;

  constructor(reference: ReferenceData, options: CarbonWindowOptions = {}) {
    this.#state = new CarbonState(reference);
    this.#keepMs = options.keepMs ?? 45 * DAY_MS;
    this.#bootstrapMs = options.bootstrapMs ?? 3 * DAY_MS;
  }

  /** Adds chunks; returns whether any was carbon-relevant. */
  add(chunks: readonly GridSeriesChunk[]): boolean {
    let relevant = false;
    for (const c of chunks) {
      if (!this.#state.add(c)) continue;
      relevant = true;
      const last = c.points.at(-1);
      if (last !== undefined) this.#newest = Math.max(this.#newest, Date.parse(last.t));
    }
    return relevant;
  }

  /** Carbon results of the slots touched since the last call, as grid.carbon chunks; then trims the window. */
  flush(documentId: string): { chunks: GridSeriesChunk[]; results: CarbonResult[] } {
    const dirty = this.#state.takeDirty();
    const results = dirty.length === 0 ? [] : this.#state.compute(dirty);
    if (Number.isFinite(this.#newest)) this.#state.evictBefore(this.#newest - this.#keepMs);
    return { chunks: carbonChunks(results, documentId), results };
  }

  get slots(): number {
    return this.#state.size;
  }

  /**
   * Reads the records of grid.observations appended in the last `bootstrapMs` into the state (without emitting
   * anything). Per partition, the first such record is found by binary search on record timestamps.
   */
  async bootstrap(
    log: Log,
    logger: Logger,
    options: { readonly signal?: AbortSignal; readonly now?: number } = {},
  ): Promise<number> {
    const since = (options.now ?? Date.now()) - this.#bootstrapMs;
    const topic = gridObservationsTopic.name;
    let count = 0;
    for (const { partition, earliest, next } of await log.offsets(topic, options)) {
      let lo = earliest;
      let hi = next;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const [record] = await log.read(topic, partition, mid, 1, options);
        if (record === undefined || record.timestamp >= since) hi = mid;
        else lo = record.offset + 1;
      }
      for (let offset = lo; offset < next;) {
        const records = await log.read(topic, partition, offset, 500, options);
        if (records.length === 0) break;
        for (const record of records) {
          const decoded = decodeRecord(gridObservationsTopic, record);
          if (decoded.ok) this.add([decoded.value]);
          count++;
        }
        offset = (records.at(-1)?.offset ?? offset) + 1;
      }
    }
    this.#state.takeDirty(); // already computed before the restart
    logger.info({ records: count, slots: this.#state.size }, 'carbon window rebuilt from grid.observations');
    return count;
  }
}
