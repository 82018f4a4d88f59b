import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { chunk } from './helpers.ts';

/**
 * The batches of the crash tests. `fresh`: two zones, four production types, a day each. `corrections`: the same
 * keys with every third value changed, plus a second day (so a write has both a direct COPY and a staged upsert).
 */
export function crashBatch(variant: 'fresh' | 'corrections'): GridSeriesChunk[] {
  const out: GridSeriesChunk[] = [];
  for (const zone of ['FI', 'SE_3'])
    for (const productionType of ['B04', 'B12', 'B16', 'B19']) {
      out.push(chunk({ zone, productionType, start: '2025-10-21T00:00:00Z', points: 96, value: (i) => i * 2.5 }));
      if (variant === 'corrections') {
        const first = out.pop()!;
        out.push({
          ...first,
          revision: 2,
          points: first.points.map((p, i) => (i % 3 === 0 ? { ...p, v: p.v + 1 } : p)),
        });
        out.push(chunk({ zone, productionType, start: '2025-10-22T00:00:00Z', points: 96, revision: 2 }));
      }
    }
  return out;
}
