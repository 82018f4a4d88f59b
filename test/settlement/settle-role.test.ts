import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseDecimal } from '../../src/common/index.ts';
import { insertMeter, resolveMeter } from '../../src/meters/index.ts';
import { settleRole } from '../../src/settlement/index.ts';
import { enqueueMeterWork } from '../../src/storage/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { quarters } from '../helpers/meters.ts';

/** Berlin's 2026-06-01 (96 quarters), validated at 0.5 kWh each. */
const DAY = { start: '2026-05-31T22:00:00Z', end: '2026-06-01T22:00:00Z' };
const SLOTS = quarters(DAY.start, DAY.end);

describe('settle role: the wait for prices (PGlite)', () => {
  it('holds an unpriced day for the wait, then writes it pending, and restates it when prices arrive', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await insertMeter(
      infra.db,
      resolveMeter(
        {
          meter_id: 'W1',
          zone: 'LU', // a control area: priced in its bidding zone DE_LU
          group: 'g',
          register_type: 'import',
          interval: 'PT15M',
          annual_consumption_kwh: '3000',
          profile: 'H0',
        } as Parameters<typeof resolveMeter>[0],
        infra.reference,
      ),
    );
    await infra.db.query(
      `INSERT INTO meter_validated (meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw)
       SELECT 'W1', 'energy_import', t, 900, '2026-06-01', 0.5, 'measured', 'measured', 0.5
       FROM unnest($1::timestamptz[]) AS t`,
      [SLOTS],
    );
    const item = {
      meterId: 'W1',
      quantity: 'energy_import' as const,
      localDay: '2026-06-01',
      timeZone: 'Europe/Berlin',
      dayStart: DAY.start,
      dayEnd: DAY.end,
    };
    await enqueueMeterWork(infra.db, 'settle', [item]);
    const waitMs = 1500;
    const started = Date.now();
    const components = settleRole({ ...infra, waitMs, idleMs: 50 });
    for (const c of components) await c.start();
    t.after(async () => {
      for (const c of components) await c.stop();
    });
    const count = async (status?: string): Promise<number> =>
      (
        await infra.db.query<{ n: number }>(
          `SELECT count(*)::integer AS n FROM meter_settlement WHERE meter_id = 'W1' AND ($1::text IS NULL OR status = $1)`,
          [status ?? null],
        )
      ).rows[0]?.n ?? -1;
    const until = async (what: () => Promise<boolean>, label: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!(await what())) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${label}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await count(), 0, 'nothing written during the wait');
    await until(async () => (await count('pending')) === 96, '96 pending rows');
    assert.ok(Date.now() - started >= waitMs, 'not before the wait is over');
    const zone = await infra.db.query<{ z: string }>(`SELECT DISTINCT bidding_zone AS z FROM meter_settlement`);
    assert.deepEqual(zone.rows, [{ z: 'DE_LU' }]);

    for (const [metric, qualifier, unit, value] of [
      ['price_day_ahead', 'sequence=1', 'EUR/MWh', 85.42],
      ['carbon_intensity_consumption', 'factors=lifecycle', 'gCO2eq/kWh', 380.5],
      ['carbon_intensity_consumption', 'factors=direct', 'gCO2eq/kWh', 301.25],
    ] as const)
      await infra.db.query(
        `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
         SELECT 'DE_LU', $1, $2, s, $4, $3, 'entsoe' FROM unnest($5::timestamptz[]) AS s`,
        [metric, qualifier, unit, value, SLOTS],
      );
    await until(async () => (await count('final')) === 96, '96 final rows');
    const sums = await infra.db.query<{ energy: string; cost: string; el: string; ed: string; revs: number }>(
      `SELECT sum(energy_kwh)::text AS energy, sum(cost)::text AS cost, sum(emissions_lifecycle_g)::text AS el,
         sum(emissions_direct_g)::text AS ed, (SELECT count(*)::integer FROM meter_settlement_revisions) AS revs
       FROM meter_settlement`,
    );
    // 96 × 0.5 kWh = 48 kWh; × 85.42 EUR/MWh = 4.10016 EUR; × 380.5 g = 18264 g; × 301.25 g = 14460 g.
    const r = sums.rows[0];
    const exact = (x: string | undefined): string | undefined => (x === undefined ? x : normaliseDecimal(x));
    assert.deepEqual(
      [exact(r?.energy), exact(r?.cost), exact(r?.el), exact(r?.ed), r?.revs],
      ['48', '4.10016', '18264', '14460', 96],
    );
  });
});
