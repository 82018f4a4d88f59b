import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { LogError, createEmbeddedLog, produceValues, topicSpecOf } from '../../src/log/index.ts';
import { tempDir } from '../helpers/services.ts';
import { waitFor } from './contract.ts';
import { doneTopic, jobsTopic, payloadFor } from './fixtures/topics.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a fixture as a real child process; it is killed when the test ends, whatever happens. */
function runFixture(t: TestContext, name: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, [join(FIXTURES, name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) t.diagnostic(`${name} stderr: ${stderr.slice(-2000)}`);
      resolve({ code, signal });
    });
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { process: child, lines, exited };
}

async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('gridstream-crash-');
  t.after(() => dir.remove());
  return dir.path;
}

const randomInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

async function idCounts(file: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const id of text.split('\n').filter((l) => l.length > 0)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function produceJobs(dir: string, count: number): Promise<void> {
  const log = await createEmbeddedLog({ dir });
  await log.createTopics([jobsTopic, doneTopic].map(topicSpecOf));
  await produceValues(
    log,
    jobsTopic,
    Array.from({ length: count }, (_, n) => ({ id: `job-${n}`, n })),
  );
  await log.close();
}

describe('embedded log crash safety (real processes)', () => {
  it('kill -9 of a producer at a random moment loses no acknowledged record', async (t) => {
    const dir = await dataDir(t);
    const acknowledged: [string, number, number][] = [];
    for (let round = 0; round < 3; round++) {
      const child = runFixture(t, 'producer.ts', [dir, String(round)]);
      const target = randomInt(50, 3000);
      await waitFor(`round ${round}: ${target} acknowledgements`, () => child.lines.length > target);
      child.process.kill('SIGKILL');
      const { signal } = await child.exited;
      assert.equal(signal, 'SIGKILL');
      for (const line of child.lines.slice(1)) {
        const [id, partition, offset] = line.split(' ');
        acknowledged.push([id!, Number(partition), Number(offset)]);
      }
      t.diagnostic(`round ${round}: killed after ${child.lines.length - 1} acknowledged records`);
    }
    // Opening takes over the lock of the killed process and recovers any torn tail.
    const log = await createEmbeddedLog({ dir });
    try {
      const next = await log.offsets('crash.produce');
      const byPartition = await Promise.all(next.map((p) => log.read('crash.produce', p.partition, 0, p.next)));
      for (const [id, partition, offset] of acknowledged) {
        const record = byPartition[partition]?.[offset];
        assert.ok(record !== undefined, `acknowledged ${id} at ${partition}/${offset} is there`);
        assert.equal(record.key, id);
        assert.equal(record.headers['id'], id);
        assert.ok(Buffer.from(record.value).equals(payloadFor(id)), `value of ${id} intact`);
      }
      const [p] = await log.produce('crash.produce', [{ key: 'after', value: payloadFor('after') }]);
      assert.equal(p!.offset, next[p!.partition]!.next, 'appends continue at the recovered end');
    } finally {
      await log.close();
    }
  });

  it('kill -9 of a consumer mid-batch: after a restart every record is processed at least once', async (t) => {
    const dir = await dataDir(t);
    const out = join(dir, 'processed.txt');
    const total = 3000;
    await produceJobs(dir, total);
    const first = runFixture(t, 'consumer.ts', [dir, out]);
    const batches = randomInt(3, 30);
    await waitFor(`${batches} batches`, () => first.lines.length >= batches);
    first.process.kill('SIGKILL');
    await first.exited;
    const before = await idCounts(out);
    t.diagnostic(`killed after ${first.lines.length} committed batches, ${before.size} records processed`);

    const second = runFixture(t, 'consumer.ts', [dir, out]);
    assert.equal((await second.exited).code, 0);
    assert.equal(second.lines.at(-1), 'done');
    const counts = await idCounts(out);
    for (let n = 0; n < total; n++) assert.ok((counts.get(`job-${n}`) ?? 0) >= 1, `job-${n} processed`);
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    t.diagnostic(`${duplicates} records processed twice (the uncommitted tail before the kill)`);
    assert.ok(duplicates <= 3 * 50, 'at most one uncommitted batch per partition again');
  });

  it('SIGTERM drains the batch in flight, commits, exits 0; a restart processes nothing twice', async (t) => {
    const dir = await dataDir(t);
    const out = join(dir, 'handled.txt');
    const total = 200;
    await produceJobs(dir, total);
    const first = runFixture(t, 'processor.ts', [dir, out, '20000']);
    await waitFor('a second batch in flight', () => first.lines.filter((l) => l === 'batch-start').length >= 2);

    // While the child owns the directory, nobody else may open it.
    await assert.rejects(createEmbeddedLog({ dir }), (e: unknown) => e instanceof LogError && e.code === 'log.locked');

    const signalled = Date.now();
    first.process.kill('SIGTERM');
    const { code } = await first.exited;
    t.diagnostic(`exited ${Date.now() - signalled} ms after SIGTERM`);
    assert.equal(code, 0);
    assert.equal(first.lines.at(-1), 'stopped');
    const starts = first.lines.filter((l) => l === 'batch-start').length;
    assert.equal(first.lines.filter((l) => l === 'batch-end').length, starts, 'the batch in flight finished');

    const log = await createEmbeddedLog({ dir });
    const committed = (await log.committed('crash-processor', jobsTopic.name)).reduce<number>(
      (s, c) => s + (c ?? 0),
      0,
    );
    await log.close();
    const handled = await idCounts(out);
    assert.equal(handled.size, committed, 'everything handled was committed, nothing more');
    assert.ok(committed < total, 'stopped before the end');

    const second = runFixture(t, 'processor.ts', [dir, out, '20000']);
    assert.equal((await second.exited).code, 0);
    assert.equal(second.lines.at(-1), 'done');
    const counts = await idCounts(out);
    assert.equal(counts.size, total);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      'no record handled twice',
    );
    const check = await createEmbeddedLog({ dir });
    assert.equal((await check.offsets(doneTopic.name))[0]!.next, total, 'one output per record');
    await check.close();
  });
});
