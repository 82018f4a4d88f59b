import type { Logger } from '../../observability/index.ts';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What the coordinator needs from a consumer. Callbacks run synchronously inside coordinator calls. */
export interface GroupMember {
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  onAssigned(tp: TopicPartition): void;
  onRevoked(tp: TopicPartition): void;
  /** Something changed for this member (assignment): wake it if it waits for records. */
  wake(): void;
}

interface MemberState {
  readonly member: GroupMember;
  readonly id: number;
  /** Inside `batches()` waiting for records, i.e. not holding a batch. */
  polling: boolean;
  lastActive: number;
  target: Set<string>;
  readonly owned: Set<string>;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const parse = (k: string): TopicPartition => {
  const i = k.lastIndexOf('\u0000');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
};

/**
 * In-process membership of one consumer group, Kafka's eager protocol in miniature: the partitions of each topic
 * are split evenly (contiguous ranges, members in join order) among the members subscribed to it. A partition
 * moves only when its current owner lets go of it — when that owner asks for its next batch, closes, or is evicted
 * after `sessionTimeoutMs` without asking — so a member can still commit the batch it holds while a rebalance is
 * pending, and never two members hold the same partition.
 */
export class GroupCoordinator {
  readonly groupId: string;
  readonly #partitionsOf: (topic: string) => number;
  readonly #logger: Logger;
  readonly #members = new Map<GroupMember, MemberState>();
  readonly #owners = new Map<string, MemberState>();
  #nextId = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(groupId: string, partitionsOf: (topic: string) => number, logger: Logger) {
    this.groupId = groupId;
    this.#partitionsOf = partitionsOf;
    this.#logger = logger;
  }

  isMember(member: GroupMember): boolean {
    return this.#members.has(member);
  }

  /** The member is waiting for records: (re)joins if needed, lets go of revoked partitions, takes free ones. */
  polling(member: GroupMember): void {
    let state = this.#members.get(member);
    if (state === undefined) {
      state = {
        member,
        id: this.#nextId++,
        polling: true,
        lastActive: Date.now(),
        target: new Set(),
        owned: new Set(),
      };
      this.#members.set(member, state);
      this.#logger.debug({ groupId: this.groupId, member: state.id }, 'member joined');
      this.#restartTimer();
      this.rebalance();
      return;
    }
    state.polling = true;
    state.lastActive = Date.now();
    this.#settle();
  }

  /** The member took a batch; its session clock runs until it polls again. */
  handling(member: GroupMember): void {
    const state = this.#members.get(member);
    if (state === undefined) return;
    state.polling = false;
    state.lastActive = Date.now();
  }

  /** Leaves the group at once; its partitions go to the others. */
  leave(member: GroupMember): void {
    const state = this.#members.get(member);
    if (state === undefined) return;
    this.#members.delete(member);
    for (const k of state.owned) {
      this.#owners.delete(k);
      member.onRevoked(parse(k));
    }
    state.owned.clear();
    this.#restartTimer();
    this.rebalance();
  }

  owns(member: GroupMember, topic: string, partition: number): boolean {
    return this.#members.get(member)?.owned.has(key(topic, partition)) === true;
  }

  assignment(member: GroupMember): TopicPartition[] {
    const state = this.#members.get(member);
    return state === undefined ? [] : [...state.owned].map(parse);
  }

  /** Recomputes the target assignment (members or partition counts changed) and moves what can move now. */
  rebalance(): void {
    const states = [...this.#members.values()].sort((a, b) => a.id - b.id);
    for (const s of states) s.target = new Set();
    const topics = new Set(states.flatMap((s) => s.member.topics));
    for (const topic of topics) {
      const subscribers = states.filter((s) => s.member.topics.includes(topic));
      const n = this.#partitionsOf(topic);
      for (let p = 0; p < n; p++) subscribers[Math.floor((p * subscribers.length) / n)]?.target.add(key(topic, p));
    }
    this.#settle();
  }

  #settle(): void {
    const changed = new Set<MemberState>();
    for (const s of this.#members.values()) {
      if (!s.polling) continue;
      for (const k of s.owned) {
        if (s.target.has(k)) continue;
        s.owned.delete(k);
        this.#owners.delete(k);
        s.member.onRevoked(parse(k));
        changed.add(s);
      }
    }
    for (const s of this.#members.values()) {
      for (const k of s.target) {
        if (this.#owners.has(k)) continue;
        this.#owners.set(k, s);
        s.owned.add(k);
        s.member.onAssigned(parse(k));
        changed.add(s);
      }
    }
    for (const s of changed) s.member.wake();
  }

  /** Evicts members that held a batch for longer than their session timeout. */
  #expire(): void {
    const now = Date.now();
    for (const s of [...this.#members.values()]) {
      if (s.polling || now - s.lastActive <= s.member.sessionTimeoutMs) continue;
      this.#logger.warn(
        { groupId: this.groupId, member: s.id, idleMs: now - s.lastActive },
        'consumer evicted from its group: no poll within sessionTimeoutMs',
      );
      this.leave(s.member);
    }
  }

  #restartTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#members.size === 0) return;
    const shortest = Math.min(...[...this.#members.keys()].map((m) => m.sessionTimeoutMs));
    this.#timer = setInterval(
      () => {
        this.#expire();
      },
      Math.min(1000, Math.max(10, shortest / 4)),
    );
    this.#timer.unref();
  }

  /** Stops the eviction timer (log closing). */
  dispose(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
