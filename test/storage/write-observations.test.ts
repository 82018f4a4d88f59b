import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { UNITS } from '../../src/contracts/index.ts';
import { querySeries, writeObservations } from '../../src/storage/index.ts';
import { DB_KINDS, chunk, count, dumpObservations, openTestDb } from './helpers.ts';

const DAY = '2025-10-21T00:00:00Z';
/** Four load slots, and an issue time on 2025-10-22 at `hour`:00 UTC, for the issue-time tests. */
const LOAD = { metric: 'load_actual', productionType: '', start: DAY, points: 4 } as const;
const at = (hour: number): string => `2025-10-22T${String(hour).padStart(2, '0')}:00:00Z`;

/** A realistic batch: several zones and production types, a day of quarter hours each. */
function batch(): GridSeriesChunk[] {
  const out: GridSeriesChunk[] = [];
  for (const zone of ['FI', 'NO_5', 'DE_LU'])
    for (const productionType of ['B04', 'B16', 'B19'])
      out.push(chunk({ zone, productionType, start: DAY, points: 96, value: (i) => (i * 37.5) % 1000 }));
  out.push(
    chunk({ zone: 'FI', metric: 'price_day_ahead', productionType: '', unit: 'EUR/MWh', start: DAY, points: 96 }),
  );
  return out;
}
const POINTS = 10 * 96;

for (const kind of DB_KINDS) {
  describe(`writeObservations: ${kind}`, () => {
    it('replaying a batch three times leaves an identical table and makes no revision', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const first = await writeObservations(h.db, batch());
      assert.equal(first.inserted, POINTS);
      assert.equal(first.rejected.length, 0);
      const after = await dumpObservations(h.db);
      for (let i = 0; i < 3; i++) {
        const again = await writeObservations(h.db, batch());
        assert.deepEqual(
          { inserted: again.inserted, updated: again.updated, unchanged: again.unchanged, revisions: again.revisions },
          { inserted: 0, updated: 0, unchanged: POINTS, revisions: 0 },
        );
      }
      assert.deepEqual(await dumpObservations(h.db), after);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 0);
      // The staging path (no pre-read) must agree: an exact duplicate is a no-op there too.
      const staged = await writeObservations(h.db, batch(), { strategy: 'staging' });
      assert.equal(staged.unchanged, POINTS);
      assert.deepEqual(await dumpObservations(h.db), after);
    });

    it('a corrected value updates the row and adds exactly one revision with the old value; as-of sees the old one', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await writeObservations(h.db, [chunk({ start: DAY, points: 4, value: () => 100, documentId: 'A', revision: 1 })]);
      const { rows: clock } = await h.db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
      const beforeCorrection = clock[0]!.now;
      await new Promise((r) => setTimeout(r, 20));
      const corrected = chunk({
        start: DAY,
        points: 4,
        value: (i) => (i === 2 ? 150 : 100),
        documentId: 'A',
        revision: 2,
      });
      const result = await writeObservations(h.db, [corrected]);
      assert.deepEqual(
        {
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          revisions: result.revisions,
        },
        { inserted: 0, updated: 1, unchanged: 3, revisions: 1 },
      );
      const { rows: revisions } = await h.db.query(
        'SELECT slot_start, old_value, new_value, old_document_id, old_revision, document_id, revision FROM grid_observation_revisions',
      );
      assert.deepEqual(revisions, [
        {
          slot_start: new Date('2025-10-21T00:30:00Z'),
          old_value: 100,
          new_value: 150,
          old_document_id: 'A',
          old_revision: 1,
          document_id: 'A',
          revision: 2,
        },
      ]);
      // Replaying the correction changes nothing more.
      const replay = await writeObservations(h.db, [corrected]);
      assert.equal(replay.revisions, 0);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 1);

      const range = { zone: 'FI', metric: 'generation_actual', from: DAY, to: '2025-10-21T01:00:00Z' } as const;
      const now = await querySeries(h.db, range);
      assert.deepEqual(
        now[0]?.points.map((p) => p.value),
        [100, 100, 150, 100],
      );
      const then = await querySeries(h.db, { ...range, asOf: beforeCorrection });
      assert.deepEqual(
        then[0]?.points.map((p) => p.value),
        [100, 100, 100, 100],
      );
      const { rows: seen } = await h.db.query<{ first_seen: Date }>(
        'SELECT min(first_seen) AS first_seen FROM grid_observations',
      );
      const beforeAnything = new Date(seen[0]!.first_seen.getTime() - 1000);
      assert.deepEqual(await querySeries(h.db, { ...range, asOf: beforeAnything }), []);
    });

    it('a unit change is a change; an older revision of the same document does not overwrite a newer one', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const base = { metric: 'load_actual', productionType: '', start: DAY, points: 2 } as const;
      await writeObservations(h.db, [chunk({ ...base, value: () => 5, revision: 3 })]);
      const stale = await writeObservations(h.db, [chunk({ ...base, value: () => 4, revision: 2 })]);
      assert.deepEqual([stale.updated, stale.unchanged], [0, 2]);
      const unit = await writeObservations(h.db, [chunk({ ...base, value: () => 5, revision: 4, unit: 'MWh' })]);
      assert.deepEqual([unit.updated, unit.revisions], [2, 2]);
      const { rows } = await h.db.query<{ unit: string; value: number }>(
        'SELECT DISTINCT unit, value FROM grid_observations',
      );
      assert.deepEqual(rows, [{ unit: 'MWh', value: 5 }]);
      // Units that differ inside one stretch of stored slots: a replay is still recognised as unchanged.
      await writeObservations(h.db, [chunk({ ...base, points: 1, value: () => 5, revision: 5, unit: 'MW' })]);
      const mixed = chunk({ ...base, value: () => 5, revision: 5 });
      const replay = await writeObservations(h.db, [
        { ...mixed, points: [mixed.points[0]!] },
        { ...mixed, unit: 'MWh', points: [mixed.points[1]!] },
      ]);
      assert.deepEqual([replay.inserted, replay.updated, replay.unchanged], [0, 0, 2]);
    });

    it('a value issued earlier never replaces one issued later (a replayed old document); unknown never blocks', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await writeObservations(h.db, [chunk({ ...LOAD, value: () => 100, documentId: 'A', issuedAt: at(8) })]);
      const correction = chunk({ ...LOAD, value: (i) => (i < 2 ? 90 : 100), documentId: 'B', issuedAt: at(12) });
      assert.equal((await writeObservations(h.db, [correction])).updated, 2);
      // The first document again (another mRID, an earlier issue time): refused, nothing changes.
      const before = await dumpObservations(h.db);
      const stale = await writeObservations(h.db, [
        chunk({ ...LOAD, value: () => 100, documentId: 'A', issuedAt: at(8) }),
      ]);
      assert.deepEqual([stale.inserted, stale.updated, stale.unchanged, stale.revisions], [0, 0, 4, 0]);
      assert.deepEqual(await dumpObservations(h.db), before);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 2);
      // A later document changes it, and its revision rows carry both issue times.
      const later = await writeObservations(h.db, [
        chunk({ ...LOAD, points: 1, value: () => 80, documentId: 'C', issuedAt: at(16) }),
      ]);
      assert.equal(later.updated, 1);
      const { rows: revs } = await h.db.query<{ old_issued_at: Date; issued_at: Date }>(
        `SELECT old_issued_at, issued_at FROM grid_observation_revisions WHERE document_id = 'C'`,
      );
      assert.deepEqual(revs, [{ old_issued_at: new Date(at(12)), issued_at: new Date(at(16)) }]);
      // No issue time (an old producer): the value is compared by value and revision only, and the latest issue
      // time known for the key stays, so a dated replay older than it is still refused afterwards.
      const unknown = await writeObservations(h.db, [chunk({ ...LOAD, value: () => 70, documentId: 'D' })]);
      assert.equal(unknown.updated, 4);
      const { rows } = await h.db.query<{ value: number; issued_at: Date | null }>(
        'SELECT value, issued_at FROM grid_observations ORDER BY slot_start',
      );
      assert.deepEqual(
        rows.map((r) => [r.value, r.issued_at?.toISOString()]),
        [
          [70, '2025-10-22T16:00:00.000Z'],
          [70, '2025-10-22T12:00:00.000Z'],
          [70, '2025-10-22T12:00:00.000Z'],
          [70, '2025-10-22T12:00:00.000Z'],
        ],
      );
      const older = await writeObservations(h.db, [
        chunk({ ...LOAD, value: () => 60, documentId: 'E', issuedAt: at(1) }),
      ]);
      assert.deepEqual([older.updated, older.unchanged], [0, 4]);
      // …while a stored value of unknown issue time never blocks a dated one.
      const other = { ...LOAD, zone: 'SE_3' } as const;
      await writeObservations(h.db, [chunk({ ...other, value: () => 5, documentId: 'X' })]);
      const dated = await writeObservations(h.db, [
        chunk({ ...other, value: () => 6, documentId: 'Y', issuedAt: at(1) }),
      ]);
      assert.equal(dated.updated, 4);
      // Inside one batch the later issued wins, whatever the order and the revisions.
      const both = await writeObservations(h.db, [
        chunk({ ...LOAD, points: 1, value: () => 50, documentId: 'F', revision: 1, issuedAt: at(22) }),
        chunk({ ...LOAD, points: 1, value: () => 40, documentId: 'G', revision: 9, issuedAt: at(21) }),
      ]);
      assert.deepEqual([both.updated, both.superseded], [1, 1]);
      const { rows: first } = await h.db.query<{ value: number }>(
        "SELECT value FROM grid_observations WHERE zone = 'FI' ORDER BY slot_start LIMIT 1",
      );
      assert.deepEqual(first, [{ value: 50 }]);
      // A malformed issue time is refused with the chunk, like any bad key field.
      const bad = await writeObservations(h.db, [chunk({ ...LOAD, value: () => 1, issuedAt: 'yesterday' })]);
      assert.deepEqual(
        bad.rejected.map((r) => [r.reason, r.point]),
        [['store.invalid_key', null]],
      );
    });

    it('a later issue of the same value moves the issue time only, so a replay issued in between stays refused', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await writeObservations(h.db, [chunk({ ...LOAD, value: () => 10, documentId: 'A', issuedAt: at(8) })]);
      const seriesBefore = await h.db.query<{ updated_at: Date; dirty_from: Date | null }>(
        'SELECT updated_at, dirty_from FROM grid_series',
      );
      // The next lookback fetches the same values again, issued at 16:00: no value changes, no revision.
      const again = await writeObservations(h.db, [
        chunk({ ...LOAD, value: () => 10, documentId: 'B', issuedAt: at(16) }),
      ]);
      assert.deepEqual([again.inserted, again.updated, again.unchanged, again.revisions], [0, 0, 4, 0]);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 0);
      const { rows } = await h.db.query<{ value: number; issued_at: Date; document_id: string }>(
        'SELECT DISTINCT value, issued_at, document_id FROM grid_observations',
      );
      assert.deepEqual(rows, [{ value: 10, issued_at: new Date(at(16)), document_id: 'A' }]);
      assert.deepEqual(
        (await h.db.query('SELECT updated_at, dirty_from FROM grid_series')).rows,
        seriesBefore.rows,
        'a confirmation is not a change: no rollup work, no live-feed update',
      );
      // A document issued at 12:00 (older than the confirmation) replayed now: refused.
      const replay = await writeObservations(h.db, [
        chunk({ ...LOAD, value: () => 12, documentId: 'C', issuedAt: at(12) }),
      ]);
      assert.deepEqual([replay.updated, replay.unchanged], [0, 4]);
      assert.deepEqual((await h.db.query('SELECT DISTINCT value FROM grid_observations')).rows, [{ value: 10 }]);
      // Replaying the confirmation itself is a plain no-op.
      const same = await writeObservations(h.db, [
        chunk({ ...LOAD, value: () => 10, documentId: 'B', issuedAt: at(16) }),
      ]);
      assert.deepEqual([same.updated, same.unchanged], [0, 4]);
    });

    it('a change of flags alone (estimated → measured) updates the row and keeps the old flags as a revision', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const base = chunk({ ...LOAD, value: () => 7, documentId: 'em', issuedAt: at(8) });
      const flagged = (flags: GridSeriesChunk['points'][number]['f'], issuedAt: string): GridSeriesChunk => ({
        ...base,
        issuedAt,
        points: base.points.map((p, i) => (i < 2 && flags !== undefined ? { ...p, f: flags } : p)),
      });
      await writeObservations(h.db, [flagged(['estimated'], at(8))]);
      const replay = await writeObservations(h.db, [flagged(['estimated'], at(8))]);
      assert.deepEqual([replay.updated, replay.unchanged], [0, 4], 'same flags: a replay');
      await h.db.exec('UPDATE grid_series SET dirty_from = NULL, dirty_to = NULL'); // as after a rollup refresh
      const measured = await writeObservations(h.db, [flagged(undefined, at(9))]);
      assert.deepEqual([measured.updated, measured.unchanged, measured.revisions], [2, 2, 2]);
      const dirty = await h.db.query<{ dirty_from: Date; dirty_to: Date }>(
        'SELECT dirty_from, dirty_to FROM grid_series',
      );
      assert.deepEqual(dirty.rows, [{ dirty_from: new Date(DAY), dirty_to: new Date(Date.parse(DAY) + 900_000) }]);
      const { rows } = await h.db.query<{ flags: string[] | null; n: number }>(
        'SELECT flags, count(*)::int AS n FROM grid_observations GROUP BY flags',
      );
      assert.deepEqual(rows, [{ flags: null, n: 4 }]);
      const revisions = await h.db.query<{ old_flags: string[] | null; old_value: number; new_value: number }>(
        'SELECT old_flags, old_value, new_value FROM grid_observation_revisions',
      );
      assert.deepEqual(revisions.rows, [
        { old_flags: ['estimated'], old_value: 7, new_value: 7 },
        { old_flags: ['estimated'], old_value: 7, new_value: 7 },
      ]);
      // An older issue saying "estimated" again is refused like any older value; the same flags later only confirm.
      const stale = await writeObservations(h.db, [flagged(['estimated'], at(8))]);
      assert.deepEqual([stale.updated, stale.unchanged], [0, 4]);
      const confirmed = await writeObservations(h.db, [flagged(undefined, at(10))]);
      assert.deepEqual([confirmed.updated, confirmed.revisions], [0, 0]);
      assert.equal(await count(h.db, 'grid_observation_revisions'), 2);
    });

    it('resolves duplicate keys inside a batch: highest revision wins, then the later point', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const result = await writeObservations(h.db, [
        chunk({ start: DAY, points: 1, value: () => 1, revision: 5, documentId: 'X' }),
        chunk({ start: DAY, points: 1, value: () => 2, revision: 4, documentId: 'Y' }),
        chunk({ start: '2025-10-21T00:15:00Z', points: 1, value: () => 3, revision: 1 }),
        chunk({ start: '2025-10-21T00:15:00Z', points: 1, value: () => 4, revision: 1 }),
      ]);
      assert.deepEqual([result.inserted, result.superseded], [2, 2]);
      const { rows } = await h.db.query<{ value: number; document_id: string }>(
        'SELECT value, document_id FROM grid_observations ORDER BY slot_start',
      );
      assert.deepEqual(rows, [
        { value: 1, document_id: 'X' },
        { value: 4, document_id: 'doc-1' },
      ]);
    });

    it('refuses invalid points before COPY and rows the database rejects after it, writing the rest', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      // An operator's extra rule the writer cannot know about: only the database can reject these rows, which
      // exercises the bisection (in the direct COPY path and in the upsert path).
      await h.db.exec('ALTER TABLE grid_observations ADD CONSTRAINT test_no_999 CHECK (value <> 999)');
      await writeObservations(h.db, [chunk({ zone: 'NO_5', start: DAY, points: 8, value: () => 1 })]);
      const bad = chunk({ start: DAY, points: 50, value: (i) => (i === 7 || i === 31 ? 999 : i) });
      const correction = chunk({ zone: 'NO_5', start: DAY, points: 8, value: (i) => (i === 3 ? 999 : 2) });
      const invalid: GridSeriesChunk[] = [
        { ...chunk({ start: DAY, points: 1, productionType: 'B01' }), unit: 'furlong' as (typeof UNITS)[number] },
        {
          ...chunk({ start: DAY, points: 2, productionType: 'B02' }),
          points: [
            { t: '2025-02-30T00:00:00Z', v: 1 },
            { t: '2025-10-21T00:00:00Z', v: Number.NaN },
          ],
        },
      ];
      const result = await writeObservations(h.db, [bad, correction, ...invalid]);
      const rejected = result.rejected.map((r) => `${r.chunk}/${String(r.point)}:${r.reason}`).sort();
      assert.deepEqual(rejected, [
        '0/31:store.constraint_violation',
        '0/7:store.constraint_violation',
        '1/3:store.constraint_violation',
        '2/null:store.unknown_unit',
        '3/0:store.invalid_slot',
        '3/1:store.invalid_value',
      ]);
      assert.equal(result.inserted, 48);
      assert.equal(result.updated, 7);
      const refused = result.rejected.find((r) => r.chunk === 0 && r.point === 7);
      assert.equal(refused?.sqlState, '23514');
      assert.deepEqual(refused.payload.points, [{ t: '2025-10-21T01:45:00Z', v: 999 }]);
      assert.equal(await count(h.db, 'grid_observations', `zone = 'FI'`), 48);
      assert.equal(await count(h.db, 'grid_observations', `zone = 'NO_5' AND value = 2`), 7);
    });

    it('records each series and its slot range in grid_series', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await writeObservations(h.db, [chunk({ start: DAY, points: 4 })]);
      await writeObservations(h.db, [chunk({ start: '2025-10-20T23:00:00Z', points: 2 })]);
      const { rows } = await h.db.query<{ first_slot: Date; last_slot: Date; unit: string }>(
        'SELECT first_slot, last_slot, unit FROM grid_series',
      );
      assert.deepEqual(rows, [
        { first_slot: new Date('2025-10-20T23:00:00Z'), last_slot: new Date('2025-10-21T00:45:00Z'), unit: 'MW' },
      ]);
    });

    it('accepts every unit of the contracts (the CHECK constraint and UNITS agree)', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const chunks = UNITS.map((unit, i) =>
        chunk({ unit, productionType: `B${String(i + 1).padStart(2, '0')}`, start: DAY, points: 1 }),
      );
      const result = await writeObservations(h.db, chunks);
      assert.deepEqual([result.inserted, result.rejected.length], [UNITS.length, 0]);
    });
  });
}
