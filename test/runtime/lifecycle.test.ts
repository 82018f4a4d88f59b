import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawEntsoeTopic } from '../../src/contracts/index.ts';
import type { Log } from '../../src/log/index.ts';
import { createKafkaLog, namespacedLog, produceValues } from '../../src/log/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { openDb } from '../../src/storage/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { expectedFromFixtures, fixtureDocuments, pipelineDrained, settle } from '../helpers/pipeline.ts';
import { kafkaBrokers, tempDir, testDatabaseUrl, uniqueName } from '../helpers/services.ts';

interface Worker {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** `gridstream run store,process` as a real child process; resolves once it logged that it is running. */
async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'gridstream.js'), 'run', 'store,process'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('gridstream running')) resolve();
    });
    void exit.then(({ code }) => {
      reject(new Error(`worker exited with ${String(code)} before running:\n${output}`));
    });
  });
  return { child, exit, output: () => output };
}

describe('graceful shutdown and crash recovery of a real worker (Kafka + PostgreSQL)', { timeout: 300_000 }, () => {
  let log: Log | undefined;
  let db: Db | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  const workers: Worker[] = [];
  const setup = async (t: Parameters<typeof kafkaBrokers>[0]) => {
    const brokers = kafkaBrokers(t);
    const url = testDatabaseUrl(t);
    if (brokers === undefined || url === undefined) return undefined;
    const namespace = uniqueName('gs').toLowerCase().slice(0, 40);
    dir = await tempDir();
    log = namespacedLog(
      await createKafkaLog({ brokers, clientId: 'lifecycle-test', logger: silentLogger() }),
      namespace,
    );
    db = await openDb({ url, dataDir: dir.path, schema: namespace, logger: silentLogger() });
    const env = {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: url,
      GRIDSTREAM_NAMESPACE: namespace,
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_LOG_LEVEL: 'info',
      GRIDSTREAM_SHUTDOWN_GRACE_MS: '20000',
    };
    return { env, log, db, namespace };
  };
  const counts = async (d: Db) =>
    (
      await d.query<{ grid: number; carbon: number; revisions: number }>(
        `select (select count(*) from grid_observations where source <> 'gridstream')::int as grid,
                (select count(*) from grid_observations where source = 'gridstream')::int as carbon,
                (select count(*) from grid_observation_revisions)::int as revisions`,
      )
    ).rows[0];

  before(() => undefined);
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    if (db !== undefined) {
      const schema = db.schema;
      if (schema !== null) await db.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await db.close();
    }
    await log?.close();
    await dir?.remove();
  });

  it('SIGTERM drains in-flight work and exits 0; kill -9 mid-stream then restart stores every observation exactly once', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const want = expectedFromFixtures();
    // Twice the documents: the second copy is pure replay, so any double counting would show.
    const first = await startWorker(s.env);
    workers.push(first);
    await produceValues(s.log, rawEntsoeTopic, [...fixtureDocuments(), ...fixtureDocuments()]);
    await settle(async () => ((await counts(s.db).catch(() => undefined))?.grid ?? 0) > 0 || Math.random(), {
      stableFor: 1,
      intervalMs: 100,
    });

    first.child.kill('SIGTERM');
    const stopped = await first.exit;
    assert.equal(stopped.code, 0, `exit after SIGTERM:\n${first.output().slice(-2000)}`);
    assert.match(first.output(), /"msg":"stopped"/);

    const second = await startWorker(s.env);
    workers.push(second);
    await settle(async () => ((await counts(s.db))?.grid ?? 0) > want.observations / 4 || Math.random(), {
      stableFor: 1,
      intervalMs: 50,
    });
    second.child.kill('SIGKILL');
    const killed = await second.exit;
    assert.equal(killed.signal, 'SIGKILL');

    const third = await startWorker(s.env);
    workers.push(third);
    await pipelineDrained(s.log);
    assert.deepEqual(await counts(s.db), { grid: want.observations, carbon: want.carbon, revisions: 0 });
    third.child.kill('SIGTERM');
    assert.equal((await third.exit).code, 0);
  });
});
