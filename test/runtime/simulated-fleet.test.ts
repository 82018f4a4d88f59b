import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeterSettings } from '../../src/config/index.ts';
import { listMeters, metersRole } from '../../src/meters/index.ts';
import { simulatedFleet } from '../../src/runtime/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, metersDrained } from '../helpers/meters.ts';

const SETTINGS: MeterSettings = { ...DEFAULT_METER_SETTINGS, simulatedMeters: 20 };

describe('the embedded default’s simulated fleet', () => {
  it('registers labelled simulated meters and feeds two days of their quarter hours through the meters role', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    const role = metersRole({ ...infra, settings: SETTINGS });
    const fleet = simulatedFleet(infra, 20);
    for (const c of [...role, fleet]) await c.start();
    t.after(async () => {
      for (const c of [fleet, ...role]) await c.stop({ graceMs: 5000 });
    });
    const deadline = Date.now() + 60_000;
    let meters = await listMeters(infra.db);
    while (meters.length < 20) {
      assert.ok(Date.now() < deadline, `only ${meters.length} meters registered`);
      await new Promise((r) => setTimeout(r, 100));
      meters = await listMeters(infra.db);
    }
    assert.ok(meters.every((m) => m.simulated && m.meter_id.startsWith('sim-') && m.group.startsWith('sim-')));
    // The first round sends everything from two days ago to the last whole quarter hour.
    let stored = 0;
    const quarterNow = Math.floor(Date.now() / 900_000) * 900_000;
    const expected = 20 * ((quarterNow - Math.floor((Date.now() - 2 * 86_400_000) / 900_000) * 900_000) / 900_000);
    while (stored < expected - 20) {
      assert.ok(Date.now() < deadline, `only ${stored} of about ${expected} quarters stored`);
      await new Promise((r) => setTimeout(r, 200));
      await metersDrained(infra.log, infra.db);
      const { rows } = await infra.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM meter_intervals`);
      stored = rows[0]?.n ?? 0;
    }
    const { rows } = await infra.db.query<{ meters: number; last: Date }>(
      `SELECT count(DISTINCT meter_id)::int AS meters, max(ts) AS last FROM meter_intervals`,
    );
    assert.equal(rows[0]?.meters, 20);
    const row = rows.at(0);
    assert.ok(row !== undefined && row.last.getTime() >= quarterNow - 2 * 900_000, JSON.stringify(row));
  });
});
