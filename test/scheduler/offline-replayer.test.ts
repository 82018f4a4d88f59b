import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryPublisher, RawEntsoeDocumentSchema } from '../../src/contracts/index.ts';
import type { RawEntsoeDocument } from '../../src/contracts/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import { OfflineReplayer } from '../../src/scheduler/index.ts';
import { entsoeFixtureText, DATA } from '../helpers/fixtures.ts';
import { captureLogger } from '../helpers/fake-entsoe.ts';
import { readdirSync, readFileSync } from 'node:fs';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('offline replay', () => {
  it('bundles real documents: byte-for-byte copies of data/entsoe that parse into series', () => {
    const files = readdirSync(join(DATA, 'replay', 'entsoe')).filter((f) => f.endsWith('.xml'));
    assert.ok(files.length >= 10);
    for (const f of files) {
      const text = readFileSync(join(DATA, 'replay', 'entsoe', f), 'utf8');
      assert.equal(text, entsoeFixtureText(f), `${f} differs from data/entsoe`);
      assert.equal(parseEntsoeDocument(text).kind, 'series', f);
    }
  });

  it('publishes them one at a time on a timer, cycling, as origin "replay", and says so in the logs', async () => {
    const publisher = new MemoryPublisher<RawEntsoeDocument>();
    const { logger, lines } = captureLogger();
    const replayer = new OfflineReplayer({ publisher, logger, intervalMs: 10 });
    await replayer.task.start();
    const files = readdirSync(join(DATA, 'replay', 'entsoe')).filter((f) => f.endsWith('.xml')).length;
    while (publisher.values.length < files + 2) await wait(5);
    await replayer.task.stop();
    await replayer.task.stop(); // idempotent
    assert.equal(replayer.task.state, 'stopped');
    const docs = publisher.values.map((d) => RawEntsoeDocumentSchema.parse(d));
    assert.ok(docs.every((d) => d.origin === 'replay' && d.request === null && d.fileName !== undefined));
    assert.equal(docs[files]!.fileName, docs[0]!.fileName, 'cycles back to the first document');
    assert.notEqual(docs[files]!.id, docs[0]!.id);
    assert.ok(lines.some((l) => l.includes('OFFLINE REPLAY') && l.includes('"level":"warn"')));
  });

  it('backs off instead of spinning when there is nothing to replay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-replay-'));
    const { logger, lines } = captureLogger();
    const replayer = new OfflineReplayer({ publisher: new MemoryPublisher(), logger, dir, intervalMs: 10 });
    await replayer.task.start();
    await wait(300);
    await replayer.task.stop();
    await rm(dir, { recursive: true });
    const failures = lines.filter((l) => l.includes('iteration failed'));
    assert.ok(failures.length >= 1 && failures.length <= 5, `${failures.length} attempts in 300 ms`);
    assert.ok(failures[0]!.includes('no_replay_documents'));
  });
});
