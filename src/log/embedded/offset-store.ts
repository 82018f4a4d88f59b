import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../observability/index.ts';
import type { PartitionOffset } from '../log.ts';
import { ioError } from '../errors.ts';
import { syncDir, writeFileAtomic } from './fs-util.ts';

/** File content: the group id (file names are encoded) and next-offsets by topic and partition. */
interface GroupFile {
  readonly groupId: string;
  readonly topics: Record<string, Record<string, number>>;
}

interface GroupState {
  readonly offsets: Map<string, Map<number, number>>;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  writing: boolean;
}

/**
 * Committed offsets of the consumer groups, one file per group under `groups/`, replaced atomically on every
 * commit. Commits to one group that arrive while its file is being written share the next write.
 */
export class OffsetStore {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #groups = new Map<string, GroupState>();

  private constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  static async open(dir: string, logger: Logger): Promise<OffsetStore> {
    const store = new OffsetStore(dir, logger);
    try {
      await mkdir(dir, { recursive: true });
      await syncDir(dirname(dir));
      for (const name of await readdir(dir)) {
        if (name.endsWith('.tmp')) {
          // Left by a crash in the middle of a commit; the .json beside it is intact.
          await rm(join(dir, name), { force: true });
          continue;
        }
        if (!name.endsWith('.json')) continue;
        const file = JSON.parse(await readFile(join(dir, name), 'utf8')) as GroupFile;
        const state = store.#state(file.groupId);
        for (const [topic, partitions] of Object.entries(file.topics)) {
          const map = new Map<number, number>();
          for (const [p, offset] of Object.entries(partitions)) map.set(Number(p), offset);
          state.offsets.set(topic, map);
        }
      }
    } catch (error) {
      throw ioError(`could not load committed offsets from ${dir}`, error);
    }
    return store;
  }

  /** The committed next-offset, or undefined when the group never committed for that partition. */
  get(groupId: string, topic: string, partition: number): number | undefined {
    return this.#groups.get(groupId)?.offsets.get(topic)?.get(partition);
  }

  /** The highest position any group committed for a partition (0 when none did). */
  maxCommitted(topic: string, partition: number): number {
    let max = 0;
    for (const state of this.#groups.values()) max = Math.max(max, state.offsets.get(topic)?.get(partition) ?? 0);
    return max;
  }

  /** Records next-offsets and resolves once they are on disk. */
  commit(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    const state = this.#state(groupId);
    for (const o of offsets) {
      let map = state.offsets.get(o.topic);
      if (map === undefined) state.offsets.set(o.topic, (map = new Map<number, number>()));
      map.set(o.partition, o.offset);
    }
    return new Promise<void>((resolve, reject) => {
      state.waiters.push({ resolve, reject });
      if (!state.writing) {
        state.writing = true;
        void this.#writeLoop(groupId, state);
      }
    });
  }

  async #writeLoop(groupId: string, state: GroupState): Promise<void> {
    while (state.waiters.length > 0) {
      // Everything committed so far is in the snapshot below: these waiters are covered by this one write.
      const waiters = state.waiters;
      state.waiters = [];
      const topics: Record<string, Record<string, number>> = {};
      for (const [topic, map] of state.offsets) topics[topic] = Object.fromEntries(map);
      try {
        await writeFileAtomic(
          join(this.#dir, groupFileName(groupId)),
          JSON.stringify({ groupId, topics } satisfies GroupFile),
        );
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.#logger.error({ err: error, groupId }, 'could not persist committed offsets');
        for (const w of waiters) w.reject(error);
      }
    }
    state.writing = false;
  }

  /** Waits for writes in flight (on close). */
  async flush(): Promise<void> {
    const pending = [...this.#groups.entries()]
      .filter(([, s]) => s.writing)
      .map(([groupId]) => this.commit(groupId, []).catch(() => undefined));
    await Promise.all(pending);
  }

  #state(groupId: string): GroupState {
    let state = this.#groups.get(groupId);
    if (state === undefined) this.#groups.set(groupId, (state = { offsets: new Map(), waiters: [], writing: false }));
    return state;
  }
}

/** A safe, unique file name for any group id (ids may hold slashes, dots, anything). */
function groupFileName(groupId: string): string {
  const readable = groupId.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(groupId).digest('hex').slice(0, 16);
  return `${readable}-${hash}.json`;
}
