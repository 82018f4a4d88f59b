import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawEntsoeTopic } from '../../src/contracts/index.ts';
import { buildDeadLetter, produceDeadLetters } from '../../src/log/index.ts';
import { writeObservations } from '../../src/storage/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { ADMIN, chunksOf, liveLoadChunk, sseReader, startTestApi } from '../helpers/api.ts';

describe('HTTP API', () => {
  let api: TestApi;
  let readerFi: string;
  let operator: string;
  let limited: string;
  /** In-process (`app.request`): no socket, and every answer is checked against the OpenAPI document. */
  const get = (path: string, key: string | null = ADMIN, headers: Record<string, string> = {}) =>
    api.request(path, { key, headers });
  const json = async (r: Response) => (await r.json()) as Record<string, unknown>;

  before(async () => {
    api = await startTestApi();
    ({ readerFi, operator, limited } = api);
  });
  after(async () => {
    await api.close();
  });

  describe('keys and roles', () => {
    it('no key → 401 problem+json with WWW-Authenticate; a wrong key → 401', async () => {
      const r = await get('/api/v1/zones', null);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      const body = await json(r);
      assert.equal(body['status'], 401);
      assert.equal(
        (await get('/api/v1/zones', 'gs_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).status,
        401,
      );
      assert.equal((await get('/api/v1/zones', 'not-a-key-at-all-but-long')).status, 401);
    });
    it('X-API-Key works like a bearer token', async () => {
      assert.equal((await get('/api/v1/zones', null, { 'x-api-key': ADMIN })).status, 200);
    });
    it('a reader cannot use admin endpoints (403); an operator can browse but not manage keys', async () => {
      assert.equal((await get('/api/v1/admin/dlq', readerFi)).status, 403);
      assert.equal((await get('/api/v1/admin/dlq', operator)).status, 200);
      assert.equal((await get('/api/v1/admin/keys', operator)).status, 403);
      assert.equal((await get('/api/v1/admin/keys', ADMIN)).status, 200);
    });
    it('keys are created, listed without secrets and revoked', async () => {
      const created = await api.request('/api/v1/admin/keys', {
        method: 'POST',
        body: { name: 'temp', role: 'reader', zones: ['NL'] },
      });
      assert.equal(created.status, 201);
      const { key, record } = (await created.json()) as { key: string; record: { id: string } };
      assert.equal((await get('/api/v1/zones', key)).status, 200);
      const listed = JSON.stringify(await json(await get('/api/v1/admin/keys')));
      assert.ok(listed.includes(record.id) && !listed.includes(key.slice(-20)), 'listed, never with its secret');
      const revoked = await api.request(`/api/v1/admin/keys/${record.id}`, { method: 'DELETE' });
      assert.equal(revoked.status, 204);
      assert.equal((await get('/api/v1/zones', key)).status, 401);
    });
    it('rate limits per key: 429 with Retry-After once the budget is spent', async () => {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const r = await get('/api/v1/zones', limited);
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
        await r.body?.cancel();
      }
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
      assert.equal(statuses[3], 429);
      assert.ok(Number(retryAfter) >= 1);
    });
  });

  describe('zone allow-lists', () => {
    it('forbidden zones are 403 on direct requests and filtered out of lists', async () => {
      const zones = (await json(await get('/api/v1/zones', readerFi)))['zones'] as { code: string }[];
      assert.deepEqual(
        zones.map((z) => z.code),
        ['FI'],
      );
      const all = (await json(await get('/api/v1/zones')))['zones'] as { code: string }[];
      assert.deepEqual(all.map((z) => z.code).sort(), ['DK_2', 'FI', 'NL']);
      const denied = await get('/api/v1/series?zone=NL&metric=price_day_ahead&from=2016-03-26&to=2016-03-28', readerFi);
      assert.equal(denied.status, 403);
      assert.equal((await json(denied))['param'], 'zone');
      assert.equal((await get('/api/v1/mix?zone=FI', readerFi)).status, 200);
    });
  });

  describe('data endpoints', () => {
    it('series: points with unit and flags, several production types, hourly and daily buckets', async () => {
      const r = await json(
        await get(
          '/api/v1/series?zone=FI&metric=generation_actual&production_type=B14,B19&from=2023-05-08&to=2023-05-11&resolution=PT1H',
        ),
      );
      const series = r['series'] as {
        production_type: string;
        unit: string;
        aggregation: string;
        points: { ts: string; value: number; flags?: string[] }[];
      }[];
      assert.deepEqual(series.map((s) => s.production_type).sort(), ['B14', 'B19']);
      assert.ok(series.every((s) => s.unit === 'MW' && s.aggregation === 'avg' && s.points.length === 48));
      assert.deepEqual(series[0]?.points[0]?.flags, ['split']);
      const daily = await json(
        await get(
          '/api/v1/series?zone=FI&metric=generation_actual&production_type=B14&from=2023-05-01&to=2023-05-31&resolution=P1D',
        ),
      );
      assert.ok(((daily['series'] as { points: unknown[] }[])[0]?.points.length ?? 0) >= 2);
    });
    it('carbon intensity: production basis available, consumption basis empty without flows', async () => {
      const production = await json(await get('/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-11'));
      assert.equal(production['unit'], 'gCO2eq/kWh');
      assert.equal((production['points'] as unknown[]).length, 192);
      const consumption = await json(
        await get('/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-11&basis=consumption'),
      );
      assert.deepEqual(consumption['points'], []);
    });
    it('mix: latest slot with shares summing to 1; completeness per day', async () => {
      const mix = await json(await get('/api/v1/mix?zone=FI'));
      const entries = mix['entries'] as { share: number; name: string }[];
      // Shares are fractions rounded to 4 decimals: their sum is 1 within the rounding.
      assert.ok(Math.abs(entries.reduce((s, e) => s + e.share, 0) - 1) <= entries.length * 0.00005);
      assert.ok(entries.some((e) => e.name === 'Nuclear'));
      const comp = await json(await get('/api/v1/completeness?zone=FI&from=2023-05-08&to=2023-05-10'));
      assert.ok((comp['days'] as unknown[]).length > 0);
      assert.equal((await get('/api/v1/mix?zone=FR')).status, 404);
    });
    it('bad parameters are 400 naming the parameter', async () => {
      const cases: [string, string][] = [
        ['/api/v1/series?zone=FI&metric=nope&from=2023-05-08&to=2023-05-09', 'metric'],
        ['/api/v1/series?zone=FI&metric=generation_actual&from=yesterday&to=2023-05-09', 'from'],
        ['/api/v1/series?zone=FI&metric=generation_actual&to=2023-05-09', 'from'],
        ['/api/v1/series?zone=FI&metric=generation_actual&from=2023-05-09&to=2023-05-08', 'to'],
        ['/api/v1/series?zone=FI&metric=generation_actual&from=2020-01-01&to=2023-05-08&resolution=PT15M', 'to'],
        ['/api/v1/series?zone=fi&metric=generation_actual&from=2023-05-08&to=2023-05-09', 'zone'],
        ['/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-09&basis=both', 'basis'],
        ['/api/v1/zones?colour=red', 'colour'],
      ];
      for (const [path, param] of cases) {
        const r = await get(path);
        assert.equal(r.status, 400, path);
        const body = await json(r);
        assert.equal(body['param'], param, path);
        assert.match(String(body['detail']), new RegExp(param));
      }
    });
    it('as_of returns the value known before a correction', async () => {
      const before = new Date();
      await new Promise((r) => setTimeout(r, 20));
      const chunk = chunksOf('A75_FI_PT60M_A01_2023-05-08.xml').find((c) => c.productionType === 'B14');
      assert.ok(chunk);
      const original = chunk.points[0]?.v;
      await writeObservations(api.db, [
        {
          ...chunk,
          documentId: 'correction',
          revision: 2,
          points: [{ t: chunk.points[0]?.t ?? '', v: (original ?? 0) + 100 }],
        },
      ]);
      const url = `/api/v1/series?zone=FI&metric=generation_actual&production_type=B14&from=${chunk.points[0]?.t ?? ''}&to=2023-05-08T07:15:00Z`;
      const now = (await json(await get(url)))['series'] as { points: { value: number }[] }[];
      const then = (await json(await get(`${url}&as_of=${before.toISOString()}`)))['series'] as {
        points: { value: number }[];
      }[];
      assert.equal(now[0]?.points[0]?.value, (original ?? 0) + 100);
      assert.equal(then[0]?.points[0]?.value, original);
    });
  });

  describe('live stream', () => {
    it('delivers a newly stored slot as an SSE event, only for allowed zones (over a real socket)', async () => {
      const controller = new AbortController();
      const r = await fetch(`http://127.0.0.1:${api.server.port}/api/v1/stream?zones=DK_2`, {
        headers: { authorization: `Bearer ${ADMIN}` },
        signal: controller.signal,
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
      const sse = sseReader(r.body!);
      await sse.until(/event: hello/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writeObservations(api.db, [liveLoadChunk('2030-01-01T00:00:00Z', 1234)]);
      await sse.until(/"slot":"2030-01-01T00:00:00.000Z"/);
      const events = [...sse.text().matchAll(/event: slot\ndata: (.*)\n/g)].map(
        (m) => JSON.parse(m[1] ?? '{}') as Record<string, unknown>,
      );
      assert.ok(
        events.every((e) => e['zone'] === 'DK_2'),
        'only the zones asked for',
      );
      const event = events.find((e) => e['metric'] === 'load_actual') ?? {};
      assert.equal(event['zone'], 'DK_2');
      assert.equal(event['slot'], '2030-01-01T00:00:00.000Z');
      assert.equal(event['value'], 1234);
      controller.abort();
      assert.equal((await get('/api/v1/stream?zones=NL', readerFi)).status, 403);
    });
  });

  describe('admin', () => {
    it('lists, shows and replays dead letters to their source topic', async () => {
      const letter = buildDeadLetter({
        stage: 'processing',
        reason: 'processing.unmapped_area',
        message: 'unknown area',
        source: { topic: 'raw.entsoe', partition: 0, offset: 7, key: 'k' },
        payload: JSON.stringify({
          id: 'x',
          origin: 'file',
          fetchedAt: '2026-01-01T00:00:00.000Z',
          request: null,
          httpStatus: 200,
          body: '<x/>',
        }),
      });
      await produceDeadLetters(api.log, [letter]);
      const summary = await json(await get('/api/v1/admin/dlq', operator));
      assert.ok(JSON.stringify(summary).includes('unmapped_area'));
      const list = await json(await get('/api/v1/admin/dlq/dlq-processing?reason=unmapped_area', operator));
      const entries = list['entries'] as { offset: number; partition: number; replays: number }[];
      assert.equal(entries.length, 1);
      const one = await get(
        `/api/v1/admin/dlq/dlq-processing/${entries[0]?.partition ?? 0}/${entries[0]?.offset ?? 0}`,
        operator,
      );
      assert.equal(one.status, 200);
      const before = (await api.log.offsets(rawEntsoeTopic.name)).reduce((n, p) => n + p.next, 0);
      const replay = await api.request('/api/v1/admin/dlq/dlq-processing/replay', {
        key: operator,
        method: 'POST',
        body: { reason: 'unmapped_area' },
      });
      assert.deepEqual(await replay.json(), { topic: 'dlq-processing', selected: 1, replayed: 1, failed: [] });
      assert.equal(
        (await api.log.offsets(rawEntsoeTopic.name)).reduce((n, p) => n + p.next, 0),
        before + 1,
      );
      const again = await json(await get('/api/v1/admin/dlq/dlq-processing?reason=unmapped_area', operator));
      assert.equal((again['entries'] as { replays: number }[])[0]?.replays, 1);
    });
    it('status is readable by any key', async () => {
      const status = await json(await get('/api/v1/status', readerFi));
      const { clock, ...rest } = status as { clock: { mode: string; basis: string } };
      assert.deepEqual(rest, { version: 'test', ingestion: 'unknown', role: 'reader', public_read: false });
      assert.deepEqual([clock.mode, clock.basis], ['live', 'wall clock']);
    });
    it('consumer lag, jobs and connectors answer', async () => {
      const lag = await json(await get('/api/v1/admin/lag', operator));
      assert.ok(Array.isArray(lag['groups']));
      assert.equal((await get('/api/v1/admin/jobs', operator)).status, 200);
      assert.equal((await get('/api/v1/admin/connectors', operator)).status, 200);
    });
  });

  describe('system', () => {
    it('healthz, readyz, metrics, openapi and docs without a key', async () => {
      assert.deepEqual(await json(await get('/healthz', null)), { status: 'ok' });
      assert.equal((await json(await get('/readyz', null)))['status'], 'ready');
      const metrics = await (await get('/metrics', null)).text();
      assert.match(
        metrics,
        /gridstream_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/zones",status="200"\} \d+/,
      );
      const doc = await json(await get('/api/openapi.json', null));
      assert.equal(doc['openapi'], '3.1.0');
      assert.match(await (await get('/api/docs', null)).text(), /GET \/api\/v1\/series/);
      const missing = await get('/api/v1/nothing');
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
    });
  });
});
