import type { Log } from '../../src/log/index.ts';

/** How many records `groupId` has not yet committed on `topic` (0: it has committed everything there is). */
export async function lag(log: Log, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([log.offsets(topic), log.committed(groupId, topic)]);
  return ends.reduce((sum, p) => sum + p.next - (committed[p.partition] ?? 0), 0);
}
