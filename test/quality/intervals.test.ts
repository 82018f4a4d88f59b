import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { insertMeter, resolveMeter } from '../../src/meters/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, interval } from '../helpers/meters.ts';
import { meterPipelineSettled, runMeterPipeline } from '../helpers/quality.ts';

/** Berlin's 2026-06-01 in UTC, and the steps of it. */
const START = Date.parse('2026-05-31T22:00:00Z');
const steps = (ms: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => new Date(START + i * ms).toISOString().replace('.000Z', 'Z'));

describe('meters reporting every 5 and every 60 minutes (embedded log, PGlite)', () => {
  it('validate at their own interval and settle per 15-minute period', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    for (const [id, every] of [
      ['HOURLY', 'PT60M'],
      ['FIVE', 'PT5M'],
    ] as const)
      await insertMeter(
        infra.db,
        resolveMeter(
          {
            meter_id: id,
            zone: 'DE_LU',
            group: 'g',
            register_type: 'import',
            interval: every,
            annual_consumption_kwh: '3000',
            profile: 'H0',
          } as Parameters<typeof resolveMeter>[0],
          infra.reference,
        ),
      );
    await infra.db.query(
      `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
       SELECT 'DE_LU', m, q, s, v, u, 'entsoe'
       FROM generate_series($1::timestamptz, $1::timestamptz + interval '23 hours 45 minutes', interval '15 minutes') s,
         (VALUES ('price_day_ahead', 'sequence=1', 80, 'EUR/MWh'),
                 ('carbon_intensity_consumption', 'factors=lifecycle', 400, 'gCO2eq/kWh'),
                 ('carbon_intensity_consumption', 'factors=direct', 300, 'gCO2eq/kWh')) AS x(m, q, v, u)`,
      [new Date(START).toISOString()],
    );
    const pipeline = await runMeterPipeline(infra, DEFAULT_METER_SETTINGS);
    t.after(() => pipeline.stop());
    // HOURLY: 0.5 and 0.6 kWh in turn (equal values 8 hours in a row would be `frozen`), and 2 kWh from 18:00 to
    // 19:00 local (2 kW for an hour: cooking, a heater). The H0 peak (213.7 W per 1 000 kWh/a) held for an hour at
    // 3 000 kWh/a is 0.6411 kWh: the high limit is 6.411 kWh, not a quarter hour's 1.603.
    // FIVE: 0.04 and 0.05 kWh in turn every 5 minutes. Both send the next day's first hour (the watermark).
    await produceValues(infra.log, rawMetersTopic, [
      ...steps(3_600_000, 25).map((ts, i) =>
        interval('HOURLY', ts, i === 18 ? '2' : i % 2 === 0 ? '0.5' : '0.6', { interval: 'PT60M' }),
      ),
      ...steps(300_000, 300).map((ts, i) => interval('FIVE', ts, i % 2 === 0 ? '0.04' : '0.05', { interval: 'PT5M' })),
    ]);
    await meterPipelineSettled(infra);
    const { rows } = await infra.db.query<{ meter_id: string; n: number; measured: number; failed: number }>(
      `SELECT meter_id, count(*)::integer AS n, (count(*) FILTER (WHERE quality = 'measured'))::integer AS measured,
         (count(*) FILTER (WHERE rules <> '{}'))::integer AS failed
       FROM meter_validated GROUP BY meter_id ORDER BY meter_id`,
    );
    assert.deepEqual(rows, [
      { meter_id: 'FIVE', n: 288, measured: 288, failed: 0 },
      { meter_id: 'HOURLY', n: 24, measured: 24, failed: 0 },
    ]);
    const settled = await infra.db.query<{ meter_id: string; n: number; energy: string; cost: string }>(
      `SELECT meter_id, count(*)::integer AS n, trim_scale(sum(energy_kwh))::text AS energy,
         trim_scale(sum(cost))::text AS cost
       FROM meter_settlement WHERE status = 'final' GROUP BY meter_id ORDER BY meter_id`,
    );
    // FIVE: 96 periods of three values, 0.04 + 0.05 + 0.04 = 0.13 and 0.05 + 0.04 + 0.05 = 0.14 in turn: 48 × 0.13 +
    // 48 × 0.14 = 12.96 kWh, × 80 EUR/MWh = 1.0368 EUR. HOURLY: 11 × 0.5 + 2 + 12 × 0.6 = 14.7 kWh, each hour shared
    // by its four periods (× 0.25), 1.176 EUR.
    assert.deepEqual(settled.rows, [
      { meter_id: 'FIVE', n: 96, energy: '12.96', cost: '1.0368' },
      { meter_id: 'HOURLY', n: 96, energy: '14.7', cost: '1.176' },
    ]);
  });
});
