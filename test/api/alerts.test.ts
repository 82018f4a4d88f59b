import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Signal } from '../../src/alerts/index.ts';
import { alertRulesOf, applySignals } from '../../src/alerts/index.ts';
import { createApiKey } from '../../src/api/index.ts';
import type { Alert } from '../../src/contracts/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

const Q = 900_000;
const T0 = Date.parse('2026-11-09T10:00:00Z');
const rules = alertRulesOf({});

const signal = (over: Partial<Signal> & Pick<Signal, 'detector' | 'subject'>): Signal => ({
  active: true,
  from: T0,
  to: T0 + Q,
  severity: 'warning',
  zone: 'FI',
  group: null,
  meter: null,
  message: 'm',
  values: { x: 1 },
  ...over,
});

/** Alerts through the API: zone and group limits, meter alerts only with a key (and audited), operator actions. */
describe('the alerts API', () => {
  let api: TestApi;
  const keys: Record<string, string> = {};
  before(async () => {
    api = await startTestApi({ publicRead: true });
    for (const [name, spec] of Object.entries({
      reader: { role: 'reader' },
      fi: { role: 'reader', zones: ['FI'] },
      g1: { role: 'reader', groups: ['g1'] },
      operator: { role: 'operator' },
      operatorSe: { role: 'operator', zones: ['SE_4'] },
    } as const))
      keys[name] = (await createApiKey(api.db, { name, ...spec })).key;
    await api.db.transaction((tx) =>
      applySignals(tx, rules, [
        signal({ detector: 'price_negative', subject: 'FI', zone: 'FI', severity: 'info' }),
        signal({ detector: 'price_negative', subject: 'SE_4', zone: 'SE_4', severity: 'info' }),
        signal({ detector: 'meter_outage', subject: 'g1', group: 'g1', zone: 'FI', severity: 'critical' }),
        signal({ detector: 'meter_reverse_flow', subject: 'm-2', group: 'g2', meter: 'm-2', zone: 'FI' }),
        signal({ detector: 'meter_reverse_flow', subject: 'm-1', group: 'g1', meter: 'm-1', zone: 'FI' }),
      ]),
    );
  });
  after(async () => {
    await api.close();
  });

  const list = async (key: string | null, query = ''): Promise<Alert[]> => {
    const r = await api.json(`/api/v1/alerts${query}`, { key });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as { alerts: Alert[] }).alerts;
  };
  const subjects = (alerts: Alert[]): string[] => alerts.map((a) => `${a.detector}:${a.subject}`).sort();

  it('lists what each key may see', async () => {
    assert.equal((await list(keys.reader ?? '')).length, 5);
    assert.deepEqual(subjects(await list(keys.fi ?? '')), [
      'meter_outage:g1',
      'meter_reverse_flow:m-1',
      'meter_reverse_flow:m-2',
      'price_negative:FI',
    ]);
    // A group-limited key: its group's meter alerts and the grid alerts (public market data), not other groups'.
    assert.deepEqual(subjects(await list(keys.g1 ?? '')), [
      'meter_outage:g1',
      'meter_reverse_flow:m-1',
      'price_negative:FI',
      'price_negative:SE_4',
    ]);
    // Anonymous public reading: grid alerts only (meter alerts are personal data), and the limit counts those.
    assert.deepEqual(subjects(await list(null)), ['price_negative:FI', 'price_negative:SE_4']);
    assert.equal(
      (await list(null, '?limit=1')).length,
      1,
      'the newest alerts are meter alerts; a grid one is answered',
    );
    assert.deepEqual(subjects(await list(keys.reader ?? '', '?severity=critical')), ['meter_outage:g1']);
    assert.deepEqual(subjects(await list(keys.reader ?? '', '?detector=price_negative&zone=SE_4')), [
      'price_negative:SE_4',
    ]);
    assert.equal((await api.json('/api/v1/alerts?zone=SE_4', { key: keys.fi ?? '' })).status, 403);
    assert.equal((await api.json('/api/v1/alerts?group=g2', { key: keys.g1 ?? '' })).status, 403);
    assert.equal((await api.json('/api/v1/alerts?state=closed', { key: keys.reader ?? '' })).status, 400);
  });

  it('writes an audit row for every meter alert handed out, and none for counts', async () => {
    const before = await api.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM meter_read_audit`);
    await list(keys.g1 ?? '');
    const after = await api.db.query<{ meter_id: string; detail: string }>(
      `SELECT meter_id, detail FROM meter_read_audit ORDER BY id DESC LIMIT 1`,
    );
    const n = await api.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM meter_read_audit`);
    assert.equal((n.rows[0]?.n ?? 0) - (before.rows[0]?.n ?? 0), 1);
    assert.equal(after.rows[0]?.meter_id, 'm-1');
    assert.match(after.rows[0].detail, /meter_reverse_flow/);
    const counts = await api.json('/api/v1/alerts/counts', { key: keys.g1 ?? '' });
    assert.deepEqual(counts.body, {
      counts: [
        { state: 'open', severity: 'info', count: 2 },
        { state: 'open', severity: 'warning', count: 1 },
        { state: 'open', severity: 'critical', count: 1 },
      ].sort((a, b) => a.severity.localeCompare(b.severity)),
    });
    const m = await api.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM meter_read_audit`);
    assert.equal(m.rows[0]?.n, n.rows[0]?.n, 'counts name no meter');
  });

  it('lets operators acknowledge and resolve within their zones, with the transitions recorded', async () => {
    const fi = (await list(keys.reader ?? '', '?detector=price_negative&zone=FI'))[0];
    assert.ok(fi !== undefined);
    assert.equal(
      (await api.json(`/api/v1/alerts/${fi.id}/acknowledge`, { method: 'POST', key: keys.reader ?? '' })).status,
      403,
    );
    assert.equal(
      (await api.json(`/api/v1/alerts/${fi.id}/acknowledge`, { method: 'POST', key: keys.operatorSe ?? '' })).status,
      404,
    );
    const ack = await api.json(`/api/v1/alerts/${fi.id}/acknowledge`, { method: 'POST', key: keys.operator ?? '' });
    assert.equal(ack.status, 200);
    assert.equal((ack.body as { alert: Alert }).alert.state, 'acknowledged');
    const again = await api.json(`/api/v1/alerts/${fi.id}/acknowledge`, { method: 'POST', key: keys.operator ?? '' });
    assert.equal((again.body as { changed: boolean }).changed, false);
    await api.json(`/api/v1/alerts/${fi.id}/resolve`, { method: 'POST', key: keys.operator ?? '' });
    const detail = await api.json(`/api/v1/alerts/${fi.id}`, { key: keys.reader ?? '' });
    const body = detail.body as { alert: Alert; events: { transition: string }[] };
    assert.equal(body.alert.state, 'resolved');
    assert.match(body.alert.resolved_by ?? '', /^key:/);
    assert.deepEqual(
      body.events.map((e) => e.transition),
      ['opened', 'acknowledged', 'resolved'],
    );
    // The key's run state is forgotten: an anomaly that goes on opens a new alert.
    await api.db.transaction((tx) =>
      applySignals(tx, rules, [signal({ detector: 'price_negative', subject: 'FI', from: T0 + Q, to: T0 + 2 * Q })]),
    );
    const reopened = await list(keys.reader ?? '', '?detector=price_negative&zone=FI&state=open');
    assert.equal(reopened.length, 1);
    assert.notEqual(reopened[0]?.id, fi.id);
    assert.equal((await api.json('/api/v1/alerts/999999', { key: keys.reader ?? '' })).status, 404);
    // A meter alert by id needs a key.
    const meterAlert = (await list(keys.reader ?? '', '?detector=meter_reverse_flow'))[0];
    assert.equal((await api.json(`/api/v1/alerts/${meterAlert?.id ?? ''}`, { key: null })).status, 404);
  });
});
