import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { insertMeter, resolveMeter } from '../../src/meters/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, interval, quarters } from '../helpers/meters.ts';
import { meterPipelineSettled, runMeterPipeline } from '../helpers/quality.ts';

describe('days a meter sent nothing for (embedded log, PGlite)', () => {
  it('are estimated once the watermark has passed them, from the profile without history', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    for (const id of ['SILENT', 'TALKER'])
      await insertMeter(
        infra.db,
        resolveMeter(
          {
            meter_id: id,
            zone: 'DE_LU',
            group: 'g',
            register_type: 'import',
            interval: 'PT15M',
            annual_consumption_kwh: '4000',
            profile: 'H0',
          } as Parameters<typeof resolveMeter>[0],
          infra.reference,
        ),
      );
    // The silent meter's partition holds the watermark back until it counts as idle.
    const pipeline = await runMeterPipeline(infra, { ...DEFAULT_METER_SETTINGS, idlePartitionMs: 1000 });
    t.after(() => pipeline.stop());
    // Berlin 2026-06-01 (both meters) and 2026-06-02 (only TALKER), then the next hour.
    const first = quarters('2026-05-31T22:00:00Z', '2026-06-01T22:00:00Z');
    const second = quarters('2026-06-01T22:00:00Z', '2026-06-02T23:00:00Z');
    await produceValues(infra.log, rawMetersTopic, [
      ...first.flatMap((ts, i) => [interval('SILENT', ts, i % 2 ? '0.1' : '0.11'), interval('TALKER', ts, '0.2')]),
      ...second.map((ts, i) => interval('TALKER', ts, i % 2 ? '0.2' : '0.21')),
    ]);
    await meterPipelineSettled(infra);
    // The sweep runs every 200 ms here: wait until it has queued and the queue is empty again.
    const deadline = Date.now() + 60_000;
    let rows: { quality: string; method: string; n: number }[] = [];
    while (Date.now() < deadline) {
      await meterPipelineSettled(infra);
      rows = (
        await infra.db.query<{ quality: string; method: string; n: number }>(
          `SELECT quality, method, count(*)::integer AS n FROM meter_validated
           WHERE meter_id = 'SILENT' AND local_day = '2026-06-02' GROUP BY 1, 2`,
        )
      ).rows;
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(rows, [{ quality: 'estimated', method: 'profile', n: 96 }]);
    await meterPipelineSettled(infra);
    const settled = await infra.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM meter_settlement WHERE meter_id = 'SILENT' AND local_day = '2026-06-02'`,
    );
    assert.equal(settled.rows[0]?.n, 96);
  });
});
