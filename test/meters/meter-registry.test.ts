import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import type { Meter } from '../../src/meters/index.ts';
import {
  MeterError,
  MeterInputSchema,
  MeterRegistryCache,
  exchangeMeter,
  importMeters,
  insertMeter,
  listMeters,
  meterHistory,
  metersByIds,
  resolveMeter,
  updateMeter,
} from '../../src/meters/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { DB_KINDS, openTestDb } from '../storage/helpers.ts';

const reference = loadReference();

const HEADER = 'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile';
const FILE = [
  `${HEADER},lat,lon,register_capacity_kwh,valid_from,valid_to`,
  'm-1,DE_LU,feeder-a,,import,,3500,H0,52.52,13.405,,,',
  'm-2,FR,feeder-b,Europe/Paris,net,PT30M,12000.50,G1,,,99999.9,2026-01-01T00:00:00+01:00,',
  'm-3,NOPE,feeder-a,,import,PT15M,1000,H0,,,,,', // unknown zone
  'm-4,DE_LU,feeder-a,,import,PT10M,1000,H0,,,,,', // interval not allowed
  'm-5,DE_LU,feeder-a,,import,PT15M,-1,H0,,,,,', // negative consumption
  'm-6,DE_LU,feeder-a,,import,PT15M,1000,X9,,,,,', // unknown profile
  'm-7,DE_LU,feeder-a,Mars/Olympus,import,PT15M,1000,H0,,,,,', // unknown time zone
  'm-8,DE_LU,feeder-a,,import,PT15M,1000,H0,,,,2026-01-01T00:00:00,', // no offset
  'm-9,DE_LU,feeder-a,,import,PT15M,1000,H0,,,,', // a field short
  '',
].join('\n');

function meter(fields: Partial<Meter> = {}): Meter {
  return resolveMeter(
    MeterInputSchema.parse({
      meter_id: 'x-1',
      zone: 'DE_LU',
      group: 'g',
      register_type: 'import',
      annual_consumption_kwh: '3000',
      profile: 'H0',
      ...fields,
    }),
    reference,
  );
}

describe('meter registry: input', () => {
  it("defaults the time zone to the zone's and the interval to PT15M, keeps the consumption exact", () => {
    const m = meter({ annual_consumption_kwh: '4200.10' });
    assert.equal(m.time_zone, 'Europe/Berlin');
    assert.equal(m.interval, 'PT15M');
    assert.equal(m.annual_consumption_kwh, '4200.1');
  });
});

for (const kind of DB_KINDS) {
  describe(`meter registry: ${kind}`, () => {
    it('imports a CSV, reports rejects by line, and a second import changes nothing', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const first = await importMeters(h.db, reference, FILE);
      assert.equal(first.inserted, 2);
      assert.deepEqual(
        first.rejects.map((r) => r.line),
        [4, 5, 6, 7, 8, 9, 10],
      );
      assert.match(first.rejects[0]?.reason ?? '', /unknown zone NOPE/);
      assert.match(first.rejects[1]?.reason ?? '', /interval/);
      assert.match(first.rejects[2]?.reason ?? '', /annual_consumption_kwh/);
      assert.match(first.rejects[3]?.reason ?? '', /profile/);
      assert.match(first.rejects[4]?.reason ?? '', /time zone/);
      assert.match(first.rejects[5]?.reason ?? '', /valid_from/);
      assert.match(first.rejects[6]?.reason ?? '', /fields/);
      const rows = await listMeters(h.db);
      assert.deepEqual(rows, [
        {
          meter_id: 'm-1',
          zone: 'DE_LU',
          group: 'feeder-a',
          time_zone: 'Europe/Berlin',
          register_type: 'import',
          interval: 'PT15M',
          annual_consumption_kwh: '3500',
          profile: 'H0',
          lat: 52.52,
          lon: 13.405,
          register_capacity_kwh: null,
          simulated: false,
          valid_from: null,
          valid_to: null,
        },
        {
          meter_id: 'm-2',
          zone: 'FR',
          group: 'feeder-b',
          time_zone: 'Europe/Paris',
          register_type: 'net',
          interval: 'PT30M',
          annual_consumption_kwh: '12000.5',
          profile: 'G1',
          lat: null,
          lon: null,
          register_capacity_kwh: '99999.9',
          simulated: false,
          valid_from: '2025-12-31T23:00:00.000Z',
          valid_to: null,
        },
      ]);
      const again = await importMeters(h.db, reference, FILE);
      assert.deepEqual([again.inserted, again.updated, again.unchanged], [0, 0, 2]);
      const changed = await importMeters(h.db, reference, FILE.replace('3500,H0', '3600,H0'));
      assert.deepEqual([changed.inserted, changed.updated, changed.unchanged], [0, 1, 1]);
      assert.equal((await listMeters(h.db, { meterId: 'm-1' }))[0]?.annual_consumption_kwh, '3600');
    });

    it('new meters go in one statement; one the database refuses sends its batch line by line, each answered', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      // A refusal only the database makes (as a constraint would): meter n-2.
      await h.db.exec(`CREATE FUNCTION test_refuse_n2() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.meter_id = 'n-2' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '23514'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_refuse_n2 BEFORE INSERT ON meters FOR EACH ROW EXECUTE FUNCTION test_refuse_n2();`);
      const file = [
        HEADER,
        'n-1,DE_LU,g,,import,,1000,H0',
        'n-2,DE_LU,g,,import,,1000,H0',
        'n-3,DE_LU,g,,import,,1000,H0',
      ]
        .join('\n')
        .concat('\n');
      const r = await importMeters(h.db, reference, file);
      assert.deepEqual([r.inserted, r.updated, r.unchanged], [2, 0, 0]);
      assert.deepEqual(
        r.rejects.map((x) => [x.line, x.meterId, x.reason.split(':')[0]]),
        [[3, 'n-2', 'meters.invalid']],
      );
      assert.deepEqual(
        (await listMeters(h.db)).map((m) => m.meter_id),
        ['n-1', 'n-3'],
      );
    });

    it('imports a file of more meters than the lock table holds in one transaction', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      // Each written meter id is locked until commit; PostgreSQL's default lock table (64 × 100 connections)
      // overflowed with one transaction for the whole file ("out of shared memory").
      const count = kind === 'postgres' ? 15_000 : 600;
      const lines = [HEADER];
      for (let i = 0; i < count; i++) lines.push(`big-${i},DE_LU,g${i % 50},,import,,${1000 + i},H0`);
      const result = await importMeters(h.db, reference, lines.join('\n'));
      assert.deepEqual([result.inserted, result.rejects.length], [count, 0]);
      assert.equal((await listMeters(h.db, { group: 'g7' })).length, count / 50);
    });

    it('a meter exchange in a file: the old validity closed, the new one opened, in either order', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await importMeters(h.db, reference, `${HEADER}\nx-9,DE_LU,g,,import,,1000,H0\n`);
      const exchange = [
        `${HEADER},valid_from,valid_to`,
        'x-9,DE_LU,g,,import,,1200,G0,2026-06-01T00:00Z,', // the new device first in the file
        'x-9,DE_LU,g,,import,,1000,H0,,2026-06-01T00:00Z',
      ].join('\n');
      const result = await importMeters(h.db, reference, exchange);
      assert.deepEqual([result.inserted, result.updated, result.rejects], [1, 1, []]);
      assert.deepEqual(
        (await meterHistory(h.db, 'x-9')).map((m) => [m.valid_from, m.valid_to, m.profile]),
        [
          [null, '2026-06-01T00:00:00.000Z', 'H0'],
          ['2026-06-01T00:00:00.000Z', null, 'G0'],
        ],
      );
    });

    it('refuses overlapping validities of one meter, in a file and through the store', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const file = [
        `${HEADER},valid_from,valid_to`,
        'o-1,DE_LU,g,,import,,1000,H0,2026-01-01T00:00Z,2026-03-01T00:00Z',
        'o-1,DE_LU,g,,import,,1000,H0,2026-02-01T00:00Z,', // overlaps line 2
        'o-1,DE_LU,g,,import,,1000,H0,2026-03-01T00:00Z,', // adjacent: fine
      ].join('\n');
      const result = await importMeters(h.db, reference, file);
      assert.equal(result.inserted, 2);
      assert.deepEqual(
        result.rejects.map((r) => [r.line, r.reason.split(':')[0]]),
        [[3, 'meters.overlap']],
      );
      await assert.rejects(
        insertMeter(h.db, meter({ meter_id: 'o-1', valid_from: '2025-12-01T00:00:00.000Z' })),
        (e: unknown) => e instanceof MeterError && e.code === 'meters.overlap',
      );
      // Two writers at once: the second transaction writes while the first has inserted but not committed (neither
      // sees the other's row); exactly one of the two overlapping rows gets in.
      let second: Promise<void> | undefined;
      await h.db.transaction(async (tx) => {
        await insertMeter(tx, meter({ meter_id: 'race', valid_from: '2026-01-01T00:00:00.000Z' }));
        second = insertMeter(h.db, meter({ meter_id: 'race', valid_from: '2026-02-01T00:00:00.000Z' }));
        second.catch(() => undefined);
        await wait(300);
      });
      await assert.rejects(
        second ?? Promise.resolve(),
        (e: unknown) => e instanceof MeterError && e.code === 'meters.overlap',
      );
      assert.equal((await meterHistory(h.db, 'race')).length, 1);
    });

    it('the registry cache answers like the registry and sees every change (update, exchange, new meter)', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const cache = new MeterRegistryCache();
      await insertMeter(h.db, meter({ meter_id: 'c-1', group: 'g-1' }));
      await insertMeter(h.db, meter({ meter_id: 'c-2', group: 'g-1' }));
      const ids = ['c-1', 'c-2', 'c-3'];
      const same = async (): Promise<void> => {
        assert.deepEqual(await cache.lookup(h.db, ids), await metersByIds(h.db, ids));
      };
      await same();
      assert.equal((await cache.lookup(h.db, ids)).has('c-3'), false, 'an unknown meter is not in the answer');
      await updateMeter(h.db, reference, 'c-1', { group: 'g-2' });
      assert.equal((await cache.lookup(h.db, ids)).get('c-1')?.[0]?.group, 'g-2');
      await same();
      await exchangeMeter(h.db, reference, 'c-2', '2026-06-01T00:00:00Z', { profile: 'G0' });
      assert.equal((await cache.lookup(h.db, ids)).get('c-2')?.length, 2);
      await same();
      // An unknown meter is looked up again: once imported, it is there.
      await insertMeter(h.db, meter({ meter_id: 'c-3', group: 'g-3' }));
      assert.equal((await cache.lookup(h.db, ids)).get('c-3')?.[0]?.group, 'g-3');
      await same();
      // A change in an open transaction is not seen, and not kept under a later version once committed. (PGlite
      // has one connection: a read waits for the open transaction.)
      if (kind === 'postgres') {
        await h.db.transaction(async (tx) => {
          await tx.query("UPDATE meters SET group_id = 'g-9' WHERE meter_id = 'c-1'");
          assert.equal((await cache.lookup(h.db, ids)).get('c-1')?.[0]?.group, 'g-2');
        });
        assert.equal((await cache.lookup(h.db, ids)).get('c-1')?.[0]?.group, 'g-9');
        await same();
      }
    });

    it('a meter exchange closes one validity and opens the next; a patch updates and closes', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await insertMeter(h.db, meter({ meter_id: 'e-1' }));
      const at = '2026-06-01T00:00:00.000Z';
      const { closed, opened } = await exchangeMeter(h.db, reference, 'e-1', at, { profile: 'G0' });
      assert.equal(closed.valid_to, at);
      assert.equal(opened.valid_from, at);
      assert.equal(opened.profile, 'G0');
      const history = await meterHistory(h.db, 'e-1');
      assert.deepEqual(
        history.map((m) => [m.valid_from, m.valid_to, m.profile]),
        [
          [null, at, 'H0'],
          [at, null, 'G0'],
        ],
      );
      await assert.rejects(
        exchangeMeter(h.db, reference, 'e-1', at),
        (e: unknown) => e instanceof MeterError && e.code === 'meters.not_found',
      );
      const { after } = await updateMeter(h.db, reference, 'e-1', { zone: 'FR', valid_to: '2027-01-01T00:00:00Z' });
      assert.equal(after.time_zone, 'Europe/Paris');
      assert.equal(after.valid_to, '2027-01-01T00:00:00.000Z');
      // Closing the first validity after the second began would overlap.
      await assert.rejects(
        updateMeter(h.db, reference, 'e-1', { valid_to: '2026-07-01T00:00:00Z' }, { validFrom: null }),
        (e: unknown) => e instanceof MeterError && e.code === 'meters.overlap',
      );
      assert.deepEqual(
        (await listMeters(h.db, { zone: 'FR' })).map((m) => m.meter_id),
        ['e-1'],
      );
      assert.deepEqual(await listMeters(h.db, { zones: ['DE_LU'], current: true }), []);
      // A page holds whole meters: e-1's two validities count as one meter.
      await insertMeter(h.db, meter({ meter_id: 'e-2' }));
      const page = await listMeters(h.db, { limit: 1 });
      assert.deepEqual(
        page.map((m) => m.meter_id),
        ['e-1', 'e-1'],
      );
      assert.deepEqual(
        (await listMeters(h.db, { limit: 1, after: 'e-1' })).map((m) => m.meter_id),
        ['e-2'],
      );
    });
  });
}
