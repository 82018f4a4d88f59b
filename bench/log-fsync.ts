import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedLog, type EmbeddedLog } from '../src/log/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';

const NAME = 'log-fsync';
/** Each case runs this long per log (with and without fsync), interleaved: the machine is shared. */
const CASE_MS = 2_000;
const RECORD_BYTES = 100;
/**
 * Concurrent producers, each awaiting its acknowledgement before sending its next call — as the ingest gateway's
 * requests do. With one producer every record pays a whole fsync; with many, the partition's flush loop writes
 * what queued up during the previous fsync with one write and one fsync (group commit).
 */
const CASES = [
  { producers: 1, perCall: 1 },
  { producers: 8, perCall: 1 },
  { producers: 64, perCall: 1 },
  { producers: 8, perCall: 100 },
] as const;

/** Records per second acknowledged by `producers` concurrent loops of `perCall`-record produce calls. */
async function measure(log: EmbeddedLog, topic: string, producers: number, perCall: number): Promise<number> {
  const value = new Uint8Array(RECORD_BYTES).fill(65);
  const records = Array.from({ length: perCall }, () => ({ key: null, value }));
  let acknowledged = 0;
  const start = performance.now();
  const until = start + CASE_MS;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (performance.now() < until) {
        await log.produce(topic, records);
        acknowledged += perCall;
      }
    }),
  );
  return acknowledged / ((performance.now() - start) / 1000);
}

export const logFsyncBenchmark: Benchmark = {
  name: NAME,
  description:
    'embedded log: acknowledged appends with fsync (durable on power loss) vs the same code with fsync off, 1-64 concurrent producers (group commit)',
  async run(emit) {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-fsync-'));
    const durable = await createEmbeddedLog({ dir: join(dir, 'durable'), logger: silentLogger() });
    const unsafe = await createEmbeddedLog({ dir: join(dir, 'no-fsync'), logger: silentLogger(), fsync: false });
    try {
      // One partition: every producer appends to the same file, so concurrency can only help through group commit.
      for (const log of [durable, unsafe]) await log.createTopics([{ name: 'bench', partitions: 1 }]);
      await measure(durable, 'bench', 4, 1); // warm-up, not measured
      await measure(unsafe, 'bench', 4, 1);
      let single: number | undefined;
      for (const { producers, perCall } of CASES) {
        const withFsync = await measure(durable, 'bench', producers, perCall);
        const without = await measure(unsafe, 'bench', producers, perCall);
        single ??= withFsync;
        const label = `${producers} producer${producers === 1 ? '' : 's'}, ${perCall} record${perCall === 1 ? '' : 's'} per call`;
        emit(
          figure(
            NAME,
            `acknowledged appends with fsync, ${label}`,
            withFsync,
            'records/s',
            { name: 'the same code with fsync off (not durable)', value: without },
            `${RECORD_BYTES}-byte records, one partition, ${CASE_MS / 1000} s each, data dir under ${tmpdir()}; ratio = cost of durability (1 = free)`,
          ),
        );
        if (producers > 1 && perCall === 1) {
          emit(
            figure(
              NAME,
              `group commit: fsync'd records/s with ${producers} concurrent producers`,
              withFsync,
              'records/s',
              { name: "fsync'd records/s with 1 producer (one fsync per record)", value: single },
              'one-record produce calls; ratio = records each fsync carries on average, roughly',
            ),
          );
        }
      }
    } finally {
      await Promise.allSettled([durable.close(), unsafe.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
