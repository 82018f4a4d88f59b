import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../../src/config/index.ts';
import type { ElectricityMapsClientOptions } from '../../../src/connectors/electricitymaps/index.ts';
import {
  ElectricityMapsClient,
  ElectricityMapsIngestor,
  ElectricityMapsTokens,
  parseElectricityMaps,
} from '../../../src/connectors/electricitymaps/index.ts';
import { MemoryRateLimitStore } from '../../../src/connectors/http/index.ts';
import { MemoryPublisher, RawElectricityMapsSchema } from '../../../src/contracts/index.ts';
import type { DeadLetter, RawElectricityMaps } from '../../../src/contracts/index.ts';
import { captureLogger } from '../../helpers/fake-entsoe.ts';
import { DATA } from '../../helpers/fixtures.ts';

const DE_TOKEN = 'emaps-token-germany-0001';
const FR_TOKEN = 'emaps-token-france-0002';
const body = (file: string): string => readFileSync(join(DATA, 'electricitymaps', file), 'utf8');
const FILES: Record<string, string> = {
  'power-breakdown/history': body('v3_power-breakdown_history_DE_2024-03-05.json'),
  'power-breakdown/latest': body('v3_power-breakdown_latest_DE_2024-03-06.json'),
  'carbon-intensity/history': body('v3_carbon-intensity_history_DE_2024-03-05.json'),
};

interface Seen {
  at: number;
  path: string;
  zone: string | null;
  token: string | null;
  fallback: string | null;
}
type Fault = { status: number; body?: string; retryAfter?: string };

/** A small fake of the Electricity Maps API: real responses by endpoint, tokens checked per zone, faults queued. */
async function fakeElectricityMaps() {
  const seen: Seen[] = [];
  const faults: Fault[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const token = req.headers['auth-token'];
    const record: Seen = {
      at: Date.now(),
      path: url.pathname,
      zone: url.searchParams.get('zone'),
      token: typeof token === 'string' ? token : null,
      fallback: url.searchParams.get('shouldUseFallbackCallerLookup'),
    };
    seen.push(record);
    const fault = faults.shift();
    if (fault !== undefined) {
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }),
      });
      res.end(fault.body ?? '{"error":"Invalid auth-token"}');
      return;
    }
    const expected = record.zone === 'FR' ? FR_TOKEN : DE_TOKEN;
    if (record.token !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"Invalid auth-token"}');
      return;
    }
    const text = FILES[url.pathname.replace('/v3/', '')];
    res.writeHead(text === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end((text ?? '{"error":"not found"}').replaceAll('"DE"', JSON.stringify(record.zone)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    faults,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    },
  };
}

describe('Electricity Maps client', () => {
  let fake: Awaited<ReturnType<typeof fakeElectricityMaps>>;
  const capture = captureLogger();
  const tokens = ElectricityMapsTokens.parse({ FR: FR_TOKEN, '*': DE_TOKEN });
  const options = (extra: Partial<ElectricityMapsClientOptions> = {}): ElectricityMapsClientOptions => ({
    baseUrl: fake.url,
    tokens,
    logger: capture.logger,
    rateLimits: new MemoryRateLimitStore(),
    limit: { requestsPerMinute: 6000 },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    unauthorizedPauseMs: 50,
    ...extra,
  });
  const ingestor = (
    dlq = new MemoryPublisher<DeadLetter>(),
    published = new MemoryPublisher<RawElectricityMaps>(),
    extra = {},
  ) =>
    new ElectricityMapsIngestor({
      client: new ElectricityMapsClient(options(extra)),
      publisher: published,
      deadLetters: dlq,
      logger: capture.logger,
    });

  before(async () => {
    fake = await fakeElectricityMaps();
  });
  after(async () => {
    await fake.close();
    for (const line of capture.lines) {
      assert.ok(!line.includes(DE_TOKEN) && !line.includes(FR_TOKEN), `a token in a log line: ${line}`);
    }
  });

  it('polls the v3 endpoints per zone with the zone token in auth-token and no caller-location fallback', async () => {
    const published = new MemoryPublisher<RawElectricityMaps>();
    const report = await ingestor(undefined, published).poll(
      ['DE', 'FR'],
      ['power-breakdown/history', 'carbon-intensity/history'],
    );
    assert.deepEqual([report.requests, report.responses, report.deadLetters.length], [4, 4, 0]);
    const last4 = fake.seen.slice(-4);
    assert.deepEqual(
      last4.map((s) => `${s.path} ${s.zone}`),
      [
        '/v3/power-breakdown/history DE',
        '/v3/carbon-intensity/history DE',
        '/v3/power-breakdown/history FR',
        '/v3/carbon-intensity/history FR',
      ],
    );
    assert.ok(last4.every((s) => s.fallback === 'false'));
    assert.deepEqual(
      last4.map((s) => s.token),
      [DE_TOKEN, DE_TOKEN, FR_TOKEN, FR_TOKEN],
    );
    for (const raw of published.values) {
      const parsed = RawElectricityMapsSchema.parse(raw);
      assert.equal(parsed.origin, 'api');
      assert.equal(
        parseElectricityMaps(parsed.body).kind,
        parsed.endpoint.startsWith('power') ? 'power_breakdown' : 'carbon_intensity',
      );
    }
    assert.equal(published.values[2]!.zone, 'FR');
  });

  it('an auth-token the API echoes in its answer is scrubbed before the answer is published', async (t) => {
    const echoing = FILES['power-breakdown/history']!.replace('{', `{"request":{"auth-token":"${DE_TOKEN}"},`);
    fake.faults.push({ status: 200, body: echoing });
    const published = new MemoryPublisher<RawElectricityMaps>();
    const report = await ingestor(undefined, published).poll(['DE'], ['power-breakdown/history']);
    assert.equal(report.responses, 1);
    const stored = JSON.stringify(published.values);
    t.diagnostic(`occurrences of the token in raw.electricitymaps: ${stored.split(DE_TOKEN).length - 1}`);
    assert.match(stored, /"auth-token":"\[redacted\]"/);
    assert.equal(stored.split(DE_TOKEN).length - 1, 0);
  });

  it('retries a 401 once after a pause (throttling can look like a bad token), then gives up', async () => {
    fake.faults.push({ status: 401 });
    const ok = await ingestor().ingest({ source: 'electricitymaps', endpoint: 'power-breakdown/latest', zone: 'DE' });
    assert.equal(ok.responses, 1);
    fake.faults.push({ status: 401 }, { status: 401 }, { status: 401 });
    const dlq = new MemoryPublisher<DeadLetter>();
    const before = fake.seen.length;
    const failed = await ingestor(dlq).ingest({
      source: 'electricitymaps',
      endpoint: 'power-breakdown/latest',
      zone: 'DE',
    });
    assert.equal(fake.seen.length - before, 2);
    assert.equal(failed.deadLetters[0]!.reason, 'electricitymaps.unauthorized');
    assert.equal(failed.deadLetters[0]!.httpStatus, 401);
    fake.faults.length = 0;
  });

  it('pauses the token on 429 for Retry-After, and retries 5xx', async () => {
    fake.faults.push({ status: 429, retryAfter: '1', body: '{"message":"Too many requests"}' }, { status: 503 });
    const before = fake.seen.length;
    const report = await ingestor().ingest({
      source: 'electricitymaps',
      endpoint: 'carbon-intensity/history',
      zone: 'DE',
    });
    assert.equal(report.responses, 1);
    const [throttled, unavailable, ok] = fake.seen.slice(before);
    assert.ok(unavailable!.at - throttled!.at >= 1000, 'nothing sent during the pause');
    assert.ok(ok !== undefined);
  });

  it('dead-letters without tokens and replays once the fault is gone; a zone without token is refused locally', async () => {
    fake.faults.push({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const dlq = new MemoryPublisher<DeadLetter>();
    const published = new MemoryPublisher<RawElectricityMaps>();
    const ing = ingestor(dlq, published);
    await ing.ingest({ source: 'electricitymaps', endpoint: 'power-breakdown/history', zone: 'FR' });
    const letter = dlq.values[0]!;
    assert.equal(letter.reason, 'electricitymaps.http_error');
    assert.equal(letter.attempts, 4);
    assert.deepEqual(letter.request, { source: 'electricitymaps', endpoint: 'power-breakdown/history', zone: 'FR' });
    assert.ok(ElectricityMapsIngestor.handles(letter));
    const text = JSON.stringify(dlq.values);
    assert.ok(!text.includes(FR_TOKEN) && !text.includes(DE_TOKEN));
    const replayed = await ing.replay(letter);
    assert.equal(replayed.responses, 1);
    assert.equal(published.values.at(-1)!.origin, 'dlq-replay');

    const only = new ElectricityMapsIngestor({
      client: new ElectricityMapsClient(options({ tokens: ElectricityMapsTokens.parse({ FR: FR_TOKEN }) })),
      publisher: published,
      deadLetters: dlq,
      logger: capture.logger,
    });
    const before = fake.seen.length;
    const none = await only.ingest({ source: 'electricitymaps', endpoint: 'power-breakdown/history', zone: 'ES' });
    assert.equal(none.deadLetters[0]!.reason, 'electricitymaps.no_token');
    assert.equal(fake.seen.length, before);
  });

  it('reads a tokens file (zone → token, "*" for the rest) without ever quoting a token in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-emaps-'));
    try {
      const path = join(dir, 'tokens.json');
      await writeFile(path, JSON.stringify({ DE: DE_TOKEN, 'IT-NO': FR_TOKEN }));
      const fromFile = await ElectricityMapsTokens.fromFile(path, new Secret('fallback-token-0003'));
      assert.equal(fromFile.tokenFor('DE')?.reveal(), DE_TOKEN);
      assert.equal(fromFile.tokenFor('IT-NO')?.reveal(), FR_TOKEN);
      assert.equal(fromFile.tokenFor('ES')?.reveal(), 'fallback-token-0003');
      await writeFile(path, `{"DE": "${DE_TOKEN}",`);
      await assert.rejects(
        ElectricityMapsTokens.fromFile(path),
        (e: Error) => !e.message.includes(DE_TOKEN) && /tokens file/.test(e.message),
      );
      assert.throws(
        () => ElectricityMapsTokens.parse({ de: DE_TOKEN }),
        (e: Error) => !e.message.includes(DE_TOKEN),
      );
      assert.equal(ElectricityMapsTokens.single(null).tokenFor('DE'), null);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
