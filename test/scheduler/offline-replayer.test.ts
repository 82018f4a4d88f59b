import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryPublisher, RawEntsoeDocumentSchema, rawEntsoeTopic } from '../../src/contracts/index.ts';
import type { Publisher, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { EmbeddedLog } from '../../src/log/index.ts';
import { createEmbeddedLog, produceValues, topicSpecOf } from '../../src/log/index.ts';
import type { ReplayedDocumentStore } from '../../src/scheduler/index.ts';
import { MemoryReplayedDocumentStore, OfflineReplayer, SqlReplayedDocumentStore } from '../../src/scheduler/index.ts';
import { entsoeFixtureText, DATA } from '../helpers/fixtures.ts';
import { captureLogger } from '../helpers/fake-entsoe.ts';
import { openTestDb } from '../storage/helpers.ts';
import { readdirSync, readFileSync } from 'node:fs';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BUNDLE = join(DATA, 'replay', 'entsoe');
const bundled = () =>
  readdirSync(BUNDLE)
    .filter((f) => f.endsWith('.xml'))
    .sort();

/** Polls until `condition` holds; the deadline only keeps a broken replay from hanging the suite. */
async function until(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await wait(5);
  }
}

/** A copy of the bundled documents that a test may edit. */
async function bundleCopy(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-replay-'));
  for (const f of bundled()) await copyFile(join(BUNDLE, f), join(dir, f));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function bytesOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    total += e.isDirectory() ? await bytesOf(path) : (await stat(path)).size;
  }
  return total;
}

async function rawRecords(log: EmbeddedLog): Promise<RawEntsoeDocument[]> {
  const records = [];
  for (const p of await log.offsets(rawEntsoeTopic.name)) {
    records.push(...(await log.read(rawEntsoeTopic.name, p.partition, p.earliest, 10_000)));
  }
  return records.map((r) => RawEntsoeDocumentSchema.parse(JSON.parse(Buffer.from(r.value).toString('utf8'))));
}

function logPublisher(log: EmbeddedLog): Publisher<RawEntsoeDocument> {
  return {
    async publish(values, options = {}) {
      await produceValues(log, rawEntsoeTopic, values, options.signal === undefined ? {} : { signal: options.signal });
    },
  };
}

describe('offline replay', () => {
  it('bundles real documents: byte-for-byte copies of data/entsoe that parse into series', () => {
    const files = bundled();
    assert.ok(files.length >= 10);
    for (const f of files) {
      const text = readFileSync(join(BUNDLE, f), 'utf8');
      assert.equal(text, entsoeFixtureText(f), `${f} differs from data/entsoe`);
      assert.equal(parseEntsoeDocument(text).kind, 'series', f);
    }
  });

  it('publishes each document once, one at a time, as origin "replay", then idles; loud once, skips not at info', async () => {
    const publisher = new MemoryPublisher<RawEntsoeDocument>();
    const { logger, lines } = captureLogger();
    const store = new MemoryReplayedDocumentStore();
    const replayer = new OfflineReplayer({ publisher, logger, store, intervalMs: 10 });
    const files = bundled();
    assert.equal(replayer.progress.documents, 0);
    await replayer.task.start();
    await until('three passes', () => replayer.progress.cycles >= 3);
    await replayer.task.stop();
    await replayer.task.stop(); // idempotent
    assert.equal(replayer.task.state, 'stopped');
    const docs = publisher.values.map((d) => RawEntsoeDocumentSchema.parse(d));
    assert.deepEqual(
      docs.map((d) => d.fileName),
      files,
      'every bundled document once, in file name order, and none again on later passes',
    );
    assert.ok(docs.every((d) => d.origin === 'replay' && d.request === null));
    assert.equal(new Set(docs.map((d) => d.id)).size, files.length);
    assert.equal(store.size, files.length);
    const progress = replayer.progress;
    assert.equal(progress.documents, files.length);
    assert.equal(progress.published, files.length);
    assert.equal(progress.pending, 0);
    assert.equal(progress.idle, true);
    assert.equal(progress.lastFile, files.at(-1));
    assert.ok(progress.lastPublishedAt !== null);
    // Every pass after the first skipped every document: published + skipped = documents × passes.
    assert.equal(progress.published + progress.skipped, files.length * progress.cycles);
    const info = lines.filter((l) => !l.includes('"level":"debug"') && !l.includes('"level":"trace"'));
    assert.equal(info.filter((l) => l.includes('OFFLINE REPLAY') && l.includes('"level":"warn"')).length, 1);
    assert.equal(info.filter((l) => l.includes('idle until')).length, 1, 'idling is said once, not every pass');
    assert.ok(
      info.every((l) => !l.includes('skipped')),
      'skips are debug lines',
    );
    assert.ok(lines.some((l) => l.includes('skipped documents published before')));
  });

  it('with a real embedded log: raw.entsoe stops growing after the first pass, also after a restart, and an edited or new document is published', async (t) => {
    const db = await openTestDb(t, 'pglite');
    assert.ok(db !== undefined);
    const bundle = await bundleCopy();
    const logDir = await mkdtemp(join(tmpdir(), 'gridstream-replay-log-'));
    t.after(async () => {
      await bundle.remove();
      await rm(logDir, { recursive: true, force: true });
    });
    const files = bundled();
    const { logger, lines } = captureLogger();
    // Stopped and closed even when an assertion fails, or the replay's timer would keep the test process alive.
    const running: { stop(): Promise<void> }[] = [];
    t.after(async () => {
      for (const r of running.reverse()) await r.stop();
    });
    const openLog = async () => {
      const log = await createEmbeddedLog({ dir: logDir });
      running.push({ stop: () => log.close() });
      await log.createTopics([topicSpecOf(rawEntsoeTopic)]);
      return log;
    };
    const start = async (log: EmbeddedLog, store: ReplayedDocumentStore) => {
      const replayer = new OfflineReplayer({
        publisher: logPublisher(log),
        logger,
        store,
        dir: bundle.dir,
        intervalMs: 10,
      });
      running.push({ stop: () => replayer.task.stop() });
      await replayer.task.start();
      return replayer;
    };
    // A file appears whole (written under another name, then renamed), as an editor or `cp` + `mv` would do.
    const put = async (name: string, text: string) => {
      await writeFile(join(bundle.dir, `${name}.part`), text);
      await rename(join(bundle.dir, `${name}.part`), join(bundle.dir, name));
    };

    // First run: one pass publishes the bundle, the passes after it add nothing.
    let log = await openLog();
    let replayer = await start(log, new SqlReplayedDocumentStore(db.db));
    await until('the first pass and an idle one', () => replayer.progress.idle);
    const afterFirst = { records: (await rawRecords(log)).length, bytes: await bytesOf(logDir) };
    assert.equal(afterFirst.records, files.length);
    const cycles = replayer.progress.cycles;
    await until('three more passes', () => replayer.progress.cycles >= cycles + 3);
    const later = { records: (await rawRecords(log)).length, bytes: await bytesOf(logDir) };
    t.diagnostic(
      `first pass: ${afterFirst.records} records, log ${afterFirst.bytes} bytes; after ${replayer.progress.cycles} passes: ${later.records} records, ${later.bytes} bytes`,
    );
    assert.deepEqual(later, afterFirst, 'idle passes write nothing to the log');
    await replayer.task.stop();
    await log.close();

    // A restart on the same database: nothing is published again.
    const reopened = await db.reopen();
    log = await openLog();
    replayer = await start(log, new SqlReplayedDocumentStore(reopened));
    await until('two passes after the restart', () => replayer.progress.cycles >= 2);
    assert.deepEqual(
      { published: replayer.progress.published, skipped: replayer.progress.skipped, idle: replayer.progress.idle },
      { published: 0, skipped: files.length * replayer.progress.cycles, idle: true },
    );
    assert.equal((await rawRecords(log)).length, files.length);
    assert.equal(await bytesOf(logDir), afterFirst.bytes, 'a restarted replay writes nothing either');

    // An edited file and a new one are published on the next pass, once; an identical copy is not.
    const [edited = '', other = '', copied = ''] = files;
    const read = (name: string) => readFile(join(bundle.dir, name), 'utf8');
    await put(edited, `${await read(edited)}\n<!-- corrected by hand -->\n`);
    await put('Z_new_document.xml', `${await read(other)}\n<!-- new -->\n`);
    await put('Z_identical_copy.xml', await read(copied));
    await until('the changes published', () => replayer.progress.published === 2 && replayer.progress.idle);
    const records = await rawRecords(log);
    assert.equal(records.length, files.length + 2);
    const perFile = new Map<string, number>();
    for (const r of records) perFile.set(r.fileName ?? '', (perFile.get(r.fileName ?? '') ?? 0) + 1);
    assert.deepEqual(
      [perFile.get(edited), perFile.get('Z_new_document.xml'), perFile.get('Z_identical_copy.xml'), perFile.get(other)],
      [2, 1, undefined, 1],
    );
    assert.ok(records.some((r) => r.fileName === edited && r.body.endsWith('<!-- corrected by hand -->\n')));
    assert.equal(replayer.progress.documents, files.length + 2);
    assert.ok(lines.some((l) => l.includes('new or changed bundled documents') && l.includes('"level":"info"')));
  });

  it('a failing store is retried without losing or doubling the document that was published', async () => {
    const publisher = new MemoryPublisher<RawEntsoeDocument>();
    const { logger, lines } = captureLogger();
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-replay-'));
    const files = bundled().slice(0, 2);
    for (const f of files) await copyFile(join(BUNDLE, f), join(dir, f));
    const memory = new MemoryReplayedDocumentStore();
    let failRecords = 1;
    const store: ReplayedDocumentStore = {
      published: (hashes) => memory.published(hashes),
      record: (doc) => (failRecords-- > 0 ? Promise.reject(new Error('connection refused')) : memory.record(doc)),
    };
    const replayer = new OfflineReplayer({ publisher, logger, store, dir, intervalMs: 10 });
    await replayer.task.start();
    await until('idle', () => replayer.progress.idle, 30_000);
    await replayer.task.stop();
    await rm(dir, { recursive: true });
    assert.deepEqual(
      publisher.values.map((d) => d.fileName),
      files,
    );
    assert.equal(memory.size, 2);
    assert.ok(lines.some((l) => l.includes('replay_store_unavailable') && l.includes('connection refused')));
  });

  it('backs off instead of spinning when there is nothing to replay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-replay-'));
    const { logger, lines } = captureLogger();
    const replayer = new OfflineReplayer({
      publisher: new MemoryPublisher(),
      logger,
      store: new MemoryReplayedDocumentStore(),
      dir,
      intervalMs: 10,
    });
    await replayer.task.start();
    await wait(300);
    await replayer.task.stop();
    await rm(dir, { recursive: true });
    const failures = lines.filter((l) => l.includes('iteration failed'));
    assert.ok(failures.length >= 1 && failures.length <= 5, `${failures.length} attempts in 300 ms`);
    assert.ok(failures[0]!.includes('no_replay_documents'));
  });
});
