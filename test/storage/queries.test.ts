import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Db } from '../../src/storage/index.ts';
import {
  StorageError,
  completeness,
  generationMix,
  latestSlots,
  querySeries,
  writeObservations,
  zoneCoverage,
} from '../../src/storage/index.ts';
import { DB_KINDS, chunk, openTestDb } from './helpers.ts';

const D = '2025-10-21T00:00:00Z';

/** Hand-made data whose aggregates are easy to compute by hand (see each test). */
async function seed(db: Db): Promise<void> {
  const result = await writeObservations(db, [
    // DE_LU, 00:00–01:45: solar 10…80 MW, wind 100 MW, pumped storage −5 MW.
    chunk({ zone: 'DE_LU', productionType: 'B16', start: D, points: 8, value: (i) => 10 * (i + 1) }),
    chunk({ zone: 'DE_LU', productionType: 'B19', start: D, points: 8, value: () => 100 }),
    chunk({ zone: 'DE_LU', productionType: 'B10', start: D, points: 8, value: () => -5 }),
    // DE_LU energy 1…8 MWh per quarter hour (extensive).
    chunk({
      zone: 'DE_LU',
      metric: 'load_actual',
      productionType: '',
      unit: 'MWh',
      start: D,
      points: 8,
      value: (i) => i + 1,
    }),
    // FI: solar a whole day plus 10 slots of the next, wind half a day.
    chunk({ zone: 'FI', productionType: 'B16', start: D, points: 96 + 10, value: () => 1 }),
    chunk({ zone: 'FI', productionType: 'B19', start: D, points: 48, value: () => 2 }),
    // Price around the end of summer time in Berlin: 23:45 local on the 25th, then 00:00 local on the 26th.
    chunk({
      zone: 'DE_LU',
      metric: 'price_day_ahead',
      productionType: '',
      unit: 'EUR/MWh',
      start: '2025-10-25T21:45:00Z',
      points: 2,
      value: (i) => (i === 0 ? 20 : 10),
    }),
  ]);
  assert.equal(result.rejected.length, 0);
}

for (const kind of DB_KINDS) {
  describe(`queries: ${kind}`, () => {
    it('aggregates intensive values by average and extensive ones by sum, hourly and daily', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const range = { zone: 'DE_LU', from: D, to: '2025-10-22T00:00:00Z' } as const;
      const solar = await querySeries(h.db, {
        ...range,
        metric: 'generation_actual',
        productionTypes: ['B16'],
        resolution: 'PT1H',
      });
      assert.equal(solar.length, 1);
      assert.deepEqual(solar[0]?.aggregation, 'avg');
      assert.deepEqual(solar[0].points, [
        { ts: '2025-10-21T00:00:00Z', value: 25, slots: 4, expectedSlots: 4, flags: [] },
        { ts: '2025-10-21T01:00:00Z', value: 65, slots: 4, expectedSlots: 4, flags: [] },
      ]);
      const energy = await querySeries(h.db, { ...range, metric: 'load_actual', resolution: 'PT1H' });
      assert.equal(energy[0]?.aggregation, 'sum');
      assert.deepEqual(
        energy[0].points.map((p) => p.value),
        [10, 26],
      );
      const daily = await querySeries(h.db, { ...range, metric: 'load_actual', resolution: 'P1D' });
      assert.deepEqual(daily[0]?.points, [
        { ts: '2025-10-21T00:00:00Z', value: 36, slots: 8, expectedSlots: 96, flags: [] },
      ]);
      const both = await querySeries(h.db, { ...range, metric: 'generation_actual', productionTypes: ['B16', 'B19'] });
      assert.deepEqual(
        both.map((s) => [s.productionType, s.points.length]),
        [
          ['B16', 8],
          ['B19', 8],
        ],
      );
    });

    it('P1D follows local days in a time zone, 25 hours at the end of summer time', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const q = {
        zone: 'DE_LU',
        metric: 'price_day_ahead',
        from: '2025-10-24T00:00:00Z',
        to: '2025-10-28T00:00:00Z',
        resolution: 'P1D',
      } as const;
      const berlin = await querySeries(h.db, { ...q, timeZone: 'Europe/Berlin' });
      assert.deepEqual(berlin[0]?.points, [
        { ts: '2025-10-24T22:00:00Z', value: 20, slots: 1, expectedSlots: 96, flags: [] },
        { ts: '2025-10-25T22:00:00Z', value: 10, slots: 1, expectedSlots: 100, flags: [] },
      ]);
      const utc = await querySeries(h.db, q);
      assert.deepEqual(
        utc[0]?.points.map((p) => [p.ts, p.value]),
        [['2025-10-25T00:00:00Z', 15]],
      );
      await assert.rejects(
        querySeries(h.db, { ...q, timeZone: 'Mars/Olympus_Mons' }),
        (e: unknown) => e instanceof StorageError && e.code === 'db.invalid_query',
      );
    });

    it('gives the generation mix of a slot with shares, by default at the latest slot every type reached', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const at = await generationMix(h.db, 'DE_LU', D);
      assert.ok(at !== null);
      assert.deepEqual(
        at.entries.map((e) => [e.productionType, e.value, Math.round(e.share * 1000) / 1000]),
        [
          ['B19', 100, 0.909],
          ['B16', 10, 0.091],
          ['B10', -5, 0],
        ],
      );
      assert.equal(at.total, 110);
      const latest = await generationMix(h.db, 'DE_LU');
      assert.equal(latest?.slot, '2025-10-21T01:45:00Z');
      assert.equal(latest.total, 180);
      const fi = await generationMix(h.db, 'FI', '2025-10-21T20:00:00Z');
      assert.deepEqual(fi?.missing, ['B19']);
      assert.equal(await generationMix(h.db, 'XX'), null);
    });

    it('reports expected against present slots per zone, metric and day', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const rows = await completeness(h.db, { zones: ['FI'], from: D, to: '2025-10-23T00:00:00Z' });
      assert.deepEqual(rows, [
        {
          zone: 'FI',
          metric: 'generation_actual',
          day: '2025-10-21',
          expectedSlots: 96,
          presentSlots: 96,
          series: 2,
          expectedValues: 192,
          presentValues: 144,
        },
        {
          zone: 'FI',
          metric: 'generation_actual',
          day: '2025-10-22',
          expectedSlots: 96,
          presentSlots: 10,
          series: 2,
          expectedValues: 192,
          presentValues: 10,
        },
      ]);
      const berlin = await completeness(h.db, {
        zones: ['DE_LU'],
        metrics: ['price_day_ahead'],
        from: '2025-10-25T22:00:00Z',
        to: '2025-10-26T23:00:00Z',
        timeZone: 'Europe/Berlin',
      });
      assert.deepEqual(
        berlin.map((r) => [r.day, r.expectedSlots, r.presentSlots]),
        [['2025-10-26', 100, 1]],
      );
    });

    it('lists the latest slot per zone and each zone with its range and metrics', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      assert.deepEqual(await latestSlots(h.db, { metrics: ['generation_actual'] }), [
        { zone: 'DE_LU', slot: '2025-10-21T01:45:00Z' },
        { zone: 'FI', slot: '2025-10-22T02:15:00Z' },
      ]);
      const zones = await zoneCoverage(h.db);
      assert.deepEqual(zones[0], {
        zone: 'DE_LU',
        firstSlot: '2025-10-21T00:00:00Z',
        lastSlot: '2025-10-25T22:00:00Z',
        metrics: ['generation_actual', 'load_actual', 'price_day_ahead'],
      });
    });

    it('answers as of a past moment, also when aggregated', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const { rows } = await h.db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
      await new Promise((r) => setTimeout(r, 20));
      await writeObservations(h.db, [
        chunk({ zone: 'DE_LU', productionType: 'B16', start: D, points: 1, value: () => 50, revision: 2 }),
      ]);
      const q = {
        zone: 'DE_LU',
        metric: 'generation_actual',
        productionTypes: ['B16'],
        from: D,
        to: '2025-10-21T01:00:00Z',
        resolution: 'PT1H',
      } as const;
      assert.equal((await querySeries(h.db, q))[0]?.points[0]?.value, 35);
      assert.equal((await querySeries(h.db, { ...q, asOf: rows[0]!.now }))[0]?.points[0]?.value, 25);
    });
  });
}
