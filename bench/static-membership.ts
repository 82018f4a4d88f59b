/**
 * The stall after `kill -9` of one of two workers of a consumer group, until its partitions are consumed again:
 * dynamic membership (the group waits for the dead member's session to expire) against static membership
 * (`GRIDSTREAM_INSTANCE_ID`: the restarted worker takes its partitions back at once). Each member is a process of
 * its own (test/helpers/group-member.ts); the killed one is restarted immediately; a load producer writes every
 * 20 ms to every partition, and the stall ends when a record produced after the kill on each of the killed
 * member's partitions has been consumed and committed. Dynamic and static runs alternate.
 */
import { Admin } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import { killAndRestart } from '../test/helpers/group-member.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';

const NAME = 'static-membership';
/** The Log consumer's default session timeout, as the roles run with it. */
const SESSION_TIMEOUT_MS = 30_000;
const RUNS = 3;
const PARTITIONS = 6;

async function once(brokers: string[], staticIds: boolean): Promise<number> {
  const topic = `bench-static-${randomUUID()}`;
  const result = await killAndRestart({
    brokers,
    topic,
    groupId: `bench-static-${randomUUID()}`,
    staticIds,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    partitions: PARTITIONS,
    timeoutMs: 4 * SESSION_TIMEOUT_MS,
  });
  await result.stopAll();
  const admin = new Admin({ clientId: 'bench-static-cleanup', bootstrapBrokers: brokers });
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
  return result.stallMs;
}

export const staticMembershipBenchmark: Benchmark = {
  name: NAME,
  description: `stall after kill -9 of one of 2 workers, dynamic vs static membership (session ${SESSION_TIMEOUT_MS} ms, ${RUNS} runs each)`,
  needs: ['kafka'],
  async run(emit) {
    const brokers = process.env['KAFKA_BROKERS']?.split(',');
    if (brokers === undefined || brokers[0] === '') {
      throw new Error(`${NAME} needs a Kafka broker: set KAFKA_BROKERS (npm run kafka:start prints it)`);
    }
    const dynamic: number[] = [];
    const statik: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      dynamic.push(await once(brokers, false));
      statik.push(await once(brokers, true));
      process.stderr.write(`# ${NAME} run ${i + 1}: dynamic ${dynamic.at(-1)} ms, static ${statik.at(-1)} ms\n`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    emit({
      ...figure(
        NAME,
        'stall_after_kill9_static_ms',
        median(statik),
        'ms',
        {
          name: 'dynamic membership (no GRIDSTREAM_INSTANCE_ID), same run',
          value: median(dynamic),
          lowerIsBetter: true,
        },
        'median of the runs; includes the restart of the killed process (Node start-up, connect, join)',
      ),
      params: {
        runs: RUNS,
        partitions: PARTITIONS,
        session_timeout_ms: SESSION_TIMEOUT_MS,
        static_runs_ms: statik.join(','),
        dynamic_runs_ms: dynamic.join(','),
        static_max_ms: Math.max(...statik),
        dynamic_max_ms: Math.max(...dynamic),
      },
    });
  },
};
