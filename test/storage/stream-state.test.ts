import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingWindow } from '../../src/storage/index.ts';
import {
  countPending,
  loadJobWatermark,
  loadWatermarks,
  markPending,
  saveJobWatermark,
  saveWatermarks,
  takeDuePending,
} from '../../src/storage/index.ts';
import { DB_KINDS, openTestDb } from './helpers.ts';

const day = (d: number, restate = false, key = 'm1|energy_import'): PendingWindow => ({
  kind: 'meter-day',
  key,
  windowStart: `2026-10-${String(d).padStart(2, '0')}T22:00:00Z`,
  windowEnd: `2026-10-${String(d + 1).padStart(2, '0')}T22:00:00Z`,
  timeZone: 'Europe/Berlin',
  restate,
});

for (const kind of DB_KINDS) {
  describe(`stream state: ${kind}`, () => {
    it('partition watermarks never move back; the job watermark is stored as given', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await h.db.transaction((tx) =>
        saveWatermarks(tx, 'meters', [
          { topic: 'raw.meters', partition: 0, maxEventTs: '2026-10-25T10:00:00Z' },
          { topic: 'raw.meters', partition: 0, maxEventTs: '2026-10-25T11:00:00Z' },
          { topic: 'raw.meters', partition: 1, maxEventTs: '2026-10-25T09:00:00Z' },
        ]),
      );
      await h.db.transaction((tx) =>
        saveWatermarks(tx, 'meters', [
          { topic: 'raw.meters', partition: 0, maxEventTs: '2026-10-25T08:00:00Z' },
          { topic: 'raw.meters', partition: 1, maxEventTs: '2026-10-25T09:30:00Z' },
        ]),
      );
      const stored = await loadWatermarks(h.db, 'meters');
      assert.deepEqual(
        stored.map((w) => [w.partition, w.maxEventTs]),
        [
          [0, '2026-10-25T11:00:00Z'],
          [1, '2026-10-25T09:30:00Z'],
        ],
      );
      assert.ok(stored.every((w) => Number.isFinite(Date.parse(w.updatedAt))));
      assert.deepEqual(await loadWatermarks(h.db, 'other'), []);
      assert.equal(await loadJobWatermark(h.db, 'meters'), null);
      await h.db.transaction((tx) => saveJobWatermark(tx, 'meters', '2026-10-25T09:00:00Z'));
      assert.equal(await loadJobWatermark(h.db, 'meters'), '2026-10-25T09:00:00Z');
      await h.db.transaction((tx) => saveJobWatermark(tx, 'meters', null));
      assert.equal(await loadJobWatermark(h.db, 'meters'), null);
    });

    it('pending windows: marked once, restate ORed, taken when due oldest first and deleted', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await h.db.transaction((tx) => markPending(tx, 'meters', [day(25), day(24, true), day(24), day(26)]));
      await h.db.transaction((tx) => markPending(tx, 'meters', [day(25, true), day(26, false)]));
      await h.db.transaction((tx) => markPending(tx, 'other', [day(20)]));
      assert.equal(await countPending(h.db, 'meters'), 3);
      const due = await h.db.transaction((tx) => takeDuePending(tx, 'meters', '2026-10-26T22:00:00Z', 10));
      assert.deepEqual(due, [day(24, true), day(25, true)]);
      assert.equal(await countPending(h.db, 'meters'), 1);
      assert.deepEqual(await h.db.transaction((tx) => takeDuePending(tx, 'meters', '2026-10-26T22:00:00Z', 10)), []);
      // A rollback puts the taken windows back.
      await assert.rejects(
        h.db.transaction(async (tx) => {
          assert.equal((await takeDuePending(tx, 'meters', '2026-10-28T00:00:00Z', 10)).length, 1);
          throw new Error('emit failed');
        }),
      );
      assert.equal(await countPending(h.db, 'meters'), 1);
      assert.equal(await countPending(h.db, 'other'), 1);
    });
  });
}

describe('stream state: PostgreSQL, two workers', () => {
  it('takeDuePending never hands the same window to two concurrent transactions', async (t) => {
    const h = await openTestDb(t, 'postgres');
    if (h === undefined) return;
    const windows = Array.from({ length: 20 }, (_, i) => day(1 + (i % 10), false, `m${i}`));
    await h.db.transaction((tx) => markPending(tx, 'meters', windows));
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let took: (n: number) => void = () => undefined;
    const tookFirst = new Promise<number>((resolve) => (took = resolve));
    const first = h.db.transaction(async (tx) => {
      const w = await takeDuePending(tx, 'meters', '2026-11-01T00:00:00Z', 12);
      took(w.length);
      await held; // the rows stay locked until the other worker has taken its share
      return w;
    });
    assert.equal(await tookFirst, 12);
    const second = await h.db.transaction((tx) => takeDuePending(tx, 'meters', '2026-11-01T00:00:00Z', 100));
    release();
    const a = await first;
    assert.equal(second.length, 8);
    const keys = [...a, ...second].map((w) => `${w.key}|${w.windowStart}`);
    assert.equal(new Set(keys).size, 20);
    assert.equal(await countPending(h.db, 'meters'), 0);
  });
});
