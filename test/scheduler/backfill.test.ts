import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createBackfillCommand } from '../../src/cli/commands/backfill.ts';
import { runCli } from '../../src/cli/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { planRequest } from '../../src/connectors/entsoe/index.ts';
import { MemoryPublisher } from '../../src/contracts/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import type { BackfillProgress } from '../../src/scheduler/index.ts';
import {
  BackfillDisplay,
  backfillSplit,
  DEFAULT_BORDERS,
  MemoryBackfillProgressStore,
  parseBackfillDate,
  planBackfill,
  runBackfill,
} from '../../src/scheduler/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger, fakeEntsoeIngestor } from '../helpers/fake-entsoe.ts';

const reference = loadReference();
const scope = { zones: ['SE_4'], borders: DEFAULT_BORDERS, documents: ['A75', 'A65'] };

describe('backfill', () => {
  let fake: FakeEntsoe;
  const capture = captureLogger();
  before(async () => {
    fake = await FakeEntsoe.start();
  });
  after(async () => {
    await fake.close();
    for (const line of capture.lines) assert.ok(!line.includes(TEST_TOKEN));
  });
  const ingestor = (published = new MemoryPublisher<RawEntsoeDocument>(), dlq = new MemoryPublisher<DeadLetter>()) =>
    fakeEntsoeIngestor(fake.url, capture.logger, published, dlq);

  it('plans chunks to the service limits, borders included, in time order with stable ids', () => {
    const from = parseBackfillDate('2025-08-01', 'Europe/Stockholm');
    const to = parseBackfillDate('2025-12-01', 'Europe/Stockholm');
    const plan = planBackfill({
      from,
      to,
      scope: { ...scope, documents: ['A75', 'A65', 'A11'] },
      reference,
      split: (r) => planRequest(r),
    });
    const byType = (t: string) => plan.chunks.filter((c) => c.request.documentType === t).length;
    assert.deepEqual([byType('A75'), byType('A65'), byType('A11')], [1, 4, 2]); // A11: DE_LU↔SE_4 both ways
    assert.equal(plan.chunks[0]!.request.periodStart, '2025-07-31T22:00:00Z');
    const again = planBackfill({
      from,
      to,
      scope: { ...scope, documents: ['A75', 'A65', 'A11'] },
      reference,
      split: (r) => planRequest(r),
    });
    assert.deepEqual(
      again.chunks.map((c) => c.id),
      plan.chunks.map((c) => c.id),
    );
    assert.equal(again.id, plan.id);
    assert.throws(() => planBackfill({ from: to, to: from, scope, reference, split: (r) => [r] }), /empty/);
    // Backfills cut every type into calendar months (a raw.entsoe record holds at most 16 MiB).
    const monthly = planBackfill({
      from,
      to,
      scope: { ...scope, documents: ['A75', 'A44', 'A11'] },
      reference,
      split: backfillSplit,
    });
    const monthlyByType = (t: string) => monthly.chunks.filter((c) => c.request.documentType === t).length;
    assert.deepEqual([monthlyByType('A75'), monthlyByType('A44'), monthlyByType('A11')], [4, 4, 8]);
  });

  it('resumes after an interruption without fetching finished chunks again', async () => {
    const plan = planBackfill({
      from: parseBackfillDate('2025-06-01', 'Europe/Stockholm'),
      to: parseBackfillDate('2025-12-01', 'Europe/Stockholm'),
      scope,
      reference,
      split: (r) => planRequest(r),
    });
    assert.equal(plan.chunks.length, 7);
    const progress = new MemoryBackfillProgressStore();
    const controller = new AbortController();
    const start = fake.requests.length;
    const first = await runBackfill({
      plan,
      ingestor: ingestor(),
      progress,
      logger: capture.logger,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 3) controller.abort(new Error('interrupted'));
      },
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.done, 3);
    const firstKeys = fake.requests.slice(start).map((r) => `${r.params['documentType']}${r.params['periodStart']}`);
    const published = new MemoryPublisher<RawEntsoeDocument>();
    const second = await runBackfill({ plan, ingestor: ingestor(published), progress, logger: capture.logger });
    assert.equal(second.interrupted, false);
    assert.deepEqual([second.done, second.skipped, second.failed], [7, 3, 0]);
    const secondKeys = fake.requests
      .slice(start + firstKeys.length)
      .map((r) => `${r.params['documentType']}${r.params['periodStart']}`);
    assert.equal(secondKeys.length, 4);
    for (const k of secondKeys) assert.ok(!firstKeys.slice(0, 3).includes(k), `${k} fetched twice`);
    // The A75 chunk (the only one with data) was finished by the first run: the second publishes nothing again.
    assert.equal(first.documents, 1);
    assert.equal(published.values.length, 0);
  });

  it('marks a chunk that failed for good as failed (dead-lettered) and fetches it again on the next run', async () => {
    const plan = planBackfill({
      from: parseBackfillDate('2025-10-01', 'Europe/Stockholm'),
      to: parseBackfillDate('2025-11-01', 'Europe/Stockholm'),
      scope: { ...scope, documents: ['A75'] },
      reference,
      split: (r) => planRequest(r),
    });
    const progress = new MemoryBackfillProgressStore();
    const dlq = new MemoryPublisher<DeadLetter>();
    fake.fail({ status: 503 }, { times: 2 });
    const first = await runBackfill({ plan, ingestor: ingestor(undefined, dlq), progress, logger: capture.logger });
    assert.deepEqual([first.done, first.failed, first.deadLetters, dlq.values.length], [0, 1, 1, 1]);
    assert.equal((await progress.load([plan.chunks[0]!.id])).get(plan.chunks[0]!.id)?.error, 'entsoe.http_error');
    const second = await runBackfill({ plan, ingestor: ingestor(), progress, logger: capture.logger });
    assert.deepEqual([second.done, second.failed, second.points], [1, 0, 355]);
  });

  it('shows plain progress lines off a terminal and a redrawn bar on one', () => {
    const p: BackfillProgress = {
      backfillId: 'b',
      total: 200,
      done: 50,
      skipped: 0,
      failed: 1,
      points: 123_456,
      documents: 40,
      exchanges: 55,
      elapsedMs: 60_000,
      chunksPerMinute: 51,
      etaMs: 177_000,
    };
    const plain: string[] = [];
    new BackfillDisplay({ write: (s: string) => plain.push(s) }).update(p);
    assert.deepEqual(plain, ['backfill: 50/200 requests (25%), 1 failed | 123.5k points | 51 req/min | ETA 2m57s\n']);
    const tty: string[] = [];
    const bar = new BackfillDisplay(
      { write: (s: string) => tty.push(s), isTTY: true, columns: 120 },
      { pointsStored: () => 100_000 },
    );
    bar.update(p);
    bar.finish();
    assert.ok(tty[0]!.startsWith('\r\u001b[2K'), 'clears the line before redrawing');
    assert.match(
      tty[0]!.slice(5),
      /^\[#+-+\] 50\/200 requests \(25%\), 1 failed \| 123\.5k points fetched, 100\.0k stored \| 51 req\/min \| ETA 2m57s$/,
    );
    assert.equal(tty[1], '\n');
  });

  it('runs as `gridstream backfill` with an injected runtime, waits until drained, and resumes', async () => {
    const progress = new MemoryBackfillProgressStore();
    const published = new MemoryPublisher<RawEntsoeDocument>();
    let drained = 0;
    const command = createBackfillCommand(() =>
      Promise.resolve({
        publisher: published,
        deadLetters: new MemoryPublisher<DeadLetter>(),
        progress,
        waitUntilDrained: () => {
          drained++;
          return Promise.resolve({ pointsStored: 355 });
        },
        close: () => Promise.resolve(),
      }),
    );
    const run = async (argv: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: string[] = [];
      const err: string[] = [];
      stdout.on('data', (d: Buffer) => out.push(d.toString()));
      stderr.on('data', (d: Buffer) => err.push(d.toString()));
      const code = await runCli(argv, [command], {
        env: { ENTSOE_TOKEN: TEST_TOKEN, ENTSOE_BASE_URL: fake.url, GRIDSTREAM_LOG_LEVEL: 'warn' },
        stdout,
        stderr,
        signal: new AbortController().signal,
        cwd: process.cwd(),
      });
      return { code, out: out.join(''), err: err.join('') };
    };
    const argv = [
      'backfill',
      '--from',
      '2025-10-01',
      '--to',
      '2025-11-01',
      '--zones',
      'SE_4',
      '--documents',
      'A75,A65',
    ];
    const first = await run(argv);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /^backfill: \d+\/\d+ requests/m);
    assert.match(first.out, /355 points stored/);
    assert.match(first.out, /2\/2 requests done \(0 already done before\), 0 failed/);
    assert.equal(drained, 1);
    assert.ok(!first.out.includes(TEST_TOKEN) && !first.err.includes(TEST_TOKEN));
    const before = fake.requests.length;
    const second = await run(argv);
    assert.equal(second.code, 0);
    assert.match(second.out, /2\/2 requests done \(2 already done before\)/);
    assert.equal(fake.requests.length, before, 'nothing fetched again');

    const dry = await runCli(
      ['backfill', '--from', '2024-01-01', '--to', '2025-01-01', '--zones', 'FR', '--documents', 'A65', '--dry-run'],
      [command],
      {
        env: {},
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        signal: new AbortController().signal,
        cwd: process.cwd(),
      },
    );
    assert.equal(dry, 0);
    const usage = await run(['backfill', '--from', '2024-01-01', '--to', '2024-02-01', '--zones', 'XX']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown zone/);
  });
});
