import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replayClock } from '../../src/api/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { backtest, forecastCarbon, forecastInputs } from '../../src/forecast/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { CarbonState, carbonChunks, observationsFromEntsoe } from '../../src/processing/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { migrate, openDb, writeObservations } from '../../src/storage/index.ts';
import { DAY_MS, SLOT_MS } from '../../src/time/index.ts';
import { reference } from '../helpers/api.ts';
import { DATA } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/services.ts';

/** The documents the offline demo replays (`data/replay/entsoe`), processed as the pipeline does. */
function replayChunks(): GridSeriesChunk[] {
  const dir = join(DATA, 'replay', 'entsoe');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .flatMap(
      (f) =>
        observationsFromEntsoe(parseEntsoeDocument(readFileSync(join(dir, f))), { reference, fallbackDocumentId: f })
          .chunks,
    );
}

describe('forecast against actual on the bundled replay documents', () => {
  let db: Db;
  let remove: () => Promise<void>;
  const chunks = replayChunks();
  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    db = await openDb({ dataDir: dir.path, logger: silentLogger() });
    await migrate(db);
    const state = new CarbonState(reference);
    for (const c of chunks) state.add(c);
    await writeObservations(db, [...chunks, ...carbonChunks(state.compute(), 'carbon')]);
  });
  after(async () => {
    await db.close();
    await remove();
  });

  it("the demo clock: the end of the newest slot every production type of the newest day's zones reached", async () => {
    const generation = chunks.filter((c) => c.metric === 'generation_actual');
    const lastSlot = (cs: readonly GridSeriesChunk[]) =>
      Math.max(...cs.flatMap((c) => c.points.map((p) => Date.parse(p.t))));
    const newest = lastSlot(generation);
    const zones = [...new Set(generation.map((c) => c.zone))].filter(
      (z) => lastSlot(generation.filter((c) => c.zone === z)) > newest - DAY_MS,
    );
    let complete = Infinity;
    for (const zone of zones) {
      const ofZone = generation.filter((c) => c.zone === zone);
      const zoneNewest = lastSlot(ofZone);
      for (const type of new Set(ofZone.map((c) => c.productionType))) {
        const last = lastSlot(ofZone.filter((c) => c.productionType === type));
        if (last >= zoneNewest - DAY_MS) complete = Math.min(complete, last);
      }
    }
    const clock = await replayClock(db).now();
    assert.deepEqual(clock, { mode: 'demo', now: complete + SLOT_MS, basis: 'latest complete replayed slot' });
  });

  it('each zone with actual generation: figures by horizon, forecast and baseline, from earlier data only', async (t) => {
    const zones = [...new Set(chunks.filter((c) => c.metric === 'generation_actual').map((c) => c.zone))].sort();
    assert.deepEqual(zones, ['FI', 'LU', 'SE_4']);
    let compared = 0;
    for (const zone of zones) {
      const slots = chunks
        .filter((c) => c.zone === zone && c.metric === 'generation_actual')
        .flatMap((c) => c.points.map((p) => Date.parse(p.t)));
      const from = Math.min(...slots) - DAY_MS;
      const to = Math.max(...slots) + SLOT_MS;
      const result = await backtest(db, reference, { zone, from, to });
      compared += result.pairs.length;
      for (const row of result.rows) {
        t.diagnostic(
          `${zone} ${row.horizon}: n=${row.n} forecast MAE ${row.mae.toFixed(2)} sMAPE ${row.smape.toFixed(2)}% | ` +
            `baseline (same slot yesterday) MAE ${row.baseline.mae.toFixed(2)} sMAPE ${row.baseline.smape.toFixed(2)}%`,
        );
      }
      if (result.rows.length === 0) t.diagnostic(`${zone}: nothing to compare (${result.issues.length} issue times)`);
      // Earlier data only: doubling every actual of the issue time or later changes no forecast.
      const area = reference.zone(zone);
      for (const madeAt of result.issues) {
        const values = await forecastInputs(db, { zone, timeZone: area.timeZone, madeAt, to: madeAt + 2 * DAY_MS });
        const all = [
          ...values,
          ...chunks
            .filter((c) => c.zone === zone && c.metric === 'generation_actual')
            .flatMap((c) =>
              c.points
                .filter((p) => Date.parse(p.t) >= madeAt)
                .map((p) => ({
                  metric: c.metric,
                  productionType: c.productionType,
                  slot: Date.parse(p.t),
                  value: p.v * 2,
                  issuedAt: null,
                })),
            ),
        ];
        const request = { zone: area, madeAt, from: madeAt, to: madeAt + 2 * DAY_MS };
        assert.deepEqual(
          forecastCarbon({ ...request, values: all }, reference),
          forecastCarbon({ ...request, values }, reference),
        );
        const fromBacktest = result.pairs.filter((p) => p.madeAt === madeAt);
        const direct = new Map(forecastCarbon({ ...request, values }, reference).map((s) => [s.start, s.value]));
        for (const p of fromBacktest) assert.equal(p.forecast, direct.get(p.slot));
      }
    }
    assert.ok(compared > 0, 'the bundled documents allow some comparison');
  });
});
