import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import type { DeadLetter } from '../../src/contracts/index.ts';
import { buildDeadLetter, produceDeadLetters } from '../../src/log/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

/** A processing dead letter of a raw ENTSO-E document about `zones` (the request names them). */
function entsoeLetter(zones: string[]): DeadLetter {
  return buildDeadLetter({
    stage: 'processing',
    reason: 'processing.unmapped_area',
    message: `bad document for ${zones.join(',')}`,
    source: { topic: 'raw.entsoe', partition: 0, offset: 1, key: 'A75|x' },
    payload: JSON.stringify({
      id: `doc-${zones.join('-')}`,
      origin: 'api',
      fetchedAt: '2026-01-01T00:00:00.000Z',
      request: {
        documentType: 'A75',
        domains: { in_Domain: '10Y' },
        periodStart: '2026-01-01T00:00:00.000Z',
        periodEnd: '2026-01-02T00:00:00.000Z',
        zones,
      },
      httpStatus: 200,
      body: '<x/>',
    }),
  });
}

/** Zone limits hold on operator and admin endpoints too: lists are filtered, actions on other zones refused. */
describe('access rules on operator and admin endpoints', () => {
  let api: TestApi;
  let opFi: string;
  let adminFi: string;
  before(async () => {
    api = await startTestApi();
    opFi = (await createApiKey(api.db, { name: 'ops fi', role: 'operator', zones: ['FI'] })).key;
    adminFi = (await createApiKey(api.db, { name: 'admin fi', role: 'admin', zones: ['FI'] })).key;
    await produceDeadLetters(api.log, [entsoeLetter(['SE_4']), entsoeLetter(['FI']), entsoeLetter(['SE_4'])]);
    // A storage dead letter of an FI chunk and one of meters without a zone (platform-wide).
    await produceDeadLetters(api.log, [
      buildDeadLetter({
        stage: 'storage',
        reason: 'store.constraint_violation',
        message: 'bad point',
        source: { topic: 'grid.observations', partition: 0, offset: 3, key: 'SE_4' },
        payload: JSON.stringify({ zone: 'SE_4', metric: 'load_actual', points: [] }),
      }),
      buildDeadLetter({
        stage: 'storage',
        reason: 'store.constraint_violation',
        message: 'bad point',
        source: { topic: 'grid.observations', partition: 0, offset: 4, key: 'FI' },
        payload: JSON.stringify({ zone: 'FI', metric: 'load_actual', points: [] }),
      }),
    ]);
    await api.db.query(
      `INSERT INTO job_runs (job, status, details) VALUES ('entsoe-hourly', 'succeeded', '{}'),
         ('fi-only', 'succeeded', '{"zones":["FI"]}')`,
    );
    await api.db.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ('gridstream-scheduler', 'h1', now() + interval '1 minute')`,
    );
  });
  after(async () => {
    await api.close();
  });

  it('dead letters of other zones are neither listed, counted, shown nor replayed', async () => {
    const all = await api.json('/api/v1/admin/dlq/dlq-processing');
    assert.equal((all.body['entries'] as unknown[]).length, 3, 'an unlimited operator sees every zone');
    const fi = await api.json('/api/v1/admin/dlq/dlq-processing', { key: opFi });
    const entries = fi.body['entries'] as { offset: number; letter: { message: string } }[];
    assert.deepEqual(
      entries.map((e) => e.letter.message),
      ['bad document for FI'],
    );
    const summary = await api.json('/api/v1/admin/dlq', { key: opFi });
    const topics = summary.body['topics'] as { topic: string; total: number }[];
    assert.equal(topics.find((t) => t.topic === 'dlq-processing')?.total, 1);
    assert.equal(topics.find((t) => t.topic === 'dlq-storage')?.total, 1);
    const se = await api.request('/api/v1/admin/dlq/dlq-processing/0/0', { key: opFi });
    assert.equal(se.status, 403);
    assert.equal(se.headers.get('content-type'), 'application/problem+json');
    assert.equal((await api.request('/api/v1/admin/dlq/dlq-processing/0/1', { key: opFi })).status, 200);
    const replaySe = await api.request('/api/v1/admin/dlq/dlq-processing/replay', {
      key: opFi,
      method: 'POST',
      body: { offsets: [{ partition: 0, offset: 0 }] },
    });
    assert.equal(replaySe.status, 403);
    const replayAll = await api.json('/api/v1/admin/dlq/dlq-processing/replay', {
      key: opFi,
      method: 'POST',
      body: { all: true },
    });
    assert.equal(replayAll.status, 200);
    assert.equal(replayAll.body['selected'], 1, 'replaying "all" takes only the FI letter');
  });

  it('jobs, connectors and lag show only what belongs to the key’s zones', async () => {
    const jobsAll = await api.json('/api/v1/admin/jobs');
    assert.equal((jobsAll.body['runs'] as unknown[]).length, 2);
    const jobs = await api.json('/api/v1/admin/jobs', { key: opFi });
    assert.deepEqual(
      (jobs.body['runs'] as { job: string }[]).map((r) => r.job),
      ['fi-only'],
    );
    const connectors = await api.json('/api/v1/admin/connectors', { key: opFi });
    assert.deepEqual(
      (connectors.body['jobs'] as { job: string }[]).map((r) => r.job),
      ['fi-only'],
    );
    assert.deepEqual(connectors.body['leases'], []);
    const lag = await api.json('/api/v1/admin/lag', { key: opFi });
    assert.deepEqual(lag.body['groups'], []);
  });

  it('a key limited to zones creates only keys at most as limited, and sees and revokes only those', async () => {
    const wider = await api.request('/api/v1/admin/keys', {
      key: adminFi,
      method: 'POST',
      body: { name: 'all zones', role: 'reader' },
    });
    assert.equal(wider.status, 403);
    const other = await api.request('/api/v1/admin/keys', {
      key: adminFi,
      method: 'POST',
      body: { name: 'se', role: 'reader', zones: ['FI', 'SE_4'] },
    });
    assert.equal(other.status, 403);
    const ok = await api.json('/api/v1/admin/keys', {
      key: adminFi,
      method: 'POST',
      body: { name: 'fi reader 2', role: 'reader', zones: ['FI'] },
    });
    assert.equal(ok.status, 201);
    const higher = await api.request('/api/v1/admin/keys', {
      key: opFi,
      method: 'POST',
      body: { name: 'x', role: 'admin', zones: ['FI'] },
    });
    assert.equal(higher.status, 403, 'an operator manages no keys');
    const listed = await api.json('/api/v1/admin/keys', { key: adminFi });
    const names = (listed.body['keys'] as { name: string; zones: string[] | null }[]).map((k) => k.name);
    assert.ok(names.includes('fi reader 2') && names.includes('ops fi'));
    assert.ok(!names.includes('GRIDSTREAM_ADMIN_KEY') && !names.includes('ops'), 'unlimited keys are not listed');
    const unlimited = (await api.json('/api/v1/admin/keys')).body['keys'] as { id: string; zones: unknown }[];
    const target = unlimited.find((k) => k.zones === null)?.id ?? '';
    assert.equal((await api.request(`/api/v1/admin/keys/${target}`, { key: adminFi, method: 'DELETE' })).status, 403);
  });
});
