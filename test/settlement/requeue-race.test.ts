import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lockSettling, requeueChangedInputs, settleDays } from '../../src/settlement/index.ts';
import type { SettleDay } from '../../src/settlement/index.ts';
import { enqueueMeterWork, takeMeterWork } from '../../src/storage/index.ts';
import { quarters } from '../helpers/meters.ts';
import { openTestDb } from '../storage/helpers.ts';

const DAY = { start: '2026-06-01T22:00:00Z', end: '2026-06-02T22:00:00Z' };
const SLOTS = quarters(DAY.start, DAY.end);

/**
 * Two settle workers on PostgreSQL: A settles a day without prices (pending) and has not committed when the prices
 * arrive; B turns the price change into queued days meanwhile. B must wait for A (the settle lock) and then find
 * A's day and queue it again — without the lock it found nothing and the day stayed pending for good.
 */
describe('settle: a price arriving while a day is being settled (PostgreSQL, two connections)', () => {
  it('queues the day again once the settlement in flight has committed', async (t) => {
    const h = await openTestDb(t, 'postgres');
    if (h === undefined) return;
    const { db } = h;
    await db.query(
      `INSERT INTO meter_validated (meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw)
       SELECT 'R1', 'energy_import', t, 900, '2026-06-02', 0.25, 'measured', 'measured', 0.25
       FROM unnest($1::timestamptz[]) AS t`,
      [SLOTS],
    );
    const item = {
      meterId: 'R1',
      quantity: 'energy_import' as const,
      localDay: '2026-06-02',
      timeZone: 'Europe/Berlin',
      dayStart: DAY.start,
      dayEnd: DAY.end,
    };
    await enqueueMeterWork(db, 'settle', [item]);

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let settled!: () => void;
    const written = new Promise<void>((r) => (settled = r));
    const a = db.transaction(async (tx) => {
      await lockSettling(tx);
      const [taken] = await takeMeterWork(tx, 'settle', 10);
      assert.ok(taken !== undefined);
      const day: SettleDay = { ...taken, biddingZone: 'DE_LU', groupId: null, mayPend: true };
      const r = await settleDays(tx, [day]);
      assert.equal(r.pending, 96);
      await tx.query(`DELETE FROM meter_work WHERE job = 'settle'`);
      settled();
      await gate;
    });
    let bDone = false;
    let b: Promise<number> | undefined;
    try {
      await written;
      // The prices arrive (and commit) while A is still open.
      for (const [metric, qualifier, unit, value] of [
        ['price_day_ahead', 'sequence=1', 'EUR/MWh', 100],
        ['carbon_intensity_consumption', 'factors=lifecycle', 'gCO2eq/kWh', 400],
        ['carbon_intensity_consumption', 'factors=direct', 'gCO2eq/kWh', 300],
      ] as const)
        await db.query(
          `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
           SELECT 'DE_LU', $1, $2, s, $4, $3, 'entsoe' FROM unnest($5::timestamptz[]) AS s`,
          [metric, qualifier, unit, value, SLOTS],
        );
      b = db
        .transaction((tx) => requeueChangedInputs(tx, 100))
        .then((n) => {
          bDone = true;
          return n;
        });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(bDone, false, 'B waits for the settlement in flight');
    } finally {
      release();
      await a;
    }
    assert.ok((await b) >= 1);
    const queued = await db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM meter_work WHERE job = 'settle' AND meter_id = 'R1'`,
    );
    assert.equal(queued.rows[0]?.n, 1, 'the pending day is queued again');
    const again = await db.transaction(async (tx) => {
      await lockSettling(tx);
      const items = await takeMeterWork(tx, 'settle', 10);
      return settleDays(
        tx,
        items.map((i) => ({ ...i, biddingZone: 'DE_LU', groupId: null, mayPend: true })),
      );
    });
    assert.deepEqual([again.written, again.pending, again.restated], [96, 0, 96]);
  });
});
