import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { killAndRestart } from '../helpers/group-member.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

/** Long on purpose: a group that waited for the killed member's session to expire could not resume within it. */
const SESSION_TIMEOUT_MS = 60_000;

it(
  'with static membership a member killed with SIGKILL and restarted gets its partitions back without a rebalance',
  { timeout: 180_000 },
  async (t) => {
    const brokers = kafkaBrokers(t);
    if (brokers === undefined) return;
    const topic = uniqueName('static-membership');
    const groupId = uniqueName('static-group');
    const run = await killAndRestart({
      brokers,
      topic,
      groupId,
      staticIds: true,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      partitions: 4,
      timeoutMs: 120_000,
    });
    const admin = new Admin({ clientId: 'static-membership-test', bootstrapBrokers: brokers });
    try {
      // The restarted member has the very partitions of the killed one, and the survivor saw no rebalance after the
      // kill (a rebalance that expired the old member would have moved its partitions to the survivor).
      assert.deepEqual(run.after, run.before);
      assert.deepEqual(run.survivorAssignmentsAfterKill, [], 'the surviving member went through a rebalance');
      // The broker replaced the old member by the new one under the same instance id: two members, not three.
      assert.deepEqual(run.membersAfter, ['worker-a', 'worker-b']);
      // Consumption resumed while the killed member's session was still alive: the group did not wait for it.
      assert.ok(
        run.stallMs < SESSION_TIMEOUT_MS,
        `the stall (${run.stallMs} ms) lasted the session timeout: the group waited for the old member`,
      );

      // A graceful stop of a static member does not leave the group (KIP-345): right after its process exited the
      // broker still counts it, where a LeaveGroup would have removed it at once.
      await run.restarted.stop();
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      const ids = [...(group?.members.values() ?? [])].map((m) => m.groupInstanceId).sort();
      assert.deepEqual(ids, ['worker-a', 'worker-b']);
      t.diagnostic(
        `stall after SIGKILL with static membership: ${run.stallMs} ms (partitions ${run.before.join(',')})`,
      );
    } finally {
      await run.stopAll();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  },
);

it('with dynamic membership a graceful stop leaves the group at once', { timeout: 120_000 }, async (t) => {
  const brokers = kafkaBrokers(t);
  if (brokers === undefined) return;
  const { spawnMember } = await import('../helpers/group-member.ts');
  const { createKafkaLog } = await import('../../src/log/kafka/index.ts');
  const { silentLogger } = await import('../../src/observability/index.ts');
  const topic = uniqueName('dynamic-membership');
  const groupId = uniqueName('dynamic-group');
  const log = await createKafkaLog({ brokers, clientId: 'dynamic-test', logger: silentLogger() });
  const admin = new Admin({ clientId: 'dynamic-membership-test', bootstrapBrokers: brokers });
  await log.createTopics([{ name: topic, partitions: 2 }]);
  const member = spawnMember({ brokers, groupId, topic, instanceId: null, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    const deadline = Date.now() + 90_000;
    while (member.assignment() === null) {
      assert.ok(Date.now() < deadline, `no assignment: ${member.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await member.stop();
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    assert.equal(group?.members.size ?? 0, 0, 'the stopped dynamic member is still in the group');
  } finally {
    await member.kill();
    await log.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  }
});

it('two consumers of one group in one process get distinct instance ids', { timeout: 120_000 }, async (t) => {
  const brokers = kafkaBrokers(t);
  if (brokers === undefined) return;
  const { createKafkaLog } = await import('../../src/log/kafka/index.ts');
  const { silentLogger } = await import('../../src/observability/index.ts');
  const topic = uniqueName('static-two');
  const groupId = uniqueName('static-two-group');
  const log = await createKafkaLog({ brokers, clientId: 'static-two', logger: silentLogger(), groupInstanceId: 'w' });
  const admin = new Admin({ clientId: 'static-two-test', bootstrapBrokers: brokers });
  try {
    await log.createTopics([{ name: topic, partitions: 2 }]);
    const consumers = [log.consumer({ groupId, topics: [topic] }), log.consumer({ groupId, topics: [topic] })];
    const stop = new AbortController();
    const loops = consumers.map(async (c) => {
      for await (const _batch of c.batches({ signal: stop.signal })) continue;
    });
    const deadline = Date.now() + 90_000;
    let ids: (string | null)[] = [];
    while (ids.length < 2) {
      assert.ok(Date.now() < deadline, `members: ${JSON.stringify(ids)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      ids = [...(group?.members.values() ?? [])].map((m) => m.groupInstanceId ?? null).sort();
    }
    assert.deepEqual(ids, ['w', 'w-2']);
    stop.abort();
    await Promise.all(loops);
  } finally {
    await log.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  }
});

it(
  'two processes with the same instance id: the fenced one fails for good, naming the setting',
  { timeout: 120_000 },
  async (t) => {
    const brokers = kafkaBrokers(t);
    if (brokers === undefined) return;
    const { createKafkaLog } = await import('../../src/log/kafka/index.ts');
    const { silentLogger } = await import('../../src/observability/index.ts');
    const { isRetryable } = await import('../../src/common/index.ts');
    const topic = uniqueName('static-fenced');
    const groupId = uniqueName('static-fenced-group');
    // Two Logs stand for two processes configured with the same GRIDSTREAM_INSTANCE_ID.
    const open = () => createKafkaLog({ brokers, clientId: 'fenced', logger: silentLogger(), groupInstanceId: 'same' });
    const [first, second] = [await open(), await open()];
    const admin = new Admin({ clientId: 'static-fenced-test', bootstrapBrokers: brokers });
    const stop = new AbortController();
    try {
      await first.createTopics([{ name: topic, partitions: 2 }]);
      const drain = async (log: typeof first) => {
        try {
          for await (const _batch of log.consumer({ groupId, topics: [topic], sessionTimeoutMs: 10_000 }).batches({
            signal: stop.signal,
          }))
            continue;
          return undefined;
        } catch (error) {
          return error;
        }
      };
      const a = drain(first);
      // The second joins once the first holds the id; the coordinator then fences the first.
      const deadline = Date.now() + 90_000;
      while (((await admin.describeGroups({ groups: [groupId] })).get(groupId)?.members.size ?? 0) === 0) {
        assert.ok(Date.now() < deadline, 'the first member never joined');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const b = drain(second);
      const fenced = await a;
      assert.ok(fenced instanceof Error, 'the first member was not fenced');
      assert.equal(isRetryable(fenced), false);
      assert.match(fenced.message, /GRIDSTREAM_INSTANCE_ID/);
      stop.abort();
      assert.equal(await b, undefined, 'the member holding the id goes on');
    } finally {
      stop.abort();
      await first.close();
      await second.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  },
);
