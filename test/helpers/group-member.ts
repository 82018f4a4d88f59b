/**
 * A Kafka consumer-group member in a process of its own, so that it can be killed with SIGKILL (a crash: no
 * LeaveGroup, no commit). Run as a script it consumes, commits each batch and reports on stdout, one JSON line per
 * event: `{"assigned":[0,2]}` whenever its assignment changes, `{"consumed":[[partition, offset, value]…]}` per
 * committed batch. Used by the static-membership test and benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const Args = z.object({
  brokers: z.array(z.string()),
  groupId: z.string(),
  topic: z.string(),
  instanceId: z.string().nullable(),
  sessionTimeoutMs: z.number().int().positive(),
});
export type MemberArgs = z.infer<typeof Args>;

const Event = z.union([
  z.object({ assigned: z.array(z.number().int()) }),
  z.object({ consumed: z.array(z.tuple([z.number().int(), z.number().int(), z.string()])) }),
]);

export interface ConsumedEvent {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** When the parent read the line (ms since the epoch). */
  readonly at: number;
}

export interface Member {
  readonly child: ChildProcess;
  /** The latest assignment reported, or null before the first. */
  assignment(): readonly number[] | null;
  /** Every assignment reported, in order. */
  readonly assignments: (readonly number[])[];
  /** Records this member consumed and committed. */
  readonly consumed: ConsumedEvent[];
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop); resolves once the process is gone. */
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts a member process. Its stderr is kept for diagnostics (`stderr()`). */
export function spawnMember(args: MemberArgs): Member & { stderr(): string } {
  const child = spawn(process.execPath, [SELF, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const assignments: (readonly number[])[] = [];
  const consumed: ConsumedEvent[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const parsed = Event.safeParse(JSON.parse(line));
    if (!parsed.success) return;
    const at = Date.now();
    if ('assigned' in parsed.data) assignments.push(parsed.data.assigned);
    else for (const [partition, offset, value] of parsed.data.consumed) consumed.push({ partition, offset, value, at });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => {
      resolve();
    });
  });
  return {
    child,
    assignments,
    consumed,
    assignment: () => assignments.at(-1) ?? null,
    stderr: () => stderr,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface KillRestartResult {
  /** From the SIGKILL until a record produced after it on the killed member's partitions was consumed. */
  readonly stallMs: number;
  /** The killed member's partitions before the kill and its restarted successor's once it consumed again. */
  readonly before: readonly number[];
  readonly after: readonly number[];
  /** The assignments the surviving member reported after the kill (none: it saw no rebalance). */
  readonly survivorAssignmentsAfterKill: readonly (readonly number[])[];
  /** The group's members as the broker describes them once consumption resumed (instance id or member id). */
  readonly membersAfter: readonly string[];
  readonly restarted: Member;
  readonly survivor: Member;
}

/**
 * Two members of a fresh group on a fresh topic under a steady load; the second is killed with SIGKILL and started
 * again at once (with the same instance id when `staticIds`). Measures the stall of the killed member's partitions.
 * The caller stops the returned members (`stopAll`) and deletes `topic`.
 */
export async function killAndRestart(options: {
  readonly brokers: string[];
  readonly topic: string;
  readonly groupId: string;
  readonly staticIds: boolean;
  readonly sessionTimeoutMs: number;
  readonly partitions: number;
  readonly timeoutMs: number;
}): Promise<KillRestartResult & { stopAll(): Promise<void> }> {
  const { createKafkaLog } = await import('../../src/log/kafka/index.ts');
  const { silentLogger } = await import('../../src/observability/index.ts');
  const { Admin } = await import('@platformatic/kafka');
  const log = await createKafkaLog({ brokers: options.brokers, clientId: 'kill-restart', logger: silentLogger() });
  const admin = new Admin({ clientId: 'kill-restart-admin', bootstrapBrokers: options.brokers });
  const members: ReturnType<typeof spawnMember>[] = [];
  const start = (instanceId: string) => {
    const member = spawnMember({
      brokers: options.brokers,
      groupId: options.groupId,
      topic: options.topic,
      instanceId: options.staticIds ? instanceId : null,
      sessionTimeoutMs: options.sessionTimeoutMs,
    });
    members.push(member);
    return member;
  };
  const stopAll = async () => {
    await Promise.all(members.map((m) => m.kill()));
    await log.close();
    await admin.close();
  };
  const deadline = Date.now() + options.timeoutMs;
  const until = async (what: string, condition: () => boolean) => {
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const encoder = new TextEncoder();
  const stopLoad = new AbortController();
  try {
    await log.createTopics([{ name: options.topic, partitions: options.partitions }]);
    // Produced times as values; many keys, so that every partition gets records in every batch.
    const load = (async () => {
      while (!stopLoad.signal.aborted) {
        const value = encoder.encode(String(Date.now()));
        await log.produce(
          options.topic,
          Array.from({ length: 4 * options.partitions }, (_, i) => ({ key: `k${i}`, value })),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    load.catch(() => undefined);
    const survivor = start('worker-a');
    const victim = start('worker-b');
    const covered = () => {
      const a = survivor.assignment() ?? [];
      const b = victim.assignment() ?? [];
      return (
        a.length > 0 && b.length > 0 && a.length + b.length === options.partitions && a.every((p) => !b.includes(p))
      );
    };
    await until('both members assigned and consuming', () => covered() && victim.consumed.length > 0);
    const before = victim.assignment() ?? [];
    const survivorSeen = survivor.assignments.length;
    await victim.kill();
    const killedAt = Date.now();
    const restarted = start('worker-b');
    const resumed = (p: number) =>
      [...survivor.consumed, ...restarted.consumed].some((r) => r.partition === p && Number(r.value) > killedAt);
    await until("the killed member's partitions consumed again", () => before.every(resumed));
    const stallMs =
      Math.max(
        ...before.map(
          (p) =>
            [...survivor.consumed, ...restarted.consumed].find((r) => r.partition === p && Number(r.value) > killedAt)
              ?.at ?? Infinity,
        ),
      ) - killedAt;
    const group = (await admin.describeGroups({ groups: [options.groupId] })).get(options.groupId);
    const membersAfter = [...(group?.members.values() ?? [])].map((m) => m.groupInstanceId ?? m.id).sort();
    stopLoad.abort();
    await load.catch(() => undefined);
    return {
      stallMs,
      before,
      after: restarted.assignment() ?? [],
      survivorAssignmentsAfterKill: survivor.assignments.slice(survivorSeen),
      membersAfter,
      restarted,
      survivor,
      stopAll,
    };
  } catch (error) {
    stopLoad.abort();
    const diagnostics = members.map((m, i) => `member ${i}: ${m.stderr()}`);
    await stopAll();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${diagnostics.join('\n')}`, {
      cause: error,
    });
  }
}

async function main(raw: string): Promise<void> {
  const { createKafkaLog } = await import('../../src/log/kafka/index.ts');
  const { silentLogger } = await import('../../src/observability/index.ts');
  const args = Args.parse(JSON.parse(raw));
  const log = await createKafkaLog({
    brokers: args.brokers,
    clientId: `member-${args.instanceId ?? 'dynamic'}`,
    logger: silentLogger(),
    ...(args.instanceId === null ? {} : { groupInstanceId: args.instanceId }),
  });
  const consumer = log.consumer({
    groupId: args.groupId,
    topics: [args.topic],
    sessionTimeoutMs: args.sessionTimeoutMs,
    maxWaitMs: 50,
  });
  const write = (event: z.infer<typeof Event>) => process.stdout.write(`${JSON.stringify(event)}\n`);
  let last = '';
  const report = setInterval(() => {
    const now = JSON.stringify(consumer.assignment().map((a) => a.partition));
    if (now !== last && consumer.assignment().length > 0) {
      last = now;
      write({ assigned: consumer.assignment().map((a) => a.partition) });
    }
  }, 20);
  const stop = new AbortController();
  process.once('SIGTERM', () => {
    stop.abort();
  });
  const decoder = new TextDecoder();
  try {
    for await (const { records } of consumer.batches({ signal: stop.signal })) {
      const next = new Map<number, number>();
      for (const r of records) next.set(r.partition, r.offset + 1);
      await consumer.commit([...next].map(([partition, offset]) => ({ topic: args.topic, partition, offset })));
      write({
        consumed: records.map((r): [number, number, string] => [r.partition, r.offset, decoder.decode(r.value)]),
      });
    }
  } finally {
    clearInterval(report);
    await consumer.close();
    await log.close();
  }
}

if (process.argv[1] === SELF) await main(process.argv[2] ?? '{}');
