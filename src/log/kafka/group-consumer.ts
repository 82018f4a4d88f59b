import { Consumer, consumerHeartbeatChannel, type ConsumerGroupJoinPayload } from '@platformatic/kafka';
import type { Logger } from '../../observability/index.ts';
import { LogError } from '../errors.ts';
import type { ConsumedBatch, ConsumerOptions, LogConsumer, PartitionOffset } from '../log.ts';
import { backoffDelay, isAborted, settlesWithin, sleep } from '../../common/index.ts';
import { withDeadline } from './deadline.ts';
import { isFencedInstance, needsRejoin, toLogError } from './errors.ts';
import { clientOptions, type ResolvedKafkaLogOptions } from './options.ts';
import { PartitionPositions } from './partition-positions.ts';

type TopicPartition = { readonly topic: string; readonly partition: number };

/**
 * A consumer-group member on @platformatic/kafka. The library's Consumer keeps the membership (join, sync,
 * heartbeats, rejoin on rebalance) and commits; its MessagesStream is not used, because it cannot seek, prefetches
 * up to its high-water mark regardless of the caller, and on a rejoin replays stale buffered records. Instead
 * {@link PartitionPositions} fetches on demand — at most one fetch ahead of the caller — from a second Consumer
 * that owns the fetch connection, so that long polls never delay heartbeats and commits.
 *
 * Commits happen only in {@link commit}: autocommit is off. Across a rebalance the partitions this member keeps
 * keep their positions (no replay); partitions it gains start at the group's committed offset.
 */
export class KafkaGroupConsumer implements LogConsumer {
  readonly #options: ResolvedKafkaLogOptions;
  readonly #consumer: Required<
    Pick<ConsumerOptions, 'startFrom' | 'maxBatchRecords' | 'maxWaitMs' | 'sessionTimeoutMs'>
  > &
    ConsumerOptions;
  readonly #logger: Logger;
  readonly #member: Consumer;
  readonly #fetcher: Consumer;
  readonly #positions: PartitionPositions;
  readonly #stop = new AbortController();
  readonly #onClose: () => void;
  #assignment: readonly TopicPartition[] = Object.freeze([]);
  #memberId: string | null = null;
  #joining: Promise<void> | undefined;
  readonly #joined = Promise.withResolvers<undefined>();
  #needsJoin = true;
  #closing: Promise<void> | undefined;
  /** Set when the coordinator fenced this static member (FENCED_INSTANCE_ID): permanent, never retried. */
  #fenced: LogError | undefined;

  /** The static member id (`group.instance.id`) of this member, or undefined for dynamic membership. */
  readonly #instanceId: string | undefined;

  constructor(
    options: ResolvedKafkaLogOptions,
    consumer: ConsumerOptions,
    logger: Logger,
    instanceId: string | undefined,
    onClose: () => void,
  ) {
    this.#options = options;
    this.#consumer = {
      ...consumer,
      startFrom: consumer.startFrom ?? 'earliest',
      maxBatchRecords: consumer.maxBatchRecords ?? 500,
      maxWaitMs: consumer.maxWaitMs ?? 200,
      sessionTimeoutMs: consumer.sessionTimeoutMs ?? 30_000,
    };
    this.#instanceId = instanceId;
    this.#logger = logger.child({
      groupId: consumer.groupId,
      ...(instanceId === undefined ? {} : { groupInstanceId: instanceId }),
    });
    this.#onClose = onClose;
    const base = clientOptions(options, 'consumer');
    this.#member = new Consumer({
      ...base,
      groupId: consumer.groupId,
      autocommit: false,
      ...(instanceId === undefined ? {} : { groupInstanceId: instanceId }),
      ...this.#groupTimings(),
    });
    // The fetcher never joins the group (it only fetches for the member), so it has no instance id of its own.
    this.#fetcher = new Consumer({ ...base, groupId: consumer.groupId, autocommit: false });
    this.#positions = new PartitionPositions({
      member: this.#member,
      fetcher: this.#fetcher,
      startFrom: this.#consumer.startFrom,
      maxBatchRecords: this.#consumer.maxBatchRecords,
      limits: {
        maxWaitMs: this.#consumer.maxWaitMs,
        minBytes: 1,
        maxBytes: options.fetchMaxBytes,
        partitionMaxBytes: options.partitionFetchMaxBytes,
      },
      logger: this.#logger,
    });
    for (const topic of consumer.topics) {
      this.#member.topics.track(topic);
      this.#fetcher.topics.track(topic);
    }
    this.#member.on('consumer:group:join', this.#onJoin);
    // A failed rejoin is reported as an 'error' event (unhandled, it would crash the process); heartbeats stop
    // after it, so the next round joins again.
    this.#member.on('error', this.#onMemberError);
    // A fenced heartbeat (another process took the instance id) makes the library rejoin, fencing the other in
    // turn, for ever, without an 'error' event; its heartbeat tracing channel is where the refusal shows.
    if (instanceId !== undefined) consumerHeartbeatChannel.error.subscribe(this.#onHeartbeatError);
    this.#joining = this.#join();
    // Until the first iteration, a failed first join is only remembered; it must not become an unhandled rejection
    // (a consumer closed before it was ever iterated fails its join with `closed`, and nobody awaits it).
    this.#joining.catch(() => undefined);
    this.#joined.promise.catch(() => undefined);
  }

  async *batches(options: { readonly signal?: AbortSignal } = {}): AsyncIterable<ConsumedBatch> {
    const stop =
      options.signal === undefined ? this.#stop.signal : AbortSignal.any([this.#stop.signal, options.signal]);
    let failingSince: number | undefined;
    let attempt = 0;
    for (;;) {
      this.#throwIfFenced();
      if (stop.aborted) return;
      try {
        if (this.#needsJoin) await this.#awaitJoin(stop);
        if (isAborted(stop)) return;
        const records = await this.#positions.next(stop);
        failingSince = undefined;
        attempt = 0;
        if (records.length > 0 && !isAborted(stop)) yield { records };
      } catch (error) {
        this.#throwIfFenced();
        if (isAborted(stop)) return;
        const mapped = toLogError(error, 'consume', { groupId: this.#consumer.groupId });
        failingSince ??= Date.now();
        if (!mapped.retryable || Date.now() - failingSince >= this.#options.reconnectTimeoutMs) throw mapped;
        this.#logger.warn({ err: mapped, attempt }, 'consume failed; retrying');
        await sleep(backoffDelay(++attempt, { baseMs: 200, maxMs: 2000, jitter: 0.2 }), { signal: stop });
      }
    }
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<boolean> {
    if (this.#closing !== undefined) throw new LogError('log.closed', 'the consumer is closed');
    if (offsets.length === 0) return true;
    const owned = offsets.filter((o) => this.#owns(o));
    if (owned.length > 0) {
      try {
        await withDeadline('commit', this.#options.operationTimeoutMs, undefined, () =>
          this.#member.commit({
            offsets: owned.map((o) => ({
              topic: o.topic,
              partition: o.partition,
              offset: BigInt(o.offset),
              leaderEpoch: -1,
            })),
          }),
        );
      } catch (error) {
        // The group moved on (rebalance, eviction) and the library's own rejoin-and-retry did not succeed: the
        // offsets may belong to another member now. Not committing only means redelivery.
        if (isFencedInstance(error)) throw this.#fence(error);
        if (needsRejoin(error)) {
          this.#logger.info({ err: error }, 'commit refused by the group coordinator');
          return false;
        }
        throw toLogError(error, 'commit', { groupId: this.#consumer.groupId });
      }
    }
    // A rebalance can complete while the commit is in flight; ownership is judged after it.
    return owned.length === offsets.length && offsets.every((o) => this.#owns(o));
  }

  async seek(offset: PartitionOffset): Promise<void> {
    if (this.#closing !== undefined) throw new LogError('log.closed', 'the consumer is closed');
    // A seek right after creating the consumer waits for the first assignment rather than failing.
    await withDeadline('seek', this.#options.operationTimeoutMs, undefined, () => this.#joined.promise);
    if (!this.#owns(offset)) {
      throw new LogError(
        'log.not_owner',
        `partition ${offset.topic}/${offset.partition} is not assigned to this member`,
        {
          details: { topic: offset.topic, partition: offset.partition },
        },
      );
    }
    this.#positions.seek(offset.topic, offset.partition, BigInt(offset.offset));
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort(new LogError('log.closed', 'the consumer is closed'));
    this.#joined.reject(new LogError('log.closed', 'the consumer is closed'));
    this.#member.off('consumer:group:join', this.#onJoin);
    const grace = AbortSignal.timeout(Math.min(10_000, this.#options.operationTimeoutMs));
    if (this.#instanceId === undefined) {
      // A dynamic member leaves: the coordinator hands its partitions over at once instead of after the session
      // timeout. Bounded, because a broker that is down cannot be told.
      await settlesWithin(this.#member.close(), Infinity, { signal: grace });
    } else {
      // A static member does not leave (KIP-345, as the Java client): a stop is taken for a restart, and the same
      // instance id coming back within the session timeout gets the same partitions without a rebalance. The
      // library would send LeaveGroup on close(); with its connections closed first it cannot, and close() then
      // only stops the heartbeats. A member that never comes back is removed after the session timeout.
      await settlesWithin(this.#member.connections.close(), Infinity, { signal: grace });
      await settlesWithin(this.#member.close(), Infinity, { signal: grace });
    }
    await settlesWithin(this.#fetcher.close(), Infinity, { signal: grace });
    this.#member.off('error', this.#onMemberError);
    consumerHeartbeatChannel.error.unsubscribe(this.#onHeartbeatError);
    this.#onClose();
  }

  #groupTimings() {
    const sessionTimeout = this.#consumer.sessionTimeoutMs;
    return {
      sessionTimeout,
      // Members learn of a rebalance through heartbeats; a tenth of the session keeps rebalances quick.
      heartbeatInterval: Math.max(100, Math.min(3000, Math.floor(sessionTimeout / 10))),
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
    };
  }

  #owns(tp: TopicPartition): boolean {
    return this.#assignment.some((a) => a.topic === tp.topic && a.partition === tp.partition);
  }

  /** Single-flight join; rounds wait for it. A failure is rethrown to the round, which retries with backoff. */
  async #awaitJoin(stop: AbortSignal): Promise<void> {
    this.#joining ??= this.#join();
    const joining = this.#joining;
    await settlesWithin(joining, Infinity, { signal: stop });
    if (!isAborted(stop)) await joining;
  }

  async #join(): Promise<void> {
    try {
      await this.#member.joinGroup(this.#groupTimings());
      this.#needsJoin = false;
    } catch (error) {
      const mapped = toLogError(error, `join group ${this.#consumer.groupId}`, { groupId: this.#consumer.groupId });
      if (!mapped.retryable) this.#joined.reject(mapped);
      throw mapped;
    } finally {
      this.#joining = undefined;
    }
  }

  readonly #onJoin = (payload: ConsumerGroupJoinPayload): void => {
    const next: TopicPartition[] = [];
    for (const { topic, partitions } of payload.assignments ?? []) {
      for (const partition of partitions) next.push({ topic, partition });
    }
    next.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    // The same member id means the coordinator kept us in the group throughout: nobody else read the partitions
    // we keep, so their positions stay. A new id means we were evicted, and everything restarts from commits.
    const sameMember = payload.memberId === this.#memberId;
    this.#positions.reassign(next, sameMember);
    this.#assignment = Object.freeze(next);
    this.#memberId = payload.memberId;
    this.#needsJoin = false;
    this.#logger.info(
      { memberId: payload.memberId, generationId: payload.generationId, partitions: next.length },
      'joined consumer group',
    );
    this.#joined.resolve(undefined);
  };

  #throwIfFenced(): void {
    if (this.#fenced !== undefined) throw this.#fenced;
  }

  /** Remembers that another process took this member's instance id; every later call fails with it. */
  #fence(error: unknown): LogError {
    this.#fenced ??= toLogError(error, `consumer group ${this.#consumer.groupId}`, {
      groupId: this.#consumer.groupId,
      instanceId: this.#instanceId,
    });
    if (this.#closing === undefined) {
      this.#logger.error({ err: this.#fenced }, 'fenced: another process uses this instance id');
      // Closed at once, so that the library's automatic rejoin cannot fence the rightful holder in turn.
      void this.close();
    }
    return this.#fenced;
  }

  readonly #onHeartbeatError = (message: unknown): void => {
    if (typeof message !== 'object' || message === null || !('client' in message) || !('error' in message)) return;
    if (message.client === this.#member && isFencedInstance(message.error)) this.#fence(message.error);
  };

  readonly #onMemberError = (error: Error): void => {
    if (isFencedInstance(error)) {
      this.#fence(error);
      return;
    }
    this.#needsJoin = true;
    this.#logger.warn({ err: error }, 'consumer group membership lost; will rejoin');
  };
}
