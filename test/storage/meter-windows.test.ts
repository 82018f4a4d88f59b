import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import type { Db, GroupWindow, IntervalInput, MeterDayWindow } from '../../src/storage/index.ts';
import { emitGroupWindows, emitMeterDays, ensureMeterPartitions, writeMeterData } from '../../src/storage/index.ts';
import { DB_KINDS, count, openTestDb } from './helpers.ts';

let offset = 0;
const iv = (meterId: string, ms: number, value: string, groupId = 'g1'): IntervalInput => ({
  meterId,
  quantity: 'energy_import',
  ts: new Date(ms).toISOString().replace('.000Z', 'Z'),
  intervalS: 900,
  value: value as Decimal,
  groupId,
  recordedAt: null,
  position: { topic: 'raw.meters', partition: 0, offset: offset++ },
});

async function store(db: Db, intervals: IntervalInput[]): Promise<void> {
  const input = { intervals, registerReads: [], deviceReadings: [] };
  await ensureMeterPartitions(db, input);
  await db.transaction((tx) => writeMeterData(tx, input));
}

// Europe/Berlin, 2026-10-25: the clocks go back, 25 hours, 100 quarters.
const BERLIN_25: MeterDayWindow = {
  meterId: 'm1',
  quantity: 'energy_import',
  localDay: '2026-10-25',
  timeZone: 'Europe/Berlin',
  dayStart: '2026-10-24T22:00:00Z',
  dayEnd: '2026-10-25T23:00:00Z',
  intervalS: 900,
  groupId: 'g1',
  restate: false,
};
const START_25 = Date.parse(BERLIN_25.dayStart);

interface DayRow {
  values: (string | null)[];
  quality: string[];
  sum: string;
  count: number;
  expected: number;
  restated: boolean;
  revision: number;
}
const dayRow = async (db: Db): Promise<DayRow | undefined> =>
  (
    await db.query<DayRow>(
      `SELECT "values"::text[] AS values, quality, sum::text AS sum, count, expected, restated, revision
       FROM meter_days WHERE meter_id = 'm1' AND local_day = '2026-10-25'`,
    )
  ).rows[0];

for (const kind of DB_KINDS) {
  describe(`meter windows: ${kind}`, () => {
    it('a Berlin DST day row has 100 slots, the missing one marked; a later correction restates it', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      // Every quarter but the 10th; the quarters after the 50th hold 0.1 (exact decimal sums).
      await store(
        h.db,
        Array.from({ length: 100 }, (_, i) => i)
          .filter((i) => i !== 9)
          .map((i) => iv('m1', START_25 + i * 900_000, i < 50 ? '0.25' : '0.1')),
      );
      // An interval of the next day does not belong to this one.
      await store(h.db, [iv('m1', Date.parse(BERLIN_25.dayEnd), '7')]);
      assert.deepEqual(await h.db.transaction((tx) => emitMeterDays(tx, [])), {
        written: 0,
        unchanged: 0,
        restated: 0,
      });
      let r = await h.db.transaction((tx) => emitMeterDays(tx, [BERLIN_25]));
      assert.deepEqual(r, { written: 1, unchanged: 0, restated: 0 });
      let row = await dayRow(h.db);
      assert.ok(row !== undefined);
      assert.equal(row.values.length, 100);
      assert.equal(row.values[9], null);
      assert.equal(row.quality[9], 'missing');
      assert.equal(row.quality.filter((q) => q === 'missing').length, 1);
      assert.deepEqual([row.sum, row.count, row.expected, row.restated, row.revision], ['17.25', 99, 100, false, 0]);
      // Emitting again changes nothing.
      r = await h.db.transaction((tx) => emitMeterDays(tx, [BERLIN_25, BERLIN_25]));
      assert.deepEqual(r, { written: 0, unchanged: 1, restated: 0 });
      // The missing quarter arrives late: the row is restated and the old one kept as a revision.
      await store(h.db, [iv('m1', START_25 + 9 * 900_000, '0.5')]);
      r = await h.db.transaction((tx) => emitMeterDays(tx, [BERLIN_25]));
      assert.deepEqual(r, { written: 1, unchanged: 0, restated: 1 });
      row = await dayRow(h.db);
      assert.deepEqual(
        [row?.sum, row?.count, row?.restated, row?.revision, row?.values[9]],
        ['17.75', 100, true, 1, '0.5'],
      );
      const rev = await h.db.query<{ sum: string; revision: number }>(
        'SELECT sum::text AS sum, revision FROM meter_day_revisions',
      );
      assert.deepEqual(rev.rows, [{ sum: '17.25', revision: 0 }]);
    });

    it('group windows: exact sums per quarter, hour, day and month; a correction restates what it touches', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      // Berlin, 2026-10-26 (24 hours): three meters of g1, one of g2.
      const start = Date.parse('2026-10-25T23:00:00Z');
      const values: Record<string, string> = { a: '0.1', b: '0.2', c: '0.3' };
      const intervals: IntervalInput[] = [];
      for (const [m, v] of Object.entries(values)) {
        for (let i = 0; i < 96; i++) intervals.push(iv(m, start + i * 900_000, i === 0 && m === 'c' ? '1.7' : v));
      }
      intervals.push(iv('x', start, '100', 'g2'));
      await store(h.db, intervals);
      const day: GroupWindow = {
        groupId: 'g1',
        quantity: 'energy_import',
        resolution: 'P1D',
        start: '2026-10-25T23:00:00Z',
        end: '2026-10-26T23:00:00Z',
        timeZone: 'Europe/Berlin',
        restate: false,
      };
      let r = await h.db.transaction((tx) => emitGroupWindows(tx, [day]));
      assert.deepEqual(r, { written: 96 + 24 + 1, unchanged: 0, restated: 0 });
      const agg = async (resolution: string, ws: string) =>
        (
          await h.db.query<{
            count: number;
            sum: string;
            min: string;
            max: string;
            restated: boolean;
            revision: number;
          }>(
            `SELECT count, sum::text AS sum, min::text AS min, max::text AS max, restated, revision
             FROM group_aggregates WHERE group_id = 'g1' AND resolution = $1 AND window_start = $2`,
            [resolution, ws],
          )
        ).rows[0];
      assert.deepEqual(await agg('PT15M', '2026-10-25T23:00:00Z'), {
        count: 3,
        sum: '2.0',
        min: '0.1',
        max: '1.7',
        restated: false,
        revision: 0,
      });
      assert.deepEqual(await agg('PT15M', '2026-10-26T10:15:00Z'), {
        count: 3,
        sum: '0.6',
        min: '0.1',
        max: '0.3',
        restated: false,
        revision: 0,
      });
      // Per-meter sums of the hour: a 0.4, b 0.8, c 1.7 + 0.9 = 2.6.
      assert.deepEqual(await agg('PT1H', '2026-10-25T23:00:00Z'), {
        count: 12,
        sum: '3.8',
        min: '0.4',
        max: '2.6',
        restated: false,
        revision: 0,
      });
      // The day: a 9.6, b 19.2, c 28.8 − 0.3 + 1.7 = 30.2.
      assert.deepEqual(await agg('P1D', '2026-10-25T23:00:00Z'), {
        count: 288,
        sum: '59.0',
        min: '9.6',
        max: '30.2',
        restated: false,
        revision: 0,
      });
      const month: GroupWindow = {
        ...day,
        resolution: 'P1M',
        start: '2026-09-30T22:00:00Z',
        end: '2026-10-31T23:00:00Z',
      };
      r = await h.db.transaction((tx) => emitGroupWindows(tx, [month, day]));
      assert.deepEqual(r, { written: 1, unchanged: 121, restated: 0 });
      assert.equal((await agg('P1M', '2026-09-30T22:00:00Z'))?.sum, '59.0');
      // A correction of one quarter of b: its quarter, hour and day are restated, nothing else.
      await store(h.db, [iv('b', start + 5 * 900_000, '0.25')]);
      r = await h.db.transaction((tx) => emitGroupWindows(tx, [day]));
      assert.deepEqual(r, { written: 3, unchanged: 118, restated: 3 });
      assert.deepEqual(await agg('PT1H', '2026-10-26T00:00:00Z'), {
        count: 12,
        sum: '2.45',
        min: '0.4',
        max: '1.2',
        restated: true,
        revision: 1,
      });
      assert.equal(await count(h.db, 'group_aggregate_revisions'), 3);
    });
  });
}
