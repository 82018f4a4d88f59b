import type { ConsumedBatch, ConsumedRecord, ConsumerOptions, LogConsumer, PartitionOffset } from '../log.ts';
import { LogError } from '../errors.ts';
import type { GroupCoordinator, GroupMember, TopicPartition } from './group-coordinator.ts';
import type { PartitionLog } from './partition-log.ts';
import { Wakeup } from './wakeup.ts';

/** What a consumer needs from the embedded log that created it. */
export interface ConsumerHost {
  readonly coordinator: GroupCoordinator;
  readonly fetchMaxBytes: number;
  partition(topic: string, partition: number): PartitionLog | undefined;
  committed(groupId: string, topic: string, partition: number): number | undefined;
  commit(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
  /** Calls `wake` after every durable append to one of `topics`; returns the unsubscribe function. */
  subscribe(topics: readonly string[], wake: () => void): () => void;
  closed(consumer: EmbeddedConsumer): void;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * A consumer-group member of the embedded log. Positions (next offset to fetch) are kept per owned partition:
 * set from the committed offset (or `startFrom`) when a partition is assigned, advanced when a batch is handed
 * over, moved by `seek`. Any assignment change or seek while a batch is being gathered starts the gathering over,
 * so a batch never holds records of a partition the member no longer owns.
 */
export class EmbeddedConsumer implements LogConsumer, GroupMember {
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly #options: ConsumerOptions;
  readonly #host: ConsumerHost;
  readonly #positions = new Map<string, { tp: TopicPartition; next: number }>();
  readonly #wakeup = new Wakeup();
  readonly #unsubscribe: () => void;
  #epoch = 0;
  #roundRobin = 0;
  #closed = false;
  #iterating = false;

  constructor(options: ConsumerOptions, host: ConsumerHost) {
    this.#options = options;
    this.#host = host;
    this.topics = [...options.topics];
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.#unsubscribe = host.subscribe(this.topics, () => {
      this.#wakeup.notify();
    });
  }

  onAssigned(tp: TopicPartition): void {
    const log = this.#host.partition(tp.topic, tp.partition);
    const committed = this.#host.committed(this.#options.groupId, tp.topic, tp.partition);
    const start = this.#options.startFrom === 'latest' ? (log?.next ?? 0) : (log?.earliest ?? 0);
    this.#positions.set(key(tp.topic, tp.partition), { tp, next: committed ?? start });
    this.#epoch++;
  }

  onRevoked(tp: TopicPartition): void {
    this.#positions.delete(key(tp.topic, tp.partition));
    this.#epoch++;
  }

  wake(): void {
    this.#wakeup.notify();
  }

  async *batches(options: { readonly signal?: AbortSignal } = {}): AsyncIterable<ConsumedBatch> {
    if (this.#iterating)
      throw new LogError('log.invalid_argument', 'batches() of this consumer is already being iterated');
    this.#iterating = true;
    const signal = options.signal;
    const onAbort = (): void => {
      this.#wakeup.notify();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const records = await this.#gather(signal);
        if (records === undefined) return;
        this.#host.coordinator.handling(this);
        yield { records };
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#iterating = false;
      this.#host.coordinator.handling(this);
    }
  }

  /** Waits for records of owned partitions; undefined when closed or aborted. */
  async #gather(signal: AbortSignal | undefined): Promise<ConsumedRecord[] | undefined> {
    const maxRecords = this.#options.maxBatchRecords ?? 500;
    const deadline = Date.now() + (this.#options.maxWaitMs ?? 200);
    const maxBytes = this.#host.fetchMaxBytes;
    let epoch = -1;
    let records: ConsumedRecord[] = [];
    let bytes = 0;
    let next = new Map<string, number>();
    for (;;) {
      if (this.#closed || signal?.aborted === true) return undefined;
      this.#wakeup.clear();
      this.#host.coordinator.polling(this);
      if (epoch !== this.#epoch) {
        epoch = this.#epoch;
        records = [];
        bytes = 0;
        next = new Map([...this.#positions].map(([k, p]) => [k, p.next]));
      }
      const owned = [...this.#positions.values()];
      const first = this.#roundRobin++ % Math.max(1, owned.length);
      for (let i = 0; i < owned.length && records.length < maxRecords && bytes < maxBytes; i++) {
        const entry = owned[(first + i) % owned.length];
        if (entry === undefined) continue;
        const { tp } = entry;
        const k = key(tp.topic, tp.partition);
        const log = this.#host.partition(tp.topic, tp.partition);
        const from = next.get(k) ?? 0;
        if (log === undefined || from >= log.next) continue;
        const got = await log.read(from, maxRecords - records.length, maxBytes - bytes);
        if (epoch !== this.#epoch) break;
        for (const r of got) {
          records.push(r);
          bytes += r.value.byteLength;
        }
        const last = got.at(-1);
        if (last !== undefined) next.set(k, last.offset + 1);
      }
      if (epoch !== this.#epoch) continue;
      if (records.length >= maxRecords || bytes >= maxBytes || (records.length > 0 && Date.now() >= deadline)) {
        for (const [k, offset] of next) {
          const position = this.#positions.get(k);
          if (position !== undefined) position.next = offset;
        }
        return records;
      }
      await this.#wakeup.wait(records.length > 0 ? deadline - Date.now() : undefined);
    }
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<boolean> {
    if (this.#closed) throw new LogError('log.closed', 'the consumer is closed');
    const owned: PartitionOffset[] = [];
    for (const o of offsets) {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new LogError('log.invalid_argument', `invalid offset ${o.offset} for ${o.topic}/${o.partition}`);
      }
      if (this.#host.coordinator.owns(this, o.topic, o.partition)) owned.push(o);
    }
    if (owned.length > 0) await this.#host.commit(this.#options.groupId, owned);
    return owned.length === offsets.length;
  }

  seek(offset: PartitionOffset): Promise<void> {
    if (this.#closed) return Promise.reject(new LogError('log.closed', 'consumer is closed'));
    if (!Number.isSafeInteger(offset.offset) || offset.offset < 0) {
      return Promise.reject(new LogError('log.invalid_argument', `invalid offset ${offset.offset}`));
    }
    const position = this.#positions.get(key(offset.topic, offset.partition));
    if (position === undefined) {
      return Promise.reject(
        new LogError('log.not_owner', `${offset.topic}/${offset.partition} is not assigned to this consumer`, {
          details: { topic: offset.topic, partition: offset.partition, groupId: this.#options.groupId },
        }),
      );
    }
    position.next = offset.offset;
    this.#epoch++;
    this.#wakeup.notify();
    return Promise.resolve();
  }

  assignment(): readonly TopicPartition[] {
    return this.#host.coordinator
      .assignment(this)
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#host.coordinator.leave(this);
    this.#unsubscribe();
    this.#wakeup.notify();
    this.#host.closed(this);
    return Promise.resolve();
  }
}
