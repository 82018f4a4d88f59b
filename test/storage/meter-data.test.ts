import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import type {
  Db,
  DeviceReadingInput,
  IntervalInput,
  MeterDataInput,
  MeterWriteResult,
  RegisterReadInput,
} from '../../src/storage/index.ts';
import { DirectCopy, ensureMeterPartitions, writeMeterData } from '../../src/storage/index.ts';
import { DB_KINDS, count, openTestDb } from './helpers.ts';

const TOPIC = 'raw.meters';

function interval(offset: number, value: string, extra: Partial<Omit<IntervalInput, 'position'>> = {}): IntervalInput {
  return {
    meterId: 'm1',
    quantity: 'energy_import',
    ts: '2026-10-25T00:00:00Z',
    intervalS: 900,
    value: value as Decimal,
    groupId: 'g1',
    recordedAt: null,
    ...extra,
    position: { topic: TOPIC, partition: 0, offset },
  };
}

function read(offset: number, ts: string, value: string, extra: Partial<RegisterReadInput> = {}): RegisterReadInput {
  return {
    meterId: 'r1',
    quantity: 'register_import',
    ts,
    value: value as Decimal,
    recordedAt: null,
    intervalS: 900,
    groupId: 'g1',
    ...extra,
    position: { topic: TOPIC, partition: 0, offset },
  };
}

const batch = (b: Partial<MeterDataInput>): MeterDataInput => ({
  intervals: [],
  registerReads: [],
  deviceReadings: [],
  ...b,
});

async function write(db: Db, input: MeterDataInput, direct?: DirectCopy): Promise<MeterWriteResult> {
  await ensureMeterPartitions(db, input);
  return db.transaction((tx) => writeMeterData(tx, input, direct === undefined ? {} : { direct }));
}

async function stored(db: Db, meter = 'm1'): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT to_char(ts AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || quantity || ' ' || value::text || ' ' || source
       || ' ' || array_to_string(flags, ',') AS line
     FROM meter_intervals WHERE meter_id = $1 ORDER BY quantity, ts`,
    [meter],
  );
  return rows.map((r) => r.line.trim());
}

async function revisions(db: Db, meter = 'm1'): Promise<string[]> {
  const { rows } = await db.query<{ v: string }>(
    `SELECT value::text AS v FROM meter_interval_revisions WHERE meter_id = $1 ORDER BY value`,
    [meter],
  );
  return rows.map((r) => r.v);
}

const value = async (db: Db): Promise<string | undefined> =>
  (await db.query<{ v: string }>(`SELECT value::text AS v FROM meter_intervals WHERE meter_id = 'm1'`)).rows[0]?.v;

for (const kind of DB_KINDS) {
  describe(`meter data: ${kind}`, () => {
    it('new keys are copied straight into the table; a stored key sends the batch the staging way, same result', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const direct = new DirectCopy();
      const at = (meterId: string, offset: number, v: string, ts = '2026-10-25T00:00:00Z'): IntervalInput =>
        interval(offset, v, { meterId, ts });
      let r = await write(h.db, batch({ intervals: [at('m1', 1, '1'), at('m2', 2, '2'), at('m3', 3, '3')] }), direct);
      assert.deepEqual([direct.copied, direct.conflicts], [1, 0]);
      assert.deepEqual(r.intervals, { inserted: 3, updated: 0, unchanged: 0, kept: 0 });
      assert.deepEqual(r.changed.map((c) => c.meterId).sort(), ['m1', 'm2', 'm3']);
      // m1 again with a later offset (a correction) and a new m4: the COPY meets m1 and is rolled back.
      r = await write(h.db, batch({ intervals: [at('m1', 4, '1.5'), at('m4', 5, '4')] }), direct);
      assert.deepEqual([direct.copied, direct.conflicts], [1, 1]);
      assert.deepEqual(r.intervals, { inserted: 1, updated: 1, unchanged: 0, kept: 0 });
      assert.deepEqual(r.changed.map((c) => c.meterId).sort(), ['m1', 'm4']);
      assert.deepEqual(await stored(h.db), ['00:00 energy_import 1.5 interval']);
      assert.deepEqual(await revisions(h.db), ['1']);
      assert.equal(await count(h.db, 'meter_intervals'), 4);
      // After a conflict the next batches take the staging way at once.
      r = await write(h.db, batch({ intervals: [at('m5', 6, '5')] }), direct);
      assert.deepEqual([direct.copied, direct.conflicts], [1, 1]);
      assert.deepEqual(r.intervals, { inserted: 1, updated: 0, unchanged: 0, kept: 0 });
    });

    it('the later recorded_at wins whether it arrives first or second; the loser is a revision', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const newer = interval(1, '2', { recordedAt: '2026-10-26T00:00:00Z' });
      const older = interval(2, '1', { recordedAt: '2026-10-25T12:00:00Z' });
      // Newer first: the older one, arriving later, is kept as a revision only.
      let r = await write(h.db, batch({ intervals: [newer] }));
      assert.equal(r.intervals.inserted, 1);
      r = await write(h.db, batch({ intervals: [older] }));
      assert.deepEqual(r.intervals, { inserted: 0, updated: 0, unchanged: 0, kept: 1 });
      assert.deepEqual(r.changed, []);
      assert.equal(await value(h.db), '2');
      assert.deepEqual(await revisions(h.db), ['1']);
      // Older first, on another meter: the newer one replaces it and the old row becomes a revision.
      await write(h.db, batch({ intervals: [{ ...older, meterId: 'm2' }] }));
      r = await write(h.db, batch({ intervals: [{ ...newer, meterId: 'm2' }] }));
      assert.deepEqual(r.intervals, { inserted: 0, updated: 1, unchanged: 0, kept: 0 });
      assert.deepEqual(r.changed, [
        { meterId: 'm2', quantity: 'energy_import', ts: '2026-10-25T00:00:00Z', groupId: 'g1' },
      ]);
      assert.deepEqual(await stored(h.db, 'm2'), ['00:00 energy_import 2 interval']);
      assert.deepEqual(await revisions(h.db, 'm2'), ['1']);
    });

    it('without recorded_at the later log offset wins, in a batch and against the stored row', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      let r = await write(h.db, batch({ intervals: [interval(5, '1'), interval(3, '3'), interval(4, '2')] }));
      assert.deepEqual(r.intervals, { inserted: 1, updated: 0, unchanged: 0, kept: 2 });
      assert.equal(await value(h.db), '1');
      // A replay at its old offset loses; a correction at a later offset wins.
      r = await write(h.db, batch({ intervals: [interval(4, '2')] }));
      assert.deepEqual(r.intervals, { inserted: 0, updated: 0, unchanged: 1, kept: 0 });
      r = await write(h.db, batch({ intervals: [interval(9, '1.5')] }));
      assert.deepEqual(r.intervals, { inserted: 0, updated: 1, unchanged: 0, kept: 0 });
      assert.equal(await value(h.db), '1.5');
      assert.deepEqual(await revisions(h.db), ['1', '2', '3']);
    });

    it('duplicates are no-ops and a batch written twice changes nothing the second time', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const input = batch({
        intervals: [
          interval(1, '0.25'),
          interval(2, '0.25'),
          interval(3, '0.5', { ts: '2026-10-25T00:15:00Z' }),
          interval(4, '0.75', { ts: '2026-10-25T00:15:00Z', recordedAt: '2026-10-25T01:00:00Z' }),
          interval(5, '0.7', { ts: '2026-10-25T00:15:00Z', recordedAt: '2026-10-25T00:59:00Z' }),
        ],
        registerReads: [read(6, '2026-10-25T00:00:00Z', '10'), read(7, '2026-10-25T00:30:00Z', '11')],
        deviceReadings: [device(8, '230.1'), device(9, '230.2')],
      });
      const first = await write(h.db, input);
      assert.deepEqual(first.intervals, { inserted: 4, updated: 0, unchanged: 1, kept: 2 });
      assert.deepEqual(first.registers, { inserted: 2, updated: 0, unchanged: 0, kept: 0 });
      assert.deepEqual(first.devices, { inserted: 1, updated: 0, unchanged: 0, kept: 1 });
      assert.equal(first.changed.length, 4);
      const before = [await count(h.db, 'meter_interval_revisions'), await count(h.db, 'device_reading_revisions')];
      const second = await write(h.db, input);
      assert.deepEqual(second.intervals, { inserted: 0, updated: 0, unchanged: 5, kept: 0 });
      assert.deepEqual(second.registers, { inserted: 0, updated: 0, unchanged: 2, kept: 0 });
      assert.deepEqual(second.devices, { inserted: 0, updated: 0, unchanged: 2, kept: 0 });
      assert.deepEqual(second.changed, []);
      assert.deepEqual(
        [await count(h.db, 'meter_interval_revisions'), await count(h.db, 'device_reading_revisions')],
        before,
      );
      assert.deepEqual(await stored(h.db), ['00:00 energy_import 0.25 interval', '00:15 energy_import 0.75 interval']);
    });

    it('a re-issued register read with the same value changes no derived interval; reads a year apart are not spread', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const r3 = { meterId: 'r3', recordedAt: '2026-10-25T01:00:00Z' };
      await write(
        h.db,
        batch({
          registerReads: [read(1, '2026-10-25T00:00:00Z', '10', r3), read(2, '2026-10-25T00:30:00Z', '12', r3)],
        }),
      );
      const r = await write(
        h.db,
        batch({
          registerReads: [read(3, '2026-10-25T00:30:00Z', '12', { ...r3, recordedAt: '2026-10-25T02:00:00Z' })],
        }),
      );
      assert.deepEqual(r.registers, { inserted: 0, updated: 1, unchanged: 0, kept: 0 });
      assert.deepEqual(r.intervals, { inserted: 0, updated: 0, unchanged: 2, kept: 0 });
      assert.deepEqual(r.changed, []);
      assert.equal(await count(h.db, 'meter_interval_revisions'), 0);
      assert.equal(await count(h.db, 'meter_register_read_revisions'), 1);
      // A read 401 days after the last one starts a new chain: no energy is spread over the gap.
      const late = await write(
        h.db,
        batch({ registerReads: [read(4, '2027-11-30T00:30:00Z', '500', { meterId: 'r3' })] }),
      );
      assert.deepEqual(late.changed, []);
      assert.deepEqual(await stored(h.db, 'r3'), [
        '00:00 energy_import 1 register split',
        '00:15 energy_import 1 register split',
      ]);
    });

    it('register reads: split, rollover, reset, and a late read in the middle re-derives the intervals', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      let r = await write(
        h.db,
        batch({
          registerReads: [
            read(1, '2026-10-25T00:00:00Z', '99999', { capacity: '99999.9' as Decimal }),
            read(2, '2026-10-25T00:30:00Z', '1', { capacity: '99999.9' as Decimal }),
          ],
        }),
      );
      // 99999 → 1 over a capacity of 99999.9: 2 kWh, split over two quarters.
      assert.deepEqual(await stored(h.db, 'r1'), [
        '00:00 energy_import 1 register split,rollover',
        '00:15 energy_import 1 register split,rollover',
      ]);
      assert.equal(r.changed.length, 2);
      // A reset without capacity: no energy, reported.
      r = await write(
        h.db,
        batch({
          registerReads: [
            read(1, '2026-10-25T00:00:00Z', '50', { meterId: 'r2' }),
            read(2, '2026-10-25T00:15:00Z', '40', { meterId: 'r2' }),
            read(3, '2026-10-25T01:15:00Z', '44', { meterId: 'r2' }),
          ],
        }),
      );
      assert.deepEqual(r.resets, [
        { meterId: 'r2', quantity: 'register_import', from: '2026-10-25T00:00:00Z', to: '2026-10-25T00:15:00Z' },
      ]);
      assert.deepEqual(await stored(h.db, 'r2'), [
        '00:15 energy_import 1 register split',
        '00:30 energy_import 1 register split',
        '00:45 energy_import 1 register split',
        '01:00 energy_import 1 register split',
      ]);
      // A late read at 00:45 splits the span: 00:15–00:45 had 3, 00:45–01:15 had 1.
      r = await write(h.db, batch({ registerReads: [read(9, '2026-10-25T00:45:00Z', '43', { meterId: 'r2' })] }));
      assert.deepEqual(await stored(h.db, 'r2'), [
        '00:15 energy_import 1.5 register split',
        '00:30 energy_import 1.5 register split',
        '00:45 energy_import 0.5 register split',
        '01:00 energy_import 0.5 register split',
      ]);
      assert.deepEqual(r.intervals, { inserted: 0, updated: 4, unchanged: 0, kept: 0 });
      assert.equal(r.changed.length, 4);
      // A late read revealing a reset at 00:15–00:30 removes the interval no longer derivable (kept as a revision).
      r = await write(h.db, batch({ registerReads: [read(10, '2026-10-25T00:30:00Z', '1', { meterId: 'r2' })] }));
      assert.deepEqual(await stored(h.db, 'r2'), [
        '00:30 energy_import 42 register',
        '00:45 energy_import 0.5 register split',
        '01:00 energy_import 0.5 register split',
      ]);
      assert.deepEqual(
        r.changed.map((c) => c.ts),
        ['2026-10-25T00:30:00Z', '2026-10-25T00:15:00Z'],
      );
      assert.deepEqual(await revisions(h.db, 'r2'), ['1', '1', '1', '1', '1.5', '1.5']);
      // The same late reads again: nothing changes.
      r = await write(h.db, batch({ registerReads: [read(10, '2026-10-25T00:30:00Z', '1', { meterId: 'r2' })] }));
      assert.deepEqual(r.changed, []);
      assert.deepEqual(r.registers, { inserted: 0, updated: 0, unchanged: 1, kept: 0 });
    });
  });
}

function device(offset: number, v: string): DeviceReadingInput {
  return {
    deviceId: 'pmu-1',
    kind: 'pmu',
    quantity: 'voltage',
    ts: '2026-10-25T00:00:00.020Z',
    value: v as Decimal,
    recordedAt: null,
    position: { topic: TOPIC, partition: 1, offset },
  };
}
