import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import type { Db } from '../../src/storage/index.ts';
import {
  ensurePartitions,
  groupLoad,
  listMeterReads,
  listReadableMeters,
  meterGroupValidities,
  meterReadings,
  meterWindows,
  recordMeterRead,
} from '../../src/storage/index.ts';
import { DB_KINDS, openTestDb } from '../storage/helpers.ts';
import type { TestApi } from '../helpers/api.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';

const QUARTER = 900_000;
/** Berlin's 2026-10-25 (the autumn change: 25 hours, 100 quarters) starts at 22:00 UTC the day before. */
const DST_DAY = Date.parse('2026-10-24T22:00:00Z');

/** Registers a meter directly in the registry table. */
export async function insertMeter(
  db: Db,
  m: { id: string; zone: string; group: string; tz: string; interval?: string; from?: string; to?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh, profile,
       valid_from, valid_to)
     VALUES ($1, $2, $3, $4, 'import', $5, 3500, 'H0', $6::timestamptz, $7::timestamptz)`,
    [m.id, m.zone, m.group, m.tz, m.interval ?? 'PT15M', m.from ?? null, m.to ?? null],
  );
}

/** Stores interval values (energy_import) of `meter` at the given starts. */
export async function insertIntervals(
  db: Db,
  meter: string,
  group: string,
  rows: readonly { ts: number; value: string; quality?: string; seconds?: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  const first = Math.min(...rows.map((r) => r.ts));
  const last = Math.max(...rows.map((r) => r.ts));
  await ensurePartitions(db, 'meter_intervals', new Date(first), new Date(last));
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, quality, source, group_id, log_topic,
       log_partition, log_offset)
     SELECT $1, 'energy_import', t, s, v, q, 'interval', $2, 'raw.meters', 0, n
     FROM unnest($3::timestamptz[], $4::int[], $5::numeric[], $6::text[]) WITH ORDINALITY AS x(t, s, v, q, n)`,
    [
      meter,
      group,
      rows.map((r) => new Date(r.ts).toISOString()),
      rows.map((r) => r.seconds ?? 900),
      rows.map((r) => r.value),
      rows.map((r) => r.quality ?? 'measured'),
    ],
  );
}

/**
 * Meter de-1 (group feeder-a, Berlin): every quarter of 2026-10-25 holds 0.1 kWh except the 11th (00:30 UTC),
 * which is missing, and the 6th (23:15 UTC), which is estimated; 2026-10-26 exists only as an emitted day row of
 * 10.5 kWh. Meter de-2 belongs to feeder-b.
 */
async function seed(db: Db): Promise<void> {
  await insertMeter(db, { id: 'de-1', zone: 'DE_LU', group: 'feeder-a', tz: 'Europe/Berlin' });
  await insertMeter(db, { id: 'de-2', zone: 'DE_LU', group: 'feeder-b', tz: 'Europe/Berlin' });
  const rows = [];
  for (let i = 0; i < 100; i++) {
    if (i === 10) continue;
    rows.push({ ts: DST_DAY + i * QUARTER, value: '0.1', ...(i === 5 ? { quality: 'estimated' } : {}) });
  }
  await insertIntervals(db, 'de-1', 'feeder-a', rows);
  await insertIntervals(db, 'de-2', 'feeder-b', [{ ts: DST_DAY, value: '7' }]);
  const day2 = Date.parse('2026-10-25T23:00:00Z');
  await db.query(
    `INSERT INTO meter_days (meter_id, quantity, local_day, time_zone, day_start, day_end, interval_s, "values",
       quality, sum, count, expected, group_id)
     VALUES ('de-1', 'energy_import', '2026-10-26', 'Europe/Berlin', $1, $2, 900, $3::numeric[], $4::text[], 10.5,
       96, 96, 'feeder-a')`,
    [
      new Date(day2).toISOString(),
      new Date(day2 + 96 * QUARTER).toISOString(),
      Array.from({ length: 96 }, (_, i) => (i === 0 ? '0.525' : '0.105')),
      Array.from({ length: 96 }, () => 'measured'),
    ],
  );
}

type Points = { ts: string; value: string | null; quality: string; final: boolean }[];

describe('meter read API', () => {
  let api: TestApi;
  let groupA: string;
  let groupB: string;
  let fiOnly: string;
  let groupAId: string;
  before(async () => {
    api = await startTestApi();
    await seed(api.db);
    const a = await createApiKey(api.db, { name: 'feeder a', role: 'reader', groups: ['feeder-a'] });
    groupA = a.key;
    groupAId = a.record.id;
    groupB = (await createApiKey(api.db, { name: 'feeder b', role: 'reader', groups: ['feeder-b'] })).key;
    fiOnly = api.readerFi;
  });
  after(async () => {
    await api.close();
  });

  const readings = async (query: string, key: string = ADMIN) =>
    api.json(`/api/v1/meters/de-1/readings?${query}`, { key });

  it('answers quarters as stored: exact decimals, a missing slot listed with null, all provisional', async () => {
    const { status, body } = await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z');
    assert.equal(status, 200);
    assert.deepEqual(body, {
      meter_id: 'de-1',
      quantity: 'energy_import',
      unit: 'kWh',
      time_zone: 'Europe/Berlin',
      resolution: 'PT15M',
      watermark: null,
      points: [
        { ts: '2026-10-25T00:00:00Z', value: '0.1', quality: 'measured', final: false },
        { ts: '2026-10-25T00:15:00Z', value: '0.1', quality: 'measured', final: false },
        { ts: '2026-10-25T00:30:00Z', value: null, quality: 'missing', final: false },
        { ts: '2026-10-25T00:45:00Z', value: '0.1', quality: 'measured', final: false },
      ],
    });
  });

  it('a day with a day row is read from it (every resolution), from its intervals while a restatement is pending', async () => {
    // de-2's 2026-10-25 holds one interval of 7 kWh; its day row says 8 (a correction arrived, not yet re-emitted).
    const end = DST_DAY + 100 * QUARTER;
    await api.db.query(
      `INSERT INTO meter_days (meter_id, quantity, local_day, time_zone, day_start, day_end, interval_s, "values",
         quality, sum, count, expected, group_id)
       VALUES ('de-2', 'energy_import', '2026-10-25', 'Europe/Berlin', $1, $2, 900, $3::numeric[], $4::text[], 8, 1,
         100, 'feeder-b')`,
      [
        new Date(DST_DAY).toISOString(),
        new Date(end).toISOString(),
        Array.from({ length: 100 }, (_, i) => (i === 0 ? '8' : null)),
        Array.from({ length: 100 }, (_, i) => (i === 0 ? 'measured' : 'missing')),
      ],
    );
    const read = async (query: string): Promise<(string | null)[]> =>
      ((await api.json(`/api/v1/meters/de-2/readings?${query}`)).body['points'] as Points).map((p) => p.value);
    const day = 'from=2026-10-25&to=2026-10-26&resolution=P1D';
    const quarter = 'from=2026-10-24T22:00:00Z&to=2026-10-24T22:15:00Z';
    try {
      assert.deepEqual(await read(day), ['8']);
      assert.deepEqual(await read(quarter), ['8']);
      await api.db.query(
        `INSERT INTO stream_pending_windows (job, kind, key, window_start, window_end, time_zone, restate)
         VALUES ('meters', 'meter_day', $1, $2, $3, 'Europe/Berlin', true)`,
        [JSON.stringify(['de-2', 'energy_import']), new Date(DST_DAY).toISOString(), new Date(end).toISOString()],
      );
      assert.deepEqual(await read(day), ['7']);
      assert.deepEqual(await read(quarter), ['7']);
    } finally {
      await api.db.query(`DELETE FROM meter_days WHERE meter_id = 'de-2'`);
      await api.db.query(`DELETE FROM stream_pending_windows WHERE key = $1`, [
        JSON.stringify(['de-2', 'energy_import']),
      ]);
    }
  });

  it('reads quarters and hours of a day kept only as a day row (its raw intervals dropped by a retention)', async () => {
    const quarters = await readings('from=2026-10-25T23:00:00Z&to=2026-10-25T23:30:00Z');
    assert.deepEqual(
      (quarters.body['points'] as Points).map((p) => [p.ts, p.value, p.quality]),
      [
        ['2026-10-25T23:00:00Z', '0.525', 'measured'],
        ['2026-10-25T23:15:00Z', '0.105', 'measured'],
      ],
    );
    const hours = await readings('from=2026-10-25T23:00:00Z&to=2026-10-26T01:00:00Z&resolution=PT1H');
    assert.deepEqual(
      (hours.body['points'] as Points).map((p) => [p.ts, p.value, p.quality]),
      [
        ['2026-10-25T23:00:00Z', '0.84', 'measured'],
        ['2026-10-26T00:00:00Z', '0.42', 'measured'],
      ],
    );
  });

  it('sums hours and local days in SQL numeric, with the worst quality, and finality from the watermark', async () => {
    const hours = await readings('from=2026-10-24T23:00:00Z&to=2026-10-25T01:00:00Z&resolution=PT1H');
    assert.deepEqual(
      (hours.body['points'] as Points).map((p) => [p.ts, p.value, p.quality]),
      [
        ['2026-10-24T23:00:00Z', '0.4', 'estimated'],
        ['2026-10-25T00:00:00Z', '0.3', 'missing'],
      ],
    );
    const days = async (): Promise<Points> =>
      (await readings('from=2026-10-24&to=2026-10-27&resolution=P1D')).body['points'] as Points;
    // 2026-10-24 has nothing; 2026-10-25 is 25 hours (99 of 100 quarters: 9.9, never 9.899999…); 2026-10-26 is
    // read from its emitted day row.
    assert.deepEqual(await days(), [
      { ts: '2026-10-23T22:00:00Z', value: null, quality: 'missing', final: false },
      { ts: '2026-10-24T22:00:00Z', value: '9.9', quality: 'missing', final: false },
      { ts: '2026-10-25T23:00:00Z', value: '10.5', quality: 'measured', final: false },
    ]);
    await api.db.query("INSERT INTO stream_jobs (job, watermark) VALUES ('meters', '2026-10-26T00:00:00Z')");
    assert.deepEqual(
      (await days()).map((p) => p.final),
      [true, true, false],
      'a day is final once the watermark passed its end',
    );
    const month = await readings('from=2026-10-01&to=2026-11-01&resolution=P1M');
    assert.equal(month.body['watermark'], '2026-10-26T00:00:00Z');
    assert.deepEqual(month.body['points'], [
      { ts: '2026-09-30T22:00:00Z', value: '20.4', quality: 'missing', final: false },
    ]);
  });

  it('refuses ranges that do not fall on windows, that are too long, or finer than the meter reports', async () => {
    const misaligned = await readings('from=2026-10-25T00:10:00Z&to=2026-10-25T01:00:00Z');
    assert.equal(misaligned.status, 400);
    assert.equal(misaligned.body['param'], 'from');
    const notMidnight = await readings('from=2026-10-25T00:00:00Z&to=2026-10-27&resolution=P1D');
    assert.equal(notMidnight.status, 400, 'UTC midnight is not a Berlin day start');
    const long = await readings('from=2025-01-01&to=2026-10-01&resolution=P1D');
    assert.equal(long.status, 400);
    assert.equal(long.body['code'], 'api.range_too_large');
    await insertMeter(api.db, {
      id: 'hourly',
      zone: 'DE_LU',
      group: 'feeder-a',
      tz: 'Europe/Berlin',
      interval: 'PT60M',
    });
    const fine = await api.json('/api/v1/meters/hourly/readings?from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z');
    assert.equal(fine.status, 400);
    assert.equal(fine.body['param'], 'resolution');
  });

  it("scopes meters by group and zone: another group's meter is a 404, and anonymous callers read none", async () => {
    assert.equal((await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z', groupA)).status, 200);
    const other = await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z', groupB);
    assert.equal(other.status, 404);
    assert.equal((await api.json('/api/v1/meters/de-1', { key: groupB })).status, 404);
    assert.equal((await api.json('/api/v1/meters/nope', { key: groupB })).status, 404);
    assert.equal((await api.json('/api/v1/meters/de-1', { key: fiOnly })).status, 404, 'a FI key: not DE_LU');
    const listed = await api.json('/api/v1/meters', { key: groupA });
    assert.deepEqual(
      (listed.body['meters'] as { meter_id: string }[]).map((m) => m.meter_id),
      ['de-1', 'hourly'],
    );
    const all = await api.json('/api/v1/meters?group=feeder-b');
    assert.deepEqual(
      (all.body['meters'] as { meter_id: string }[]).map((m) => m.meter_id),
      ['de-2'],
    );
    const me = await api.json('/api/v1/me', { key: groupA });
    assert.deepEqual(me.body['groups'], ['feeder-a']);
    const one = await api.json('/api/v1/meters/de-1', { key: groupA });
    assert.equal(one.body['group'], 'feeder-a');
    assert.equal(one.body['time_zone'], 'Europe/Berlin');
    // Grid series stay readable: they are public market data of zones, not meter data.
    assert.equal((await api.json('/api/v1/zones', { key: groupA })).status, 200);
    // But nothing about no group: dead letters, keys, jobs.
    const publicApi = await startTestApi({ publicRead: true });
    try {
      assert.equal((await publicApi.json('/api/v1/zones', { key: null })).status, 200);
      assert.equal((await publicApi.json('/api/v1/meters', { key: null })).status, 401);
    } finally {
      await publicApi.close();
    }
  });

  it("sums a group's load per window: emitted aggregates when there, provisional sums otherwise", async () => {
    await api.db.query(
      "INSERT INTO stream_jobs (job, watermark) VALUES ('meters', '2026-10-26T00:00:00Z') ON CONFLICT DO NOTHING",
    );
    await api.db.query(
      `INSERT INTO group_aggregates (group_id, quantity, resolution, window_start, window_end, time_zone, count, sum)
       VALUES ('feeder-a', 'energy_import', 'PT1H', '2026-10-24T22:00:00Z', '2026-10-24T23:00:00Z', 'Europe/Berlin',
         4, 0.4)`,
    );
    const load = await api.json(
      '/api/v1/groups/feeder-a/load?from=2026-10-24T22:00:00Z&to=2026-10-25T01:00:00Z&resolution=PT1H',
      { key: groupA },
    );
    assert.equal(load.status, 200);
    assert.deepEqual(load.body['points'], [
      { ts: '2026-10-24T22:00:00Z', value: '0.4', quality: 'measured', final: true, count: 4 },
      { ts: '2026-10-24T23:00:00Z', value: '0.4', quality: 'estimated', final: true, count: 4 },
      // A meter that sent nothing does not make a group window missing: count says how many values it sums.
      { ts: '2026-10-25T00:00:00Z', value: '0.3', quality: 'measured', final: true, count: 3 },
    ]);
    const later = await api.json('/api/v1/groups/feeder-a/load?from=2026-10-26&to=2026-10-27&resolution=P1D', {
      key: groupA,
    });
    assert.deepEqual(later.body['points'], [
      { ts: '2026-10-25T23:00:00Z', value: null, quality: 'missing', final: false, count: 0 },
    ]);
    const forbidden = await api.json(
      '/api/v1/groups/feeder-a/load?from=2026-10-24T22:00:00Z&to=2026-10-25T01:00:00Z&resolution=PT1H',
      { key: groupB },
    );
    assert.equal(forbidden.status, 404);
  });

  it('audits every read of a meter before answering, and only unlimited admins read the audit log', async () => {
    await api.db.query('DELETE FROM meter_read_audit');
    await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z&resolution=PT1H', groupA);
    await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z', groupB); // a 404: nothing read
    const audit = await api.json('/api/v1/admin/audit/meter-reads?meter=de-1');
    assert.equal(audit.status, 200);
    const reads = audit.body['reads'] as Record<string, unknown>[];
    assert.equal(reads.length, 1);
    assert.deepEqual(
      { ...reads[0], id: undefined, at: undefined },
      {
        id: undefined,
        at: undefined,
        principal: `key:${groupAId}`,
        path: 'api',
        meter_id: 'de-1',
        from: '2026-10-25T00:00:00Z',
        to: '2026-10-25T01:00:00Z',
        detail: 'energy_import PT1H',
      },
    );
    assert.doesNotMatch(JSON.stringify(reads), new RegExp(groupA.slice(-20)), 'never the secret');
    const byPrincipal = await api.json(`/api/v1/admin/audit/meter-reads?principal=key:${groupAId}&limit=5`);
    assert.equal((byPrincipal.body['reads'] as unknown[]).length, 1);
    assert.equal((await api.json('/api/v1/admin/audit/meter-reads', { key: groupA })).status, 403);
    const adminA = (await createApiKey(api.db, { name: 'admin a', role: 'admin', groups: ['feeder-a'] })).key;
    assert.equal((await api.json('/api/v1/admin/audit/meter-reads', { key: adminA })).status, 403);
    // A read whose audit row cannot be written is not answered (and leaves no row).
    await api.db.exec('ALTER TABLE meter_read_audit ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    try {
      const refused = await readings('from=2026-10-25T00:00:00Z&to=2026-10-25T01:00:00Z', groupA);
      assert.equal(refused.status, 500);
      assert.equal(refused.body['points'], undefined);
    } finally {
      await api.db.exec('ALTER TABLE meter_read_audit DROP CONSTRAINT refuse_all');
    }
    assert.equal(
      Number((await api.db.query<{ n: string }>('SELECT count(*) AS n FROM meter_read_audit')).rows[0]?.n),
      1,
    );
  });

  it('keys carry groups: a new key is at most as limited as its creator', async () => {
    const adminA = (await createApiKey(api.db, { name: 'admin a2', role: 'admin', groups: ['feeder-a'] })).key;
    const wide = await api.json('/api/v1/admin/keys', {
      method: 'POST',
      key: adminA,
      body: { name: 'wide', role: 'reader' },
    });
    assert.equal(wide.status, 403);
    assert.equal(wide.body['param'], 'groups');
    const other = await api.json('/api/v1/admin/keys', {
      method: 'POST',
      key: adminA,
      body: { name: 'other', role: 'reader', groups: ['feeder-b'] },
    });
    assert.equal(other.status, 403);
    const ok = await api.json('/api/v1/admin/keys', {
      method: 'POST',
      key: adminA,
      body: { name: 'device', role: 'operator', groups: ['feeder-a'] },
    });
    assert.equal(ok.status, 201);
    assert.deepEqual((ok.body['record'] as { groups: unknown }).groups, ['feeder-a']);
    const seen = await api.json('/api/v1/admin/keys', { key: adminA });
    const names = (seen.body['keys'] as { name: string }[]).map((k) => k.name);
    assert.ok(names.includes('device') && names.includes('feeder a'));
    assert.ok(
      !names.includes('feeder b') && !names.includes('ops'),
      'keys of other groups and unlimited keys stay hidden',
    );
    // The admin registry too: a group-limited admin sees and changes only its group's meters.
    const registry = await api.json('/api/v1/admin/meters', { key: adminA });
    assert.deepEqual(
      (registry.body['meters'] as { meter_id: string }[]).map((m) => m.meter_id),
      ['de-1', 'hourly'],
    );
    // Paged one meter at a time, feeder-b's de-2 (between de-1 and hourly) is skipped, not an empty page.
    const second = await api.json('/api/v1/admin/meters?limit=1&after=de-1', { key: adminA });
    assert.deepEqual(
      (second.body['meters'] as { meter_id: string }[]).map((m) => m.meter_id),
      ['hourly'],
    );
    const move = await api.json('/api/v1/admin/meters/de-1', {
      method: 'PATCH',
      key: adminA,
      body: { group: 'feeder-b' },
    });
    assert.equal(move.status, 403);
  });
});

describe('meter read queries on PostgreSQL and PGlite', () => {
  for (const kind of DB_KINDS) {
    it(`${kind}: windows, day rows, group sums, registry filters, audit rows`, async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const db = h.db;
      await seed(db);
      // A complete autumn day (100 quarters, 25 hours) and a complete spring day (92 quarters, 23 hours).
      await insertMeter(db, { id: 'de-3', zone: 'DE_LU', group: 'feeder-c', tz: 'Europe/Berlin' });
      const spring = Date.parse('2026-03-28T23:00:00Z');
      await insertIntervals(db, 'de-3', 'feeder-c', [
        ...Array.from({ length: 100 }, (_, i) => ({ ts: DST_DAY + i * QUARTER, value: '0.01' })),
        ...Array.from({ length: 92 }, (_, i) => ({ ts: spring + i * QUARTER, value: '0.01' })),
      ]);
      const full = meterWindows(spring, DST_DAY + 100 * QUARTER, 'P1D', 'Europe/Berlin', 1000);
      assert.ok('windows' in full);
      const byDay = await meterReadings(db, {
        meterId: 'de-3',
        quantity: 'energy_import',
        resolution: 'P1D',
        windows: full.windows,
      });
      const complete = byDay.filter((p) => p.value !== null);
      assert.deepEqual(
        complete.map((p) => [p.ts, p.value, p.quality]),
        [
          ['2026-03-28T23:00:00Z', '0.92', 'measured'],
          ['2026-10-24T22:00:00Z', '1', 'measured'],
        ],
      );
      const windowsOf = (from: string, to: string, resolution: 'PT1H' | 'P1D') => {
        const w = meterWindows(Date.parse(from), Date.parse(to), resolution, 'Europe/Berlin', 1000);
        assert.ok('windows' in w);
        return w.windows;
      };
      const days = await meterReadings(db, {
        meterId: 'de-1',
        quantity: 'energy_import',
        resolution: 'P1D',
        windows: windowsOf('2026-10-23T22:00:00Z', '2026-10-26T23:00:00Z', 'P1D'),
      });
      assert.deepEqual(
        days.map((p) => [p.ts, p.value, p.quality]),
        [
          ['2026-10-23T22:00:00Z', null, 'missing'],
          ['2026-10-24T22:00:00Z', '9.9', 'missing'],
          ['2026-10-25T23:00:00Z', '10.5', 'measured'],
        ],
      );
      const hours = await meterReadings(db, {
        meterId: 'de-1',
        quantity: 'energy_import',
        resolution: 'PT1H',
        windows: windowsOf('2026-10-24T23:00:00Z', '2026-10-25T01:00:00Z', 'PT1H'),
      });
      assert.deepEqual(
        hours.map((p) => [p.value, p.quality]),
        [
          ['0.4', 'estimated'],
          ['0.3', 'missing'],
        ],
      );
      const load = await groupLoad(db, {
        group: 'feeder-b',
        quantity: 'energy_import',
        resolution: 'PT1H',
        windows: windowsOf('2026-10-24T22:00:00Z', '2026-10-24T23:00:00Z', 'PT1H'),
      });
      assert.deepEqual(
        load.map((p) => [p.value, p.count, p.quality]),
        [['7', 1, 'measured']],
      );
      const visible = await listReadableMeters(db, { zones: null, groups: ['feeder-b'], limit: 10 });
      assert.deepEqual(
        visible.map((m) => m.meter_id),
        ['de-2'],
      );
      const none = await listReadableMeters(db, { zones: ['FI'], groups: null, limit: 10 });
      assert.deepEqual(none, []);
      const groups = await meterGroupValidities(db, ['de-1', 'nobody']);
      assert.deepEqual([...groups.entries()], [['de-1', [{ group: 'feeder-a', from: null, to: null }]]]);
      await recordMeterRead(db, {
        principal: 'key:abc',
        path: 'api',
        meterId: 'de-1',
        from: Date.parse('2026-10-25T00:00:00Z'),
        to: null,
        detail: null,
      });
      const audit = await listMeterReads(db, { meterId: 'de-1', limit: 10 });
      assert.deepEqual(
        audit.map((r) => [r.principal, r.path, r.from, r.to]),
        [['key:abc', 'api', '2026-10-25T00:00:00Z', null]],
      );
    });
  }
});
