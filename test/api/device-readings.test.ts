import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/api/index.ts';
import { ensurePartitions, listMeterReads } from '../../src/storage/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';

describe('device readings: SCADA and PMU values as stored, meters’ instant values scoped and audited', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
    await ensurePartitions(
      api.db,
      'device_readings',
      new Date('2026-10-24T00:00:00Z'),
      new Date('2026-10-25T00:00:00Z'),
    );
    await api.db.query(
      `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh, profile)
       VALUES ('sm-1', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 'PT15M', 3500, 'H0')`,
    );
    await api.db.query(
      `INSERT INTO device_readings (device_id, kind, quantity, ts, value, recorded_at, log_topic, log_partition, log_offset)
       VALUES ('pmu-7', 'pmu', 'frequency', '2026-10-24T10:00:00.020Z', 49.987, NULL, 'raw.meters', 0, 1),
              ('pmu-7', 'pmu', 'frequency', '2026-10-24T10:00:00.040Z', 50.001, NULL, 'raw.meters', 0, 2),
              ('pmu-7', 'pmu', 'voltage', '2026-10-24T10:00:00.020Z', 230.5, NULL, 'raw.meters', 0, 3),
              ('sm-1', 'smart_meter', 'power', '2026-10-24T10:00:00Z', 1.25, '2026-10-24T10:00:05Z', 'raw.meters', 1, 1)`,
    );
  });
  after(async () => {
    await api.close();
  });

  it('answers a PMU’s values of one quantity in order, exactly, to a key without limits', async () => {
    const r = await api.request('/api/v1/devices/pmu-7/readings?quantity=frequency&from=2026-10-24&to=2026-10-25');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      device_id: 'pmu-7',
      kind: 'pmu',
      quantity: 'frequency',
      quantities: ['frequency', 'voltage'],
      points: [
        { ts: '2026-10-24T10:00:00.020Z', value: '49.987', recorded_at: null },
        { ts: '2026-10-24T10:00:00.040Z', value: '50.001', recorded_at: null },
      ],
    });
    const unknown = await api.request('/api/v1/devices/nope/readings?quantity=frequency&from=2026-10-24&to=2026-10-25');
    assert.equal(unknown.status, 404);
  });

  it('a smart meter’s instant values follow its group and are audited; SCADA/PMU data is for keys without limits', async () => {
    const other = await createApiKey(api.db, { name: 'feeder-b', role: 'reader', zones: null, groups: ['feeder-b'] });
    const own = await createApiKey(api.db, { name: 'feeder-a', role: 'reader', zones: null, groups: ['feeder-a'] });
    const path = '/api/v1/devices/sm-1/readings?quantity=power&from=2026-10-24&to=2026-10-25';
    assert.equal((await api.request(path, { key: other.key })).status, 404);
    assert.equal(
      (
        await api.request('/api/v1/devices/pmu-7/readings?quantity=frequency&from=2026-10-24&to=2026-10-25', {
          key: own.key,
        })
      ).status,
      404,
    );
    const r = await api.request(path, { key: own.key });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { points: unknown[] };
    assert.deepEqual(body.points, [{ ts: '2026-10-24T10:00:00Z', value: '1.25', recorded_at: '2026-10-24T10:00:05Z' }]);
    const reads = await listMeterReads(api.db, { meterId: 'sm-1', limit: 10 });
    assert.deepEqual(
      reads.map((x) => [x.principal, x.path, x.detail]),
      [[`key:${own.record.id}`, 'api', 'power']],
    );
    assert.equal((await api.request(path, { key: ADMIN })).status, 200);
  });
});
