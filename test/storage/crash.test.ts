import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadOffsets, writeObservations } from '../../src/storage/index.ts';
import { METER_GROUP, METER_TOPIC, expectedIntervals, meterLog, numericThousandths } from './meter-log.ts';
import { crashBatch } from './crash-batch.ts';
import type { TestDb } from './helpers.ts';
import { DB_KINDS, count, dumpObservations, openTestDb } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./children/writer-child.ts', import.meta.url));

interface Child {
  readonly process: ChildProcess;
  /** Resolves when the child has printed `line` (rejects if it exits first). */
  waitFor(line: string): Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
}

function startChild(h: TestDb, extra: Record<string, unknown>): Child {
  const arg = JSON.stringify({ url: h.url, dataDir: h.dataDir, schema: h.schema, ...extra });
  const child = spawn(process.execPath, [CHILD, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.filter((w) => out.split('\n').includes(w.line))) w.resolve();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    process: child,
    exit,
    output: () => `${out}\n${err}`,
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        if (out.split('\n').includes(line)) {
          resolve();
          return;
        }
        waiters.push({ line, resolve });
        void exit.then(() => {
          reject(new Error(`child exited before "${line}":\n${out}\n${err}`));
        });
      }),
  };
}

async function killHard(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exit;
}

/** PGlite is single-process: the parent lets go of the directory while a child has it. */
async function handOver(h: TestDb): Promise<void> {
  if (h.kind === 'pglite') await h.db.close();
}
async function takeBack(h: TestDb): Promise<void> {
  if (h.kind === 'pglite') await h.reopen();
}

for (const kind of DB_KINDS) {
  describe(`crash safety: ${kind}`, () => {
    it('kill -9 between COPY and commit leaves nothing; the redelivered batch lands once', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await handOver(h);
      const child = startChild(h, { mode: 'observations', variant: 'fresh', hangAfterCopy: 1 });
      await child.waitFor('copied');
      await killHard(child);
      await takeBack(h);
      assert.equal(await count(h.db, 'grid_observations'), 0);
      assert.equal(await count(h.db, 'grid_series'), 0);
      const redelivered = await writeObservations(h.db, crashBatch('fresh'));
      assert.equal(redelivered.inserted, 768);
      const again = await writeObservations(h.db, crashBatch('fresh'));
      assert.deepEqual([again.inserted, again.updated, again.unchanged], [0, 0, 768]);
    });

    it('kill -9 after the direct COPY and the staging COPY of corrections leaves the previous state intact', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await writeObservations(h.db, crashBatch('fresh'));
      const before = await dumpObservations(h.db);
      await handOver(h);
      const child = startChild(h, { mode: 'observations', variant: 'corrections', hangAfterCopy: 2 });
      await child.waitFor('copied');
      await killHard(child);
      await takeBack(h);
      assert.deepEqual(await dumpObservations(h.db), before);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 0);
      const redelivered = await writeObservations(h.db, crashBatch('corrections'));
      assert.deepEqual([redelivered.inserted, redelivered.updated, redelivered.revisions], [768, 256, 256]);
      const again = await writeObservations(h.db, crashBatch('corrections'));
      assert.deepEqual([again.inserted, again.updated], [0, 0]);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 256);
    });

    it('meter data exactly once: repeated kill -9 of the writer, yet the stored intervals are exactly the input', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const perPartition = 150;
      const log = meterLog(perPartition);
      let finished = false;
      let kills = 0;
      await handOver(h);
      for (let run = 0; run < 6 && !finished; run++) {
        // The first run is killed inside a transaction, after its COPY; later ones at random moments. Odd runs
        // write the redelivered records again instead of leaving them out: duplicates must change nothing.
        const child = startChild(h, {
          mode: 'meters',
          perPartition,
          lag: 4,
          filter: run % 2 === 0,
          ...(run === 0 ? { hangAfterCopy: 3 } : {}),
        });
        if (run === 0) {
          await child.waitFor('copied');
          await killHard(child);
          kills++;
          continue;
        }
        // Runs 1–4 are killed once they have committed a random number of batches (the kill lands while the
        // next transaction runs); then the writer is left to finish.
        if (run <= 4) {
          const target = 1 + Math.floor(Math.random() * 20);
          const reached = await child.waitFor(`batch ${target}`).then(
            () => true,
            () => false,
          );
          if (reached) child.process.kill('SIGKILL');
        }
        const exit = await child.exit;
        if (exit.code === 0) finished = true;
        else if (exit.signal === 'SIGKILL') kills++;
        else assert.fail(`writer failed: ${child.output()}`);
      }
      await takeBack(h);
      assert.ok(finished, 'the writer finished after the kills');
      assert.ok(kills >= 2, `killed ${kills} times`);

      const expected = expectedIntervals(log);
      const { rows } = await h.db.query<{ meter_id: string; ts: Date; value: string }>(
        'SELECT meter_id, ts, value::text AS value FROM meter_intervals',
      );
      const actual = new Map(
        rows.map((r) => [`${r.meter_id}|${r.ts.toISOString().replace('.000Z', 'Z')}`, numericThousandths(r.value)]),
      );
      assert.deepEqual(actual, expected);
      // Every record after the first of its key was an exact duplicate: no revision was kept.
      assert.equal(await count(h.db, 'meter_interval_revisions'), 0);
      assert.equal(await count(h.db, 'meter_register_read_revisions'), 0);
      const offsets = await loadOffsets(h.db, METER_GROUP, METER_TOPIC);
      assert.deepEqual(
        offsets.map((o) => o.offset),
        [perPartition, perPartition, perPartition],
      );
    });
  });
}
