import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES, applySignals } from '../../src/alerts/index.ts';
import type { ConnectorLive } from '../../src/api/index.ts';
import { buildDeadLetter, produceDeadLetters } from '../../src/log/index.ts';
import { ensurePartitions, writeObservations } from '../../src/storage/index.ts';
import * as webAlerts from '../../web/src/alert-types.ts';
import * as web from '../../web/src/api-types.ts';
import * as webMeters from '../../web/src/meter-types.ts';
import type { TestApi } from '../helpers/api.ts';
import { liveLoadChunk, sseReader, startTestApi } from '../helpers/api.ts';

type Schema = Record<string, unknown>;

/**
 * Follows `path` (`zones[].code`) through a JSON Schema: object properties, array items, record values, and the
 * branches of anyOf/oneOf (nullable values). True when the document declares that field.
 */
function declares(schema: Schema | undefined, path: readonly string[]): boolean {
  if (schema === undefined) return false;
  if (path.length === 0) return true;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.some((b) => declares(b as Schema, path))) return true;
  }
  const [head, ...rest] = path;
  if (head === '[]') return declares(schema['items'] as Schema | undefined, rest);
  const props = schema['properties'] as Record<string, Schema> | undefined;
  if (props !== undefined && head !== undefined && head in props) return declares(props[head], rest);
  const extra = schema['additionalProperties'];
  if (typeof extra === 'object' && extra !== null) return declares(extra as Schema, rest);
  return extra === true || (props === undefined && schema['type'] === 'object' && extra === undefined);
}

/** Decodes `value` with a web decoder while recording every field path it reads. */
function readsOf(decode: (value: unknown, at: string) => unknown, value: unknown): string[][] {
  const reads: string[][] = [];
  const wrap = (v: unknown, path: string[]): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    return new Proxy(v, {
      get(target, key, receiver) {
        const got: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return got;
        if (Array.isArray(target)) {
          if (!/^\d+$/.test(key)) return typeof got === 'function' ? (got as () => unknown).bind(receiver) : got;
          return wrap(got, [...path, '[]']);
        }
        reads.push([...path, key]);
        return wrap(got, [...path, key]);
      },
    });
  };
  decode(wrap(value, []), '$');
  return reads;
}

describe('OpenAPI: one source for the HTTP contract', () => {
  let api: TestApi;
  let doc: {
    paths: Record<
      string,
      Record<
        string,
        { operationId: string; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }
      >
    >;
  };
  const schemaOf = (operationId: string): Schema => {
    for (const ops of Object.values(doc.paths))
      for (const op of Object.values(ops))
        if (op.operationId === operationId) {
          const ok = op.responses['200'] ?? op.responses['201'];
          return ok?.content?.['application/json']?.schema ?? {};
        }
    throw new Error(`no operation ${operationId}`);
  };

  before(async () => {
    // What a process running the offline replay reports, so that the decoders of `live` are checked too.
    const connectorStatus = (): ConnectorLive => ({
      mode: 'offline-replay',
      leader: null,
      replay: {
        state: 'running',
        documents: 12,
        published: 5,
        skipped: 2,
        pending: 5,
        cycles: 0,
        last_file: 'A75_FI_PT15M_2023-05-08.xml',
        last_published_at: '2026-12-04T10:00:00.000Z',
        idle: false,
        interval_ms: 5000,
      },
    });
    api = await startTestApi({ connectorStatus });
    doc = (await api.json('/api/openapi.json', { key: null })).body as typeof doc;
  });
  after(async () => {
    await api.close();
  });

  it('every operation answers what the document says (validated with Ajv), for every operation', async () => {
    await produceDeadLetters(api.log, [
      buildDeadLetter({
        stage: 'processing',
        reason: 'processing.unmapped_area',
        message: 'unknown area',
        source: { topic: 'raw.entsoe', partition: 0, offset: 7, key: 'k' },
        payload: '{}',
      }),
    ]);
    const ok = async (path: string, init?: Parameters<TestApi['request']>[1]) => {
      const r = await api.request(path, init);
      if (r.status >= 300) assert.fail(`${init?.method ?? 'GET'} ${path} → ${r.status}: ${await r.text()}`);
      return r;
    };
    await ok('/api/v1/zones');
    await ok(
      '/api/v1/series?zone=FI&metric=generation_actual&production_type=nuclear,B19&from=2023-05-08&to=2023-05-09&resolution=PT1H',
    );
    await ok('/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-09');
    await ok('/api/v1/mix?zone=FI&at=2023-05-08T10:07:00Z');
    await ok('/api/v1/completeness?zone=FI&from=2023-05-08&to=2023-05-10');
    await ok(
      '/api/v1/carbon-aware/best-window?zones=FI&duration=PT2H&earliest=2023-05-08T07:00:00Z&latest=2023-05-09T07:00:00Z',
    );
    await ok('/api/v1/clock');
    await ok('/api/v1/carbon-intensity/forecast?zone=FI&from=2023-05-09T21:00:00Z');
    await ok('/api/v1/carbon-intensity/forecast/accuracy?zone=FI&from=2023-05-08&to=2023-05-11');
    await ok('/api/v1/status');
    await ok('/api/v1/me');
    await ok('/api/v1/admin/dlq');
    const entries = (await (await ok('/api/v1/admin/dlq/dlq-processing')).json()) as {
      entries: { partition: number; offset: number }[];
    };
    const first = entries.entries[0];
    assert.ok(first !== undefined);
    await ok(`/api/v1/admin/dlq/dlq-processing/${first.partition}/${first.offset}`);
    await ok('/api/v1/admin/dlq/dlq-processing/replay', { method: 'POST', body: { reason: 'unmapped_area' } });
    await ok('/api/v1/admin/jobs');
    await ok('/api/v1/admin/connectors');
    await ok('/api/v1/admin/lag');
    await ok('/api/v1/admin/keys');
    const created = (await (
      await ok('/api/v1/admin/keys', { method: 'POST', body: { name: 'x', role: 'reader' } })
    ).json()) as {
      record: { id: string };
    };
    await ok(`/api/v1/admin/keys/${created.record.id}`, { method: 'DELETE' });
    await ok('/api/v1/admin/webhooks/allowlist', { method: 'PUT', body: { origins: ['https://hooks.example.com'] } });
    await ok('/api/v1/admin/webhooks/allowlist');
    const hook = (await (
      await ok('/api/v1/admin/webhooks', { method: 'POST', body: { name: 'h', url: 'https://hooks.example.com/a' } })
    ).json()) as { rule: { id: string } };
    await ok('/api/v1/admin/webhooks');
    await ok('/api/v1/admin/webhooks/deliveries?state=dead');
    await ok(`/api/v1/admin/webhooks/${hook.rule.id}`, { method: 'DELETE' });
    const meter = {
      meter_id: 'oa-1',
      zone: 'FI',
      group: 'g',
      register_type: 'import',
      annual_consumption_kwh: '2000',
      profile: 'H0',
    };
    await ok('/api/v1/admin/meters', { method: 'POST', body: meter });
    await ok('/api/v1/admin/meters/oa-1', { method: 'PATCH', body: { profile: 'G0' } });
    await ok('/api/v1/admin/meters/oa-1/exchange', { method: 'POST', body: { at: '2026-06-01T00:00:00Z' } });
    await ok('/api/v1/admin/meters?zone=FI');
    await ok('/api/v1/meters?zone=FI');
    await ok('/api/v1/meters/oa-1');
    await ok('/api/v1/meters/oa-1/readings?from=2026-06-01T00:00:00Z&to=2026-06-01T01:00:00Z&resolution=PT1H');
    await ok('/api/v1/groups/g/load?from=2026-06-01&to=2026-06-02&resolution=P1D');
    await ok('/api/v1/admin/audit/meter-reads?meter=oa-1');
    await ok('/api/v1/meters/oa-1/validated?from=2026-06-01T00:00:00Z&to=2026-06-01T01:00:00Z');
    await ok('/api/v1/meters/oa-1/edits', {
      method: 'POST',
      body: { quantity: 'energy_import', ts: '2026-06-01T00:00:00Z', value: '0.1', reason: 'checked on site' },
    });
    await ok('/api/v1/meters/oa-1/edits?from=2026-06-01&to=2026-06-02');
    await ok('/api/v1/meters/oa-1/quality?from=2026-06-01&to=2026-06-02');
    await ok('/api/v1/groups/g/quality?from=2026-06-01&to=2026-06-02');
    await ok('/api/v1/meters/oa-1/settlement?from=2026-06-01&to=2026-06-02');
    await ok('/api/v1/groups/g/settlement?from=2026-06-01&to=2026-06-02&format=csv');
    await ensurePartitions(
      api.db,
      'device_readings',
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-06-01T00:00:00Z'),
    );
    await api.db.query(
      `INSERT INTO device_readings (device_id, kind, quantity, ts, value, log_topic, log_partition, log_offset)
       VALUES ('pmu-1', 'pmu', 'frequency', '2026-06-01T00:00:00.020Z', 49.98, 'raw.meters', 0, 1)`,
    );
    await ok('/api/v1/devices/pmu-1/readings?quantity=frequency&from=2026-06-01&to=2026-06-02');
    const alert = await api.db.query<{ id: string }>(
      `INSERT INTO alerts (key, detector, subject, reason, severity, state, zone, message, evidence, first_seen, last_seen)
       VALUES ('price_negative|FI', 'price_negative', 'FI', 'alerts.price_negative', 'info', 'open', 'FI', 'negative',
         '{"window": {"from": "2026-06-01T00:00:00.000Z", "to": "2026-06-01T00:15:00.000Z"}, "values": {"price": -1}}',
         '2026-06-01T00:00:00Z', '2026-06-01T00:15:00Z') RETURNING id::text`,
    );
    const alertId = alert.rows[0]?.id ?? '';
    await ok('/api/v1/alerts?state=open&zone=FI');
    await ok('/api/v1/alerts/publication');
    await ok('/api/v1/alerts/counts');
    await ok(`/api/v1/alerts/${alertId}`);
    await ok(`/api/v1/alerts/${alertId}/acknowledge`, { method: 'POST' });
    await ok(`/api/v1/alerts/${alertId}/resolve`, { method: 'POST' });
    await ok('/healthz', { key: null });
    await ok('/readyz', { key: null });
    await ok('/metrics', { key: null });
    await ok('/api/docs', { key: null });
    // Errors are documented problems too (checked by the same validator).
    assert.equal((await api.request('/api/v1/series?zone=FI')).status, 400);
    assert.equal((await api.request('/api/v1/zones', { key: null })).status, 401);
    assert.equal((await api.request('/api/v1/mix?zone=XX')).status, 404);

    const streamed = api.server.app.request('/api/v1/stream?zones=FI', {
      headers: { authorization: 'Bearer test-admin-key-Ns5Kq9Vx3Lz7Pw2Rm8Ty4Hj' },
    });
    const sse = await streamed;
    assert.equal(sse.status, 200);
    await sse.body?.cancel();
    api.openapi.seen.set('stream', new Set([200]));

    const unexercised = api.openapi.operations.filter(
      (id) => ![...(api.openapi.seen.get(id) ?? [])].some((s) => s < 300),
    );
    assert.deepEqual(unexercised, [], 'every documented operation was called with success');
  });

  it('documents dates with examples, parameters with descriptions, and refuses what it does not document', async () => {
    const series = doc.paths['/api/v1/series']?.['get'] as unknown as {
      description: string;
      parameters: { name: string; description?: string; examples?: Record<string, { value: unknown }> }[];
    };
    assert.match(series.description, /bare date .* 00:00 in the time zone of the zone/);
    const from = series.parameters.find((p) => p.name === 'from');
    assert.ok(Object.values(from?.examples ?? {}).some((e) => e.value === '2025-10-21'));
    assert.ok(
      series.parameters.every((p) => (p.description ?? '').length > 0),
      'every parameter described',
    );
    assert.ok(series.parameters.some((p) => p.name === 'tz'));
    const undocumented = await api.request(
      '/api/v1/series?zone=FI&metric=generation_actual&from=2023-05-08&to=2023-05-09&colour=red',
    );
    assert.equal(undocumented.status, 400);
  });

  it("the dashboard's decoders read only fields the document declares, from real answers", async () => {
    // An alert opened by the alert store, so that the alert decoders read a real one (and its stream events).
    const subject = 'price|FI|decoders';
    await applySignals(api.db, DEFAULT_ALERT_RULES, [
      {
        ...{ detector: 'price_negative', subject, active: true, from: 0, to: 3_600_000, severity: 'info' },
        ...{
          zone: 'FI',
          group: null,
          meter: null,
          message: 'negative',
          values: { price: -5, unit: 'EUR/MWh', x: null },
        },
      },
    ]);
    const opened = await api.db.query<{ id: string }>(`SELECT id::text FROM alerts WHERE subject = $1`, [subject]);
    const openedId = opened.rows[0]?.id ?? '';
    const cases: [string, string, (value: unknown, at: string) => unknown][] = [
      ['zones', '/api/v1/zones', web.decodeZones],
      ['series', '/api/v1/series?zone=FI&metric=generation_actual&from=2023-05-08&to=2023-05-09', web.decodeSeriesList],
      ['carbonIntensity', '/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-09', web.decodeCarbon],
      ['mix', '/api/v1/mix?zone=FI', web.decodeMix],
      ['completeness', '/api/v1/completeness?zone=FI&from=2023-05-08&to=2023-05-10', web.decodeCompleteness],
      ['connectors', '/api/v1/admin/connectors', web.decodeConnectors],
      ['lag', '/api/v1/admin/lag', web.decodeLag],
      ['dlqSummary', '/api/v1/admin/dlq', web.decodeDlqSummary],
      ['dlqEntries', '/api/v1/admin/dlq/dlq-processing', web.decodeDlqEntries],
      ['keys', '/api/v1/admin/keys', web.decodeApiKeys],
      ['jobs', '/api/v1/admin/jobs', web.decodeRows('runs')],
      [
        'meterReadings',
        '/api/v1/meters/dec-1/readings?from=2026-06-01T00:00:00Z&to=2026-06-01T01:00:00Z',
        webMeters.decodeMeterReadings,
      ],
      ['groupLoad', '/api/v1/groups/dec/load?from=2026-06-01&to=2026-06-02&resolution=P1D', webMeters.decodeGroupLoad],
      ['meters', '/api/v1/meters?group=dec', webMeters.decodeMeterList],
      ['meter', '/api/v1/meters/dec-1', webMeters.decodeMeter],
      ['alerts', '/api/v1/alerts', webAlerts.decodeAlertList],
      ['alertCounts', '/api/v1/alerts/counts', webAlerts.decodeAlertCounts],
      ['alert', `/api/v1/alerts/${openedId}`, webAlerts.decodeAlertDetail],
      ['publicationModel', '/api/v1/alerts/publication', webAlerts.decodePublication],
    ];
    const meter = { meter_id: 'dec-1', zone: 'FI', group: 'dec', register_type: 'import' };
    const registered = await api.json('/api/v1/admin/meters', {
      method: 'POST',
      body: { ...meter, annual_consumption_kwh: '1000', profile: 'H0' },
    });
    assert.equal(registered.status, 201);
    for (const [operationId, path, decode] of cases) {
      const { status, body } = await api.json(path);
      assert.equal(status, 200, path);
      const undeclared = readsOf(decode, body).filter((p) => !declares(schemaOf(operationId), p));
      assert.deepEqual(
        undeclared.map((p) => p.join('.')),
        [],
        `${operationId}: fields the decoder reads but the document does not declare`,
      );
    }
    const created = await api.json('/api/v1/admin/keys', { method: 'POST', body: { name: 'y', role: 'reader' } });
    assert.deepEqual(
      readsOf(web.decodeCreatedKey, created.body).filter((p) => !declares(schemaOf('createKey'), p)),
      [],
    );
    const replayed = await api.json('/api/v1/admin/dlq/dlq-processing/replay', { method: 'POST', body: { all: true } });
    assert.deepEqual(
      readsOf(web.decodeReplay, replayed.body).filter((p) => !declares(schemaOf('dlqReplay'), p)),
      [],
    );
    const acked = await api.json(`/api/v1/alerts/${openedId}/acknowledge`, { method: 'POST' });
    assert.equal(acked.status, 200);
    assert.deepEqual(
      readsOf(webAlerts.decodeAlertChange, acked.body).filter((p) => !declares(schemaOf('acknowledgeAlert'), p)),
      [],
    );
    // The stream's `alert` events are the stored transitions' payloads.
    const events = await api.db.query<{ payload: unknown }>(
      `SELECT payload FROM alert_events WHERE alert_id = $1 ORDER BY id`,
      [openedId],
    );
    const streamEvents = (
      doc.paths['/api/v1/stream']?.['get'] as unknown as { 'x-gridstream-events': Record<string, Schema> }
    )['x-gridstream-events'];
    assert.equal(events.rows.length, 2, 'opened and acknowledged');
    for (const { payload } of events.rows)
      assert.deepEqual(
        readsOf(webAlerts.decodeAlertEvent, payload).filter((p) => !declares(streamEvents['alert'], p)),
        [],
      );
  });

  it('the live feed event the dashboard decodes is the one the stream route documents', async () => {
    const response = await api.server.app.request('/api/v1/stream?zones=DK_2', {
      headers: { authorization: 'Bearer test-admin-key-Ns5Kq9Vx3Lz7Pw2Rm8Ty4Hj' },
    });
    const sse = sseReader(response.body!);
    await sse.until(/event: hello/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writeObservations(api.db, [liveLoadChunk('2031-01-01T00:00:00Z', 42)]);
    await sse.until(/event: slot\ndata: .*2031-01-01/);
    await sse.cancel();
    const data = /event: slot\ndata: (.*2031-01-01.*)\n/.exec(sse.text())?.[1] ?? '{}';
    const event: unknown = JSON.parse(data);
    const stream = doc.paths['/api/v1/stream']?.['get'] as unknown as { 'x-gridstream-events': Record<string, Schema> };
    const schema = stream['x-gridstream-events']['slot'];
    assert.deepEqual(
      readsOf(web.decodeSlotEvent, event).filter((p) => !declares(schema, p)),
      [],
    );
  });
});
