import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import { localDayOf } from '../../src/api/routes/meter-quality.ts';
import type { Db } from '../../src/storage/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';
import { insertRegistryMeter } from './meter-fixtures.ts';

/** One row of meter_validated (local day 2026-03-10 in Berlin). */
async function insertValidated(
  db: Db,
  r: {
    meter: string;
    group: string;
    ts: string;
    value: string | null;
    quality: string;
    method: string;
    raw?: string | null;
    rules?: string[];
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO meter_validated (meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw, rules,
       details, group_id)
     VALUES ($1, 'energy_import', $2, 900, '2026-03-10', $3, $4, $5, $6, $7::text[], $8::jsonb, $9)`,
    [
      r.meter,
      r.ts,
      r.value,
      r.quality,
      r.method,
      r.raw ?? null,
      r.rules ?? [],
      r.details === undefined ? null : JSON.stringify(r.details),
      r.group,
    ],
  );
}

/**
 * Meter vq-1 (group feed-q, Berlin, from 2026-01-01) has four validated quarters of 2026-03-10 00:00–01:00 UTC:
 * measured 0.1, estimated 0.2, substituted 0.3 (raw 9.9 failed `spike`), missing (`gap`). vq-2 is of feed-r.
 */
async function seed(db: Db): Promise<void> {
  await insertRegistryMeter(db, { id: 'vq-1', group: 'feed-q', from: '2026-01-01T00:00:00Z' });
  await insertRegistryMeter(db, { id: 'vq-2', group: 'feed-r' });
  const base = { meter: 'vq-1', group: 'feed-q' };
  await insertValidated(db, {
    ...base,
    ts: '2026-03-10T00:00:00Z',
    value: '0.100',
    quality: 'measured',
    method: 'measured',
    raw: '0.1',
  });
  await insertValidated(db, {
    ...base,
    ts: '2026-03-10T00:15:00Z',
    value: '0.2',
    quality: 'estimated',
    method: 'linear',
  });
  await insertValidated(db, {
    ...base,
    ts: '2026-03-10T00:30:00Z',
    value: '0.3',
    quality: 'substituted',
    method: 'history',
    raw: '9.9',
    rules: ['spike'],
    details: { spike: { median: '0.1', factor: 10 } },
  });
  await insertValidated(db, {
    ...base,
    ts: '2026-03-10T00:45:00Z',
    value: null,
    quality: 'missing',
    method: 'none',
    rules: ['gap'],
  });
  await insertValidated(db, {
    meter: 'vq-2',
    group: 'feed-r',
    ts: '2026-03-10T00:00:00Z',
    value: '1',
    quality: 'measured',
    method: 'measured',
    raw: '1',
  });
}

describe('meter quality API: validated series, edits, quality', () => {
  let api: TestApi;
  let feedQ: string;
  let feedQId: string;
  let feedR: string;
  before(async () => {
    api = await startTestApi();
    await seed(api.db);
    const q = await createApiKey(api.db, { name: 'feed q', role: 'reader', groups: ['feed-q'] });
    feedQ = q.key;
    feedQId = q.record.id;
    feedR = (await createApiKey(api.db, { name: 'feed r', role: 'reader', groups: ['feed-r'] })).key;
  });
  after(async () => {
    await api.close();
  });

  const range = 'from=2026-03-10T00:00:00Z&to=2026-03-10T01:00:00Z';

  it('answers the validated series per interval: exact values, quality, method, raw, rules and details', async () => {
    const { status, body } = await api.json(`/api/v1/meters/vq-1/validated?${range}`, { key: feedQ });
    assert.equal(status, 200);
    assert.deepEqual(body, {
      meter_id: 'vq-1',
      quantity: 'energy_import',
      unit: 'kWh',
      intervals: [
        {
          ts: '2026-03-10T00:00:00Z',
          value: '0.1',
          quality: 'measured',
          method: 'measured',
          raw: '0.1',
          rules: [],
          details: null,
        },
        {
          ts: '2026-03-10T00:15:00Z',
          value: '0.2',
          quality: 'estimated',
          method: 'linear',
          raw: null,
          rules: [],
          details: null,
        },
        {
          ts: '2026-03-10T00:30:00Z',
          value: '0.3',
          quality: 'substituted',
          method: 'history',
          raw: '9.9',
          rules: ['spike'],
          details: { spike: { median: '0.1', factor: 10 } },
        },
        {
          ts: '2026-03-10T00:45:00Z',
          value: null,
          quality: 'missing',
          method: 'none',
          raw: null,
          rules: ['gap'],
          details: null,
        },
      ],
    });
  });

  it('scopes like the readings: a key of another group gets 404, an anonymous caller 401', async () => {
    for (const path of ['validated', 'quality', 'edits', 'settlement'])
      assert.equal((await api.request(`/api/v1/meters/vq-1/${path}?${range}`, { key: feedR })).status, 404, path);
    assert.equal((await api.request(`/api/v1/groups/feed-q/quality?${range}`, { key: feedR })).status, 404);
    assert.equal(
      (await api.request(`/api/v1/groups/feed-q/settlement?${range}&resolution=PT1H`, { key: feedR })).status,
      404,
    );
    assert.equal((await api.request(`/api/v1/meters/vq-1/validated?${range}`, { key: api.readerFi })).status, 404);
    assert.equal((await api.request(`/api/v1/meters/vq-1/validated?${range}`, { key: null })).status, 401);
    // A range reaching into a validity of another group is 403.
    await insertRegistryMeter(api.db, { id: 'vq-3', group: 'feed-r', to: '2026-03-01T00:00:00Z' });
    await insertRegistryMeter(api.db, { id: 'vq-3', group: 'feed-q', from: '2026-03-01T00:00:00Z' });
    const moved = await api.json('/api/v1/meters/vq-3/validated?from=2026-02-28&to=2026-03-02', { key: feedQ });
    assert.equal(moved.status, 403);
    assert.equal(
      (await api.request('/api/v1/meters/vq-3/validated?from=2026-03-02&to=2026-03-03', { key: feedQ })).status,
      200,
    );
  });

  it('audits every read of a meter in the reading transaction', async () => {
    await api.db.query('DELETE FROM meter_read_audit');
    await api.request(`/api/v1/meters/vq-1/validated?${range}`, { key: feedQ });
    await api.request(`/api/v1/meters/vq-1/quality?${range}`, { key: feedQ });
    await api.request(`/api/v1/meters/vq-1/edits?${range}`, { key: feedQ });
    await api.request(`/api/v1/meters/vq-1/settlement?${range}&resolution=PT1H`, { key: feedQ });
    const { rows } = await api.db.query<{ principal: string; path: string; detail: string; f: string; t: string }>(
      `SELECT principal, path, detail, to_char(from_ts AT TIME ZONE 'UTC', 'HH24:MI') AS f,
         to_char(to_ts AT TIME ZONE 'UTC', 'HH24:MI') AS t
       FROM meter_read_audit WHERE meter_id = 'vq-1' ORDER BY id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.principal, r.path, r.detail, r.f, r.t]),
      [
        [`key:${feedQId}`, 'api', 'validated energy_import', '00:00', '01:00'],
        [`key:${feedQId}`, 'api', 'quality energy_import', '00:00', '01:00'],
        [`key:${feedQId}`, 'api', 'edits', '00:00', '01:00'],
        [`key:${feedQId}`, 'api', 'settlement energy_import PT1H', '00:00', '01:00'],
      ],
    );
    // A read whose audit row cannot be written is not answered.
    await api.db.exec('ALTER TABLE meter_read_audit ADD CONSTRAINT refuse_q CHECK (false) NOT VALID');
    try {
      assert.equal((await api.request(`/api/v1/meters/vq-1/validated?${range}`, { key: feedQ })).status, 500);
    } finally {
      await api.db.exec('ALTER TABLE meter_read_audit DROP CONSTRAINT refuse_q');
    }
  });

  it('counts qualities and rule failures of a meter and of a group (with each meter)', async () => {
    const meter = await api.json(`/api/v1/meters/vq-1/quality?from=2026-03-10&to=2026-03-11`, { key: feedQ });
    assert.equal(meter.status, 200);
    const summary = {
      intervals: 4,
      counts: { measured: 1, estimated: 1, substituted: 1, missing: 1 },
      shares: { measured: 0.25, estimated: 0.25, substituted: 0.25, missing: 0.25 },
      rules: [
        { rule: 'gap', failures: 1 },
        { rule: 'spike', failures: 1 },
      ],
    };
    assert.deepEqual(meter.body, {
      meter_id: 'vq-1',
      quantity: 'energy_import',
      from: '2026-03-09T23:00:00Z',
      to: '2026-03-10T23:00:00Z',
      ...summary,
    });
    const group = await api.json(`/api/v1/groups/feed-q/quality?${range}`, { key: feedQ });
    assert.equal(group.status, 200);
    assert.equal(group.body['meters'], undefined, 'no per-meter list in a group answer');
    assert.equal(group.body['intervals'], 4);
    const other = await api.json(`/api/v1/groups/feed-r/quality?${range}`);
    assert.deepEqual(other.body['counts'], { measured: 1, estimated: 0, substituted: 0, missing: 0 });
  });

  it('refuses an edit off the interval grid or outside every validity (400 quality.edit_invalid)', async () => {
    const edit = { quantity: 'energy_import', value: '0.25', reason: 'read from the display' };
    const off = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: { ...edit, ts: '2026-03-10T00:07:00Z' },
    });
    assert.equal(off.status, 400);
    assert.equal(off.body['code'], 'quality.edit_invalid');
    assert.equal(off.body['type'], 'https://gridstream.dev/problems/edit_invalid');
    const before = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: { ...edit, ts: '2025-12-31T00:00:00Z' },
    });
    assert.equal(before.status, 400);
    assert.equal(before.body['code'], 'quality.edit_invalid');
    const noReason = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: { ...edit, ts: '2026-03-10T00:45:00Z', reason: '' },
    });
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body['param'], 'reason');
    const badValue = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: { ...edit, ts: '2026-03-10T00:45:00Z', value: '1e3' },
    });
    assert.equal(badValue.status, 400);
    // vq-1 is an import register: its energy cannot be edited negative.
    const negative = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: { ...edit, ts: '2026-03-10T00:45:00Z', value: '-0.1' },
    });
    assert.equal(negative.status, 400);
    assert.equal(negative.body['code'], 'quality.edit_invalid');
    assert.equal(negative.body['param'], 'value');
    // Readers do not edit; nothing was stored or queued by any refusal.
    const reader = await api.request('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      key: feedQ,
      body: { ...edit, ts: '2026-03-10T00:45:00Z' },
    });
    assert.equal(reader.status, 403);
    const { rows } = await api.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM meter_interval_edits)::int + (SELECT count(*) FROM meter_work)::int AS n`,
    );
    assert.equal(rows[0]?.n, 0);
  });

  it('stores an edit and queues its local day for the quality job in one transaction; lists the trail', async () => {
    const created = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: {
        quantity: 'energy_import',
        ts: '2026-03-10T00:45:00+00:00',
        value: '0.250',
        reason: 'read from the display',
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body['value'], '0.25');
    assert.equal(created.body['override'], false);
    assert.equal(created.body['ts'], '2026-03-10T00:45:00Z');
    assert.match(String(created.body['principal']), /^key:/);
    assert.match(String(created.body['at']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const work = await api.db.query<{ job: string; d: string; tz: string; s: string; e: string }>(
      `SELECT job, to_char(local_day, 'YYYY-MM-DD') AS d, time_zone AS tz,
         to_char(day_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS s,
         to_char(day_end AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS e
       FROM meter_work WHERE meter_id = 'vq-1' AND quantity = 'energy_import'`,
    );
    assert.deepEqual(work.rows, [
      { job: 'quality', d: '2026-03-10', tz: 'Europe/Berlin', s: '2026-03-09 23:00', e: '2026-03-10 23:00' },
    ]);
    const withdrawn = await api.json('/api/v1/meters/vq-1/edits', {
      method: 'POST',
      body: {
        quantity: 'energy_import',
        ts: '2026-03-10T00:45:00Z',
        value: null,
        override: true,
        reason: 'wrong meter',
      },
    });
    assert.equal(withdrawn.status, 201);
    assert.equal(withdrawn.body['value'], null);
    const trail = await api.json(`/api/v1/meters/vq-1/edits?${range}`, { key: feedQ });
    assert.equal(trail.status, 200);
    const edits = trail.body['edits'] as Record<string, unknown>[];
    assert.deepEqual(
      edits.map((e) => [e['value'], e['override'], e['reason'], e['ts']]),
      [
        ['0.25', false, 'read from the display', '2026-03-10T00:45:00Z'],
        [null, true, 'wrong meter', '2026-03-10T00:45:00Z'],
      ],
    );
    assert.deepEqual((await api.json(`/api/v1/meters/vq-1/edits?from=2026-03-11&to=2026-03-12`)).body['edits'], []);
  });

  it('finds the local day of an interval across the clock change', () => {
    // Berlin's 2026-03-29 lasts 23 hours: from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    assert.deepEqual(localDayOf(Date.parse('2026-03-29T21:45:00Z'), 'Europe/Berlin'), {
      localDay: '2026-03-29',
      dayStart: '2026-03-28T23:00:00.000Z',
      dayEnd: '2026-03-29T22:00:00.000Z',
    });
    assert.equal(localDayOf(Date.parse('2026-03-29T22:00:00Z'), 'Europe/Berlin').localDay, '2026-03-30');
  });

  it('a group key sees its group quality, and ADMIN too', async () => {
    assert.equal((await api.request(`/api/v1/groups/feed-q/quality?${range}`, { key: ADMIN })).status, 200);
    assert.equal((await api.request(`/api/v1/groups/nope/quality?${range}`)).status, 404);
  });
});
