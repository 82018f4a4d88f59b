import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

const METER = {
  meter_id: 'api-1',
  zone: 'FI',
  group: 'feeder-1',
  register_type: 'import',
  annual_consumption_kwh: '4200.50',
  profile: 'H0',
  lat: 60.17,
  lon: 24.94,
};

/** The registry's admin endpoints: create, update, exchange, list — with zone limits of the key. */
describe('meter registry API', () => {
  let api: TestApi;
  let opFi: string;
  let adminFi: string;
  before(async () => {
    api = await startTestApi();
    opFi = (await createApiKey(api.db, { name: 'ops fi', role: 'operator', zones: ['FI'] })).key;
    adminFi = (await createApiKey(api.db, { name: 'admin fi', role: 'admin', zones: ['FI'] })).key;
  });
  after(async () => {
    await api.close();
  });

  it('creates a meter with defaults from its zone, refuses a duplicate, bad fields and other zones', async () => {
    const created = await api.json('/api/v1/admin/meters', { method: 'POST', body: METER });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, {
      ...METER,
      annual_consumption_kwh: '4200.5',
      time_zone: 'Europe/Helsinki',
      interval: 'PT15M',
      register_capacity_kwh: null,
      simulated: false,
      valid_from: null,
      valid_to: null,
    });
    const again = await api.json('/api/v1/admin/meters', { method: 'POST', body: METER });
    assert.equal(again.status, 409);
    assert.equal(again.body['code'], 'api.conflict');
    const badZone = await api.json('/api/v1/admin/meters', { method: 'POST', body: { ...METER, zone: 'NOPE' } });
    assert.equal(badZone.status, 400);
    assert.equal(badZone.body['param'], 'zone');
    const badProfile = await api.json('/api/v1/admin/meters', { method: 'POST', body: { ...METER, profile: 'Z1' } });
    assert.equal(badProfile.status, 400);
    const float = await api.json('/api/v1/admin/meters', {
      method: 'POST',
      body: { ...METER, meter_id: 'api-f', annual_consumption_kwh: 4200.5 },
    });
    assert.equal(float.status, 400, 'a consumption as a JSON number (a float) is refused: exact decimals as text');
    const se = { ...METER, meter_id: 'api-se', zone: 'SE_4', group: 'feeder-2' };
    const other = await api.json('/api/v1/admin/meters', { method: 'POST', body: se, key: adminFi });
    assert.equal(other.status, 403);
    assert.equal((await api.json('/api/v1/admin/meters', { method: 'POST', body: se })).status, 201);
    const asOperator = await api.json('/api/v1/admin/meters', {
      method: 'POST',
      body: { ...METER, meter_id: 'api-op' },
      key: api.operator,
    });
    assert.equal(asOperator.status, 403, 'writes need an admin key');
  });

  it('lists by group and zone; a key limited to zones sees only its zones', async () => {
    const ids = async (query: string, key?: string) => {
      const r = await api.json(`/api/v1/admin/meters${query}`, key === undefined ? {} : { key });
      assert.equal(r.status, 200);
      return (r.body['meters'] as { meter_id: string }[]).map((m) => m.meter_id);
    };
    assert.deepEqual(await ids(''), ['api-1', 'api-se']);
    assert.deepEqual(await ids('?group=feeder-2'), ['api-se']);
    assert.deepEqual(await ids('?zone=FI'), ['api-1']);
    assert.deepEqual(await ids('', opFi), ['api-1']);
    assert.deepEqual(await ids('?zone=SE_4', opFi), []);
    assert.equal((await api.json('/api/v1/admin/meters', { key: api.readerFi })).status, 403, 'readers may not list');
  });

  it('updates a validity and closes it; an exchange opens the next; zone limits hold', async () => {
    const patched = await api.json('/api/v1/admin/meters/api-1', {
      method: 'PATCH',
      body: { annual_consumption_kwh: '5000', interval: 'PT30M' },
      key: adminFi,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body['annual_consumption_kwh'], '5000');
    assert.equal(patched.body['interval'], 'PT30M');
    assert.equal(patched.body['profile'], 'H0', 'fields not given are kept');
    const forbidden = await api.json('/api/v1/admin/meters/api-se', {
      method: 'PATCH',
      body: { profile: 'G0' },
      key: adminFi,
    });
    assert.equal(forbidden.status, 403);
    const moveOut = await api.json('/api/v1/admin/meters/api-1', {
      method: 'PATCH',
      body: { zone: 'SE_4' },
      key: adminFi,
    });
    assert.equal(moveOut.status, 403, 'a FI admin cannot move a meter out of its zones');
    const missing = await api.json('/api/v1/admin/meters/nobody', { method: 'PATCH', body: { profile: 'G0' } });
    assert.equal(missing.status, 404);

    const exchanged = await api.json('/api/v1/admin/meters/api-1/exchange', {
      method: 'POST',
      body: { at: '2026-06-01T02:00:00+02:00', profile: 'G1', register_type: 'net' },
    });
    assert.equal(exchanged.status, 201, JSON.stringify(exchanged.body));
    const { closed, opened } = exchanged.body as { closed: Record<string, unknown>; opened: Record<string, unknown> };
    assert.equal(closed['valid_to'], '2026-06-01T00:00:00.000Z');
    assert.equal(opened['valid_from'], '2026-06-01T00:00:00.000Z');
    assert.equal(opened['profile'], 'G1');
    assert.equal(opened['interval'], 'PT30M', 'the exchange keeps what is not given');
    const twice = await api.json('/api/v1/admin/meters/api-1/exchange', {
      method: 'POST',
      body: { at: '2026-06-01T00:00:00Z' },
    });
    assert.equal(twice.status, 404, 'no validity is open before its own start');
    const backwards = await api.json(
      `/api/v1/admin/meters/api-1?valid_from=${encodeURIComponent('2026-06-01T00:00:00Z')}`,
      { method: 'PATCH', body: { valid_to: '2026-05-01T00:00:00Z' } },
    );
    assert.equal(backwards.status, 400, 'valid_to before valid_from');
    const history = await api.json('/api/v1/admin/meters?meter_id=api-1');
    assert.deepEqual(
      (history.body['meters'] as { valid_from: string | null; valid_to: string | null }[]).map((m) => [
        m.valid_from,
        m.valid_to,
      ]),
      [
        [null, '2026-06-01T00:00:00.000Z'],
        ['2026-06-01T00:00:00.000Z', null],
      ],
    );
    const closeLast = await api.json(
      `/api/v1/admin/meters/api-1?valid_from=${encodeURIComponent('2026-06-01T00:00:00Z')}`,
      { method: 'PATCH', body: { valid_to: '2027-01-01T00:00:00Z' } },
    );
    assert.equal(closeLast.status, 200);
    assert.equal(closeLast.body['valid_to'], '2027-01-01T00:00:00.000Z');
    const overlapping = await api.json('/api/v1/admin/meters', {
      method: 'POST',
      body: { ...METER, valid_from: '2026-09-01T00:00:00Z' },
    });
    assert.equal(overlapping.status, 409, 'a validity inside another of the same meter');
    const next = await api.json('/api/v1/admin/meters', {
      method: 'POST',
      body: { ...METER, valid_from: '2027-01-01T00:00:00Z' },
    });
    assert.equal(next.status, 201, 'the next validity, adjacent to the closed one');
    const reopenFirst = await api.json('/api/v1/admin/meters/api-1?valid_from=', {
      method: 'PATCH',
      body: { valid_to: null },
    });
    assert.equal(reopenFirst.status, 400, 'valid_from must be an instant');
  });
});
