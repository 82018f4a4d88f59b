/**
 * Ingestion benchmarks against the fake ENTSO-E service (test/helpers/fake-entsoe.ts), which behaves like the real
 * one: it bans a token that exceeds its budget.
 *
 * 1. Backfill efficiency: a backfill much larger than one minute's budget, run for one minute with the limit set
 *    to 120 requests/minute; requests the service received in that minute ÷ the budget. Aim ≥ 0.95, never > 1.0
 *    (the fake would ban the token). Baseline: the allowed rate.
 * 2. Points fetched per second end to end (HTTP, retries machinery, response checks, parser, publish) for real
 *    A75 documents, without a rate limit; baseline: the parser alone on the same bodies in the same run.
 */
import { Secret, loadConfig } from '../src/config/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../src/contracts/index.ts';
import { EntsoeClient, EntsoeIngestor, parseEntsoeDocument, planRequest } from '../src/connectors/entsoe/index.ts';
import { MemoryRateLimitStore } from '../src/connectors/http/index.ts';
import { MemoryPublisher } from '../src/contracts/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { loadReference } from '../src/reference/index.ts';
import { MemoryBackfillProgressStore, planBackfill, runBackfill } from '../src/scheduler/index.ts';
import { FakeEntsoe, TEST_TOKEN } from '../test/helpers/fake-entsoe.ts';
import { entsoeFixtureText } from '../test/helpers/fixtures.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackfillRuntime } from '../src/runtime/index.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';

const BENCH = 'ingest';
const ALLOWED_PER_MINUTE = 120;
const MEASURE_MS = 60_000;

function ingestor(fake: FakeEntsoe, requestsPerMinute: number): EntsoeIngestor {
  const logger = silentLogger();
  return new EntsoeIngestor({
    client: new EntsoeClient({
      baseUrl: fake.url,
      token: new Secret(TEST_TOKEN),
      logger,
      rateLimits: new MemoryRateLimitStore(),
      limit: { requestsPerMinute },
    }),
    publisher: new MemoryPublisher<RawEntsoeDocument>(),
    deadLetters: new MemoryPublisher<DeadLetter>(),
    logger,
  });
}

async function efficiency(emit: Parameters<Benchmark['run']>[0]): Promise<void> {
  const fake = await FakeEntsoe.start({
    ignorePeriod: true,
    enforce: { limit: ALLOWED_PER_MINUTE, windowMs: 60_000, banMs: 600_000 },
  });
  try {
    // 15 years of monthly day-ahead load forecasts for DK2: 180 requests, more than a minute's budget.
    const plan = planBackfill({
      from: Date.parse('2009-12-31T23:00Z'),
      to: Date.parse('2024-12-31T23:00Z'),
      scope: { zones: ['DK_2'], borders: [], documents: ['A65:A01'] },
      reference: loadReference(),
      split: (r) => planRequest(r),
    });
    const controller = new AbortController();
    let first: number | undefined;
    const stopper = setInterval(() => {
      first ??= fake.requests[0]?.at;
      if (first !== undefined && Date.now() - first >= MEASURE_MS) controller.abort(new Error('measured'));
    }, 50);
    await runBackfill({
      plan,
      ingestor: ingestor(fake, ALLOWED_PER_MINUTE),
      progress: new MemoryBackfillProgressStore(),
      logger: silentLogger(),
      concurrency: 4,
      signal: controller.signal,
    });
    clearInterval(stopper);
    const start = fake.requests[0]?.at ?? 0;
    const inMinute = fake.requests.filter((r) => r.at - start < MEASURE_MS).length;
    const banned = fake.requests.filter((r) => r.answer === 'banned').length;
    const worstWindow = fake.maxInWindow(TEST_TOKEN, 60_000);
    if (banned > 0 || worstWindow > ALLOWED_PER_MINUTE) {
      throw new Error(`over budget: ${worstWindow} requests in a minute, ${banned} banned answers`);
    }
    emit(
      figure(
        BENCH,
        'backfill requests per minute',
        inMinute,
        'requests/min',
        { name: `allowed budget (${ALLOWED_PER_MINUTE}/min, enforced by the fake service)`, value: ALLOWED_PER_MINUTE },
        `achieved ÷ allowed; busiest sliding minute ${worstWindow}, 0 bans; ${plan.chunks.length} planned requests, concurrency 4`,
      ),
    );
  } finally {
    await fake.close();
  }
}

async function pointsPerSecond(emit: Parameters<Benchmark['run']>[0]): Promise<void> {
  const body = entsoeFixtureText('A75_LU_PT15M_A01_2024-05-21.xml');
  const fake = await FakeEntsoe.start({ respond: (p) => (p['documentType'] === 'A75' ? body : undefined) });
  try {
    // 35 years × 10 zones of yearly A75 requests, each answered with the same real document.
    const plan = planBackfill({
      from: Date.parse('1990-01-01T00:00Z'),
      to: Date.parse('2024-12-31T00:00Z'),
      scope: { zones: ['LU', 'FR', 'ES', 'PT', 'BE', 'NL', 'AT', 'CH', 'CZ', 'PL'], borders: [], documents: ['A75'] },
      reference: loadReference(),
      split: (r) => planRequest(r),
    });
    const run = () =>
      runBackfill({
        plan,
        ingestor: ingestor(fake, 400_000),
        progress: new MemoryBackfillProgressStore(),
        logger: silentLogger(),
        concurrency: 4,
      });
    await run(); // warm-up: JIT, connections
    const started = performance.now();
    const summary = await run();
    const seconds = (performance.now() - started) / 1000;
    for (let i = 0; i < 50; i++) parseEntsoeDocument(body); // warm-up
    const t0 = performance.now();
    let parsed = 0;
    for (let i = 0; i < summary.done; i++) {
      const outcome = parseEntsoeDocument(body);
      if (outcome.kind === 'series') parsed += outcome.stats.steps;
    }
    const parseSeconds = (performance.now() - t0) / 1000;
    emit(
      figure(
        BENCH,
        'points fetched per second',
        summary.points / seconds,
        'points/s',
        { name: 'parser alone on the same bodies', value: parsed / parseSeconds },
        `${summary.done} requests × ${summary.points / Math.max(1, summary.done)} points (real A75 LU PT15M document) over local HTTP, no rate limit; see "points stored per second (embedded)" for the whole pipeline`,
      ),
    );
  } finally {
    await fake.close();
  }
}

/**
 * Points stored per second end to end in embedded mode: `gridstream backfill`'s runtime (embedded log, process and
 * store roles in-process, PGlite) fed by the fake service. Each request is answered with the real LU A75 document
 * moved to the requested zone and period (values unchanged), so every request stores new slots. Baseline: the
 * points fetched per second by the same backfill without storing (publisher discarding).
 */
async function storedPerSecond(emit: Parameters<Benchmark['run']>[0]): Promise<void> {
  const body = entsoeFixtureText('A75_LU_PT15M_A01_2024-05-21.xml');
  const shiftMs = (from: string) =>
    Date.parse(
      `${from.slice(0, 4)}-${from.slice(4, 6)}-${from.slice(6, 8)}T${from.slice(8, 10)}:${from.slice(10, 12)}Z`,
    ) - Date.parse('2024-05-21T10:00Z');
  const moved = (p: Readonly<Record<string, string>>): string | undefined => {
    if (p['documentType'] !== 'A75' || p['periodStart'] === undefined) return undefined;
    const shift = shiftMs(p['periodStart']);
    return body
      .replaceAll('10YLU-CEGEDEL-NQ', p['in_Domain'] ?? '10YLU-CEGEDEL-NQ')
      .replace(
        /<(start|end)>([^<]+)<\/\1>/g,
        (_, tag: string, t: string) =>
          `<${tag}>${new Date(Date.parse(t) + shift).toISOString().slice(0, 16)}Z</${tag}>`,
      );
  };
  const fake = await FakeEntsoe.start({ respond: moved });
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-ingest-'));
  try {
    const plan = planBackfill({
      from: Date.parse('2023-01-01T00:00Z'),
      to: Date.parse('2024-01-01T00:00Z'),
      scope: { zones: ['FR', 'ES', 'PT', 'BE', 'NL', 'AT', 'CH', 'CZ'], borders: [], documents: ['A75'] },
      reference: loadReference(),
      split: (r) => planRequest(r),
    });
    const config = loadConfig({ GRIDSTREAM_DATA_DIR: dir, GRIDSTREAM_LOG_LEVEL: 'silent' });
    const logger = silentLogger();
    const runtime = await openBackfillRuntime({ config, logger, signal: new AbortController().signal });
    let stored: number | undefined;
    let seconds: number;
    try {
      const pipeline = new EntsoeIngestor({
        client: new EntsoeClient({
          baseUrl: fake.url,
          token: new Secret(TEST_TOKEN),
          logger,
          rateLimits: new MemoryRateLimitStore(),
          limit: { requestsPerMinute: 400_000 },
        }),
        publisher: runtime.publisher,
        deadLetters: runtime.deadLetters,
        logger,
      });
      const started = performance.now();
      await runBackfill({
        plan,
        ingestor: pipeline,
        progress: new MemoryBackfillProgressStore(),
        logger,
        concurrency: 4,
      });
      stored = (await runtime.waitUntilDrained({ signal: new AbortController().signal }))?.pointsStored;
      seconds = (performance.now() - started) / 1000;
    } finally {
      await runtime.close();
    }
    const fetchStarted = performance.now();
    const fetched = await runBackfill({
      plan,
      ingestor: ingestor(fake, 400_000),
      progress: new MemoryBackfillProgressStore(),
      logger,
      concurrency: 4,
    });
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    emit(
      figure(
        BENCH,
        'points stored per second (embedded)',
        (stored ?? 0) / seconds,
        'points/s',
        { name: 'the same backfill fetching and parsing only (nothing stored)', value: fetched.points / fetchSeconds },
        `${plan.chunks.length} requests, ${stored ?? 0} points stored through embedded log → process → store (PGlite), until drained`,
      ),
    );
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const ingestBenchmark: Benchmark = {
  name: BENCH,
  description:
    'ENTSO-E backfill against the fake service: budget use at 120 requests/min over one minute, and points fetched per second',
  async run(emit) {
    await storedPerSecond(emit);
    await pointsPerSecond(emit);
    await efficiency(emit);
  },
};
