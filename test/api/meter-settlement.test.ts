import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import type { Db } from '../../src/storage/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';
import { insertRegistryMeter } from './meter-fixtures.ts';

/** One settlement period of meter `meter` (local day 2026-03-10, Berlin, EUR). */
async function insertSettlement(
  db: Db,
  r: {
    meter: string;
    group: string;
    period: string;
    energy: string | null;
    cost: string | null;
    lifecycle: string | null;
    direct: string | null;
    status: 'final' | 'pending';
    quality?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO meter_settlement (meter_id, quantity, period, local_day, time_zone, group_id, bidding_zone, energy_kwh,
       quality, price, price_unit, currency, cost, intensity_lifecycle, intensity_direct, emissions_lifecycle_g,
       emissions_direct_g, status)
     VALUES ($1, 'energy_import', $2, '2026-03-10', 'Europe/Berlin', $3, 'DE_LU', $4, $5, 50, 'EUR/MWh',
       CASE WHEN $6::numeric IS NULL THEN NULL ELSE 'EUR' END, $6, 125, 75, $7, $8, $9)`,
    [r.meter, r.period, r.group, r.energy, r.quality ?? 'measured', r.cost, r.lifecycle, r.direct, r.status],
  );
}

/**
 * Meter vs-1 (group feed-s, Berlin): three final quarters of 2026-03-10 00:00–00:45 UTC of 0.1 kWh costing
 * 0.005 EUR, 12.5 g lifecycle and 7.5 g direct each, and a pending quarter at 01:00 of 0.2 kWh without price.
 * vs-2 (feed-s too) has one final quarter at 00:00 of 1 kWh, 0.05 EUR; vs-3 is of feed-t.
 */
async function seed(db: Db): Promise<void> {
  await insertRegistryMeter(db, { id: 'vs-1', group: 'feed-s' });
  await insertRegistryMeter(db, { id: 'vs-2', group: 'feed-s' });
  await insertRegistryMeter(db, { id: 'vs-3', group: 'feed-t' });
  for (const minute of ['00', '15', '30'])
    await insertSettlement(db, {
      meter: 'vs-1',
      group: 'feed-s',
      period: `2026-03-10T00:${minute}:00Z`,
      energy: '0.1',
      cost: '0.005',
      lifecycle: '12.5',
      direct: '7.5',
      status: 'final',
      ...(minute === '30' ? { quality: 'estimated' } : {}),
    });
  await insertSettlement(db, {
    meter: 'vs-1',
    group: 'feed-s',
    period: '2026-03-10T01:00:00Z',
    energy: '0.2',
    cost: null,
    lifecycle: null,
    direct: null,
    status: 'pending',
  });
  await insertSettlement(db, {
    meter: 'vs-2',
    group: 'feed-s',
    period: '2026-03-10T00:00:00Z',
    energy: '1',
    cost: '0.05',
    lifecycle: '125',
    direct: '75',
    status: 'final',
  });
}

const quality = (measured: number, estimated = 0) => ({ measured, estimated, substituted: 0, missing: 0 });

describe('settlement API: exact sums per window, units, half-even totals, CSV', () => {
  let api: TestApi;
  let feedS: string;
  let feedT: string;
  before(async () => {
    api = await startTestApi();
    await seed(api.db);
    feedS = (await createApiKey(api.db, { name: 'feed s', role: 'reader', groups: ['feed-s'] })).key;
    feedT = (await createApiKey(api.db, { name: 'feed t', role: 'reader', groups: ['feed-t'] })).key;
  });
  after(async () => {
    await api.close();
  });

  const hours = 'from=2026-03-10T00:00:00Z&to=2026-03-10T02:00:00Z&resolution=PT1H';

  it('sums a meter per UTC hour exactly; totals rounded half to even (0.015 EUR → 0.02, 37.5 g → 38, 22.5 g → 22)', async () => {
    const { status, body } = await api.json(`/api/v1/meters/vs-1/settlement?${hours}`, { key: feedS });
    assert.equal(status, 200);
    assert.deepEqual(body, {
      meter_id: 'vs-1',
      quantity: 'energy_import',
      resolution: 'PT1H',
      time_zone: 'Europe/Berlin',
      units: { energy: 'kWh', cost: 'EUR', emissions: 'gCO2eq' },
      status: 'pending',
      totals: { energy_kwh: '0.5', cost: '0.02', emissions_lifecycle_g: '38', emissions_direct_g: '22' },
      exact_totals: { energy_kwh: '0.5', cost: '0.015', emissions_lifecycle_g: '37.5', emissions_direct_g: '22.5' },
      rows: [
        {
          start: '2026-03-10T00:00:00Z',
          end: '2026-03-10T01:00:00Z',
          energy_kwh: '0.3',
          cost: '0.015',
          emissions_lifecycle_g: '37.5',
          emissions_direct_g: '22.5',
          status: 'final',
          periods: 3,
          quality: quality(2, 1),
        },
        {
          start: '2026-03-10T01:00:00Z',
          end: '2026-03-10T02:00:00Z',
          energy_kwh: '0.2',
          cost: null,
          emissions_lifecycle_g: null,
          emissions_direct_g: null,
          status: 'pending',
          periods: 1,
          quality: quality(1),
        },
      ],
    });
  });

  it("sums P1D and P1M on the meter's local calendar (bare dates: Berlin midnight)", async () => {
    const day = await api.json('/api/v1/meters/vs-1/settlement?from=2026-03-10&to=2026-03-12&resolution=P1D');
    assert.equal(day.status, 200);
    const rows = day.body['rows'] as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r['start'], r['end'], r['energy_kwh'], r['cost'], r['status'], r['periods']]),
      [['2026-03-09T23:00:00Z', '2026-03-10T23:00:00Z', '0.5', '0.015', 'pending', 4]],
    );
    const month = await api.json('/api/v1/meters/vs-1/settlement?from=2026-03-01&to=2026-04-01&resolution=P1M');
    assert.deepEqual(
      (month.body['rows'] as Record<string, unknown>[]).map((r) => [r['start'], r['end'], r['energy_kwh']]),
      [['2026-02-28T23:00:00Z', '2026-03-31T22:00:00Z', '0.5']],
    );
    // Quarters: every period its own row; a range off the window edges is refused.
    const quarters = await api.json(
      '/api/v1/meters/vs-1/settlement?from=2026-03-10T00:00:00Z&to=2026-03-10T00:30:00Z&resolution=PT15M',
    );
    assert.equal((quarters.body['rows'] as unknown[]).length, 2);
    assert.equal(quarters.body['status'], 'final');
    const off = await api.json(
      '/api/v1/meters/vs-1/settlement?from=2026-03-10T00:10:00Z&to=2026-03-10T02:00:00Z&resolution=PT1H',
    );
    assert.equal(off.status, 400);
    assert.equal(off.body['param'], 'from');
  });

  it("sums a group's meters in SQL numerics", async () => {
    const { status, body } = await api.json(`/api/v1/groups/feed-s/settlement?${hours}`, { key: feedS });
    assert.equal(status, 200);
    assert.equal(body['group'], 'feed-s');
    const rows = body['rows'] as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r['energy_kwh'], r['cost'], r['emissions_lifecycle_g'], r['periods']]),
      [
        ['1.3', '0.065', '162.5', 4],
        ['0.2', null, null, 1],
      ],
    );
    assert.deepEqual(body['exact_totals'], {
      energy_kwh: '1.5',
      cost: '0.065',
      emissions_lifecycle_g: '162.5',
      emissions_direct_g: '97.5',
    });
    // 0.065 → 0.06 and 162.5 → 162, 97.5 → 98: ties to the even neighbour.
    assert.deepEqual(body['totals'], {
      energy_kwh: '1.5',
      cost: '0.06',
      emissions_lifecycle_g: '162',
      emissions_direct_g: '98',
    });
  });

  it('answers the exact unrounded rows as text/csv', async () => {
    const r = await api.request(`/api/v1/meters/vs-1/settlement?${hours}&format=csv`, { key: feedS });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(
      await r.text(),
      'start,end,energy_kwh,cost,currency,emissions_lifecycle_g,emissions_direct_g,status,periods\n' +
        '2026-03-10T00:00:00Z,2026-03-10T01:00:00Z,0.3,0.015,EUR,37.5,22.5,final,3\n' +
        '2026-03-10T01:00:00Z,2026-03-10T02:00:00Z,0.2,,,,,pending,1\n',
    );
    const group = await api.request(`/api/v1/groups/feed-s/settlement?${hours}&format=csv`, { key: feedS });
    assert.equal(group.status, 200);
    assert.equal((await group.text()).split('\n').length, 4);
  });

  it('scopes meters and groups like the readings; an empty range has zero totals and no currency', async () => {
    assert.equal((await api.request(`/api/v1/meters/vs-1/settlement?${hours}`, { key: feedT })).status, 404);
    assert.equal((await api.request(`/api/v1/groups/feed-s/settlement?${hours}`, { key: feedT })).status, 404);
    assert.equal((await api.request(`/api/v1/meters/vs-1/settlement?${hours}&format=csv`, { key: feedT })).status, 404);
    const empty = await api.json(`/api/v1/meters/vs-3/settlement?${hours}`, { key: feedT });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body['units'], { energy: 'kWh', cost: null, emissions: 'gCO2eq' });
    assert.deepEqual(empty.body['totals'], {
      energy_kwh: '0',
      cost: '0',
      emissions_lifecycle_g: '0',
      emissions_direct_g: '0',
    });
    assert.equal(empty.body['status'], 'final');
  });
});
