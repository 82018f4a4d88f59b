import type { Log } from './log.ts';

/** How far one consumer group is behind on one partition. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The offset the next record will get (Kafka's high watermark). */
  readonly end: number;
  /** The next offset the group will read, as committed; `null` when it never committed there. */
  readonly committed: number | null;
  /** Records the group has yet to commit: `end − committed`. */
  readonly lag: number;
}

/**
 * The one consumer-lag calculation: per partition of `topic`, `end − committed`. A group that never committed on a
 * partition starts from the earliest offset still in the log (gridstream's consumers start from `earliest`), so its
 * lag is `end − earliest` — not `end − 0`, which would count records that retention already deleted. An empty
 * partition has no lag.
 */
export async function consumerLag(
  log: Log,
  group: string,
  topic: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<PartitionLag[]> {
  const [offsets, committed] = await Promise.all([log.offsets(topic, options), log.committed(group, topic, options)]);
  return offsets.map((o) => {
    const done = committed[o.partition] ?? null;
    return {
      topic,
      partition: o.partition,
      end: o.next,
      committed: done,
      lag: Math.max(0, o.next - (done ?? o.earliest)),
    };
  });
}

/** Total lag of `group` over `topics` (0: it has committed everything there is). */
export async function totalLag(
  log: Log,
  group: string,
  topics: readonly string[],
  options: { readonly signal?: AbortSignal } = {},
): Promise<number> {
  let total = 0;
  for (const topic of topics) for (const p of await consumerLag(log, group, topic, options)) total += p.lag;
  return total;
}
