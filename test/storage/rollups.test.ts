import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Db } from '../../src/storage/index.ts';
import { querySeries, refreshRollups, writeObservations } from '../../src/storage/index.ts';
import { DB_KINDS, chunk, openTestDb } from './helpers.ts';

const TZ = 'Europe/Berlin';
const tzOf = () => TZ;

/** Everything refreshed (until no series is dirty). */
async function refreshAll(db: Db): Promise<void> {
  for (let i = 0; i < 100; i++) if (!(await refreshRollups(db, tzOf)).remaining) return;
  throw new Error('rollups never settled');
}

/** The base-table answer: mark every series dirty, so the rollups cannot be used. */
async function baseAnswer(db: Db, q: Parameters<typeof querySeries>[1]) {
  await db.query('UPDATE grid_series SET dirty_from = first_slot, dirty_to = last_slot');
  const result = await querySeries(db, q);
  await refreshAll(db);
  return result;
}

const round = (data: Awaited<ReturnType<typeof querySeries>>) =>
  data.map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, value: Math.round(p.value * 1e9) / 1e9 })) }));

for (const kind of DB_KINDS) {
  describe(`rollups: ${kind}`, () => {
    it('hourly and daily rollups answer exactly like the base table, across a DST day, with flags and MWh', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const start = '2025-10-24T22:00:00Z'; // local midnight in Berlin before the 25-hour day of 26 October
      await writeObservations(h.db, [
        chunk({ productionType: 'B16', start, points: 4 * 24 * 4, value: (i) => (i % 7) * 3.5 }),
        chunk({ productionType: 'B19', start, points: 4 * 24 * 4, value: (i) => 100 + (i % 11) }),
        chunk({
          metric: 'load_actual',
          productionType: '',
          unit: 'MWh',
          start,
          points: 4 * 24 * 4,
          value: (i) => (i % 5) + 0.25,
        }),
        {
          ...chunk({ productionType: 'B04', start, points: 8 }),
          points: chunk({ productionType: 'B04', start, points: 8 }).points.map((p) => ({
            ...p,
            f: ['filled' as const],
          })),
        },
      ]);
      await refreshAll(h.db);
      for (const resolution of ['PT1H', 'P1D'] as const) {
        for (const metric of ['generation_actual', 'load_actual']) {
          const q = { zone: 'FI', metric, from: start, to: '2025-10-28T23:00:00Z', resolution, timeZone: TZ };
          const fromRollups = await querySeries(h.db, q);
          assert.deepEqual(round(fromRollups), round(await baseAnswer(h.db, q)), `${metric} ${resolution}`);
          if (resolution === 'P1D') {
            const series = fromRollups.find((x) => x.productionType === (metric === 'load_actual' ? '' : 'B16'));
            const day = series?.points.find((p) => p.ts === '2025-10-25T22:00:00Z');
            assert.equal(day?.slots, 100, 'the 25-hour day has 100 quarter hours');
          }
        }
      }
      const flagged = (
        await querySeries(h.db, {
          zone: 'FI',
          metric: 'generation_actual',
          productionTypes: ['B04'],
          from: start,
          to: '2025-10-25T22:00:00Z',
          resolution: 'PT1H',
          timeZone: TZ,
        })
      )[0];
      assert.deepEqual(flagged?.points[0]?.flags, ['filled']);
    });

    it('a correction is visible at once (dirty series read the base table) and in the rollups after a refresh', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const start = '2025-06-01T00:00:00Z';
      await writeObservations(h.db, [chunk({ start, points: 96, value: () => 10 })]);
      await refreshAll(h.db);
      const q = {
        zone: 'FI',
        metric: 'generation_actual',
        from: start,
        to: '2025-06-02T00:00:00Z',
        resolution: 'PT1H' as const,
      };
      assert.equal((await querySeries(h.db, q))[0]?.points[0]?.value, 10);
      await writeObservations(h.db, [chunk({ start, points: 4, value: () => 30, documentId: 'fix', revision: 2 })]);
      assert.equal((await querySeries(h.db, q))[0]?.points[0]?.value, 30, 'no stale rollup is served');
      const { rows } = await h.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM grid_series WHERE dirty_from IS NOT NULL',
      );
      assert.equal(rows[0]?.n, 1);
      await refreshAll(h.db);
      const { rows: hourly } = await h.db.query<{ value_sum: number; slots: number }>(
        "SELECT value_sum, slots FROM grid_rollup_hourly WHERE bucket = '2025-06-01T00:00:00Z'",
      );
      assert.deepEqual(hourly[0], { value_sum: 120, slots: 4 });
      assert.equal((await querySeries(h.db, q))[0]?.points[0]?.value, 30);
    });

    it('property: after any sequence of writes and corrections, refreshed rollups equal the base table', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const db = h.db;
      let round_ = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              offset: fc.integer({ min: 0, max: 300 }),
              points: fc.integer({ min: 1, max: 40 }),
              value: fc.integer({ min: -50, max: 500 }),
              type: fc.constantFrom('B16', 'B19'),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (writes) => {
            const zone = `Z${++round_}`;
            for (const [i, w] of writes.entries()) {
              await writeObservations(db, [
                chunk({
                  zone,
                  productionType: w.type,
                  start: new Date(Date.parse('2025-03-29T00:00:00Z') + w.offset * 900_000).toISOString(),
                  points: w.points,
                  value: (k) => w.value + k,
                  documentId: `d${i}`,
                  revision: i + 1,
                }),
              ]);
            }
            await refreshAll(db);
            const q = {
              zone,
              metric: 'generation_actual',
              from: '2025-03-28T23:00:00Z',
              to: '2025-04-02T22:00:00Z',
              resolution: 'P1D' as const,
              timeZone: TZ,
            };
            assert.deepEqual(round(await querySeries(db, q)), round(await baseAnswer(db, q)));
          },
        ),
        { numRuns: kind === 'pglite' ? 8 : 15 },
      );
    });
  });
}
