import type { Log } from '../../src/log/index.ts';
import { totalLag } from '../../src/log/index.ts';

/** How many records `groupId` has not yet committed on `topic` (0: it has committed everything there is). */
export function lag(log: Log, groupId: string, topic: string): Promise<number> {
  return totalLag(log, groupId, [topic]);
}
