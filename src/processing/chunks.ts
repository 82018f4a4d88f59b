import type { GridSeriesChunk, Metric, ObservationPoint, Source, Unit } from '../contracts/index.ts';
import type { Steps } from '../connectors/entsoe/index.ts';
import { runSync } from '../connectors/entsoe/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { SlotSeries } from './slot-series.ts';
import { flagList } from './slot-series.ts';
import { slotIso } from './slot-time.ts';

/** Most points in one chunk (the contract allows 2 000). */
export const MAX_POINTS_PER_CHUNK = 2000;

export interface ChunkHeader {
  readonly zone: string;
  readonly metric: Metric;
  readonly productionType: string;
  readonly counterpartZone: string;
  readonly qualifier: string;
  readonly unit: Unit;
  readonly source: Source;
  readonly documentId: string;
  readonly revision: number;
  /** See {@link GridSeriesChunk.issuedAt}. */
  readonly issuedAt?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Cuts the present slots of a series into chunks of at most {@link MAX_POINTS_PER_CHUNK} points, in time order. */
export function chunksOf(header: ChunkHeader, series: SlotSeries): GridSeriesChunk[] {
  return runSync(chunkSteps(header, series));
}

/** {@link chunksOf} as {@link Steps}: pauses after every chunk. */
export function* chunkSteps(header: ChunkHeader, series: SlotSeries): Steps<GridSeriesChunk[]> {
  const chunks: GridSeriesChunk[] = [];
  let points: ObservationPoint[] = [];
  const flush = (): void => {
    if (points.length === 0) return;
    chunks.push({
      ...header,
      attributes: header.attributes === undefined ? undefined : { ...header.attributes },
      points,
    });
    points = [];
  };
  for (let i = 0; i < series.count; i++) {
    if (!series.isPresent(i)) continue;
    const f = flagList(series.flags[i] ?? 0);
    const t = slotIso(series.firstSlot + i * SLOT_MS);
    const v = series.values[i] ?? 0;
    points.push(f === undefined ? { t, v } : { t, v, f: [...f] });
    if (points.length === MAX_POINTS_PER_CHUNK) {
      flush();
      yield;
    } else if ((i & 0xffff) === 0xffff) yield; // long empty stretches
  }
  flush();
  return chunks;
}

/** The number of observations (points) in chunks. */
export function countPoints(chunks: readonly GridSeriesChunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.points.length;
  return n;
}
