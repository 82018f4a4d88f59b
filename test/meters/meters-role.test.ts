import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Component } from '../../src/common/index.ts';
import type { MeterSettings } from '../../src/config/index.ts';
import type { CanonicalReading } from '../../src/contracts/index.ts';
import { READING_SCHEMA_VERSION, rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { insertMeter, metersRole, resolveMeter } from '../../src/meters/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, deadLetters, interval, metersDrained, quarters } from '../helpers/meters.ts';

const SETTINGS: MeterSettings = DEFAULT_METER_SETTINGS;

/** Berlin's local 2026-10-24 in UTC, and the first hour of the 25th. */
const DAY_24 = quarters('2026-10-23T22:00:00Z', '2026-10-24T22:00:00Z');
const EARLY_25 = quarters('2026-10-24T22:00:00Z', '2026-10-24T23:00:00Z');

async function register(
  infra: Infrastructure,
  id: string,
  group: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await insertMeter(
    infra.db,
    resolveMeter(
      {
        meter_id: id,
        zone: 'DE_LU',
        group,
        register_type: 'import',
        interval: 'PT15M',
        annual_consumption_kwh: '3500',
        profile: 'H0',
        ...extra,
      } as Parameters<typeof resolveMeter>[0],
      infra.reference,
    ),
  );
}

async function run(infra: Infrastructure, settings: MeterSettings = SETTINGS): Promise<{ stop(): Promise<void> }> {
  const components: Component[] = metersRole({ ...infra, settings });
  for (const c of components) await c.start();
  return {
    async stop() {
      for (const c of [...components].reverse()) await c.stop({ graceMs: 5000 });
    },
  };
}

const rows = async <T>(infra: Infrastructure, sql: string, params: unknown[] = []): Promise<T[]> =>
  (await infra.db.query<T>(sql, params)).rows;

describe('meters role (embedded log, PGlite)', () => {
  it('stores intervals, emits the day row and group windows once the watermark passes, dead-letters what it refuses', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await register(infra, 'M1', 'feeder-1');
    await register(infra, 'M2', 'feeder-1');
    const readings: CanonicalReading[] = [
      ...[...DAY_24, ...EARLY_25].map((ts) => interval('M1', ts, '0.25')),
      ...[...DAY_24, ...EARLY_25].map((ts) => interval('M2', ts, '0.125')),
      interval('M1', DAY_24[0] ?? '', '0.25'), // an exact duplicate
      interval('GHOST', EARLY_25[3] ?? '', '1'), // not in the registry
      interval('M1', '2026-10-24T10:05:00Z', '1'), // off the quarter-hour grid
      {
        v: READING_SCHEMA_VERSION,
        meter_id: 'PMU-7',
        kind: 'pmu',
        quantity: 'frequency',
        ts: '2026-10-24T22:45:00.020Z',
        value: '49.987',
      },
    ];
    // Every partition with input reaches the 25th, so the watermark passes the 24th without waiting for idleness.
    await produceValues(infra.log, rawMetersTopic, readings);
    const role = await run(infra);
    t.after(() => role.stop());
    await metersDrained(infra.log, infra.db);

    const stored = await rows<{ meter_id: string; n: number; sum: string }>(
      infra,
      `SELECT meter_id, count(*)::int AS n, sum(value)::text AS sum FROM meter_intervals GROUP BY meter_id ORDER BY meter_id`,
    );
    assert.deepEqual(stored, [
      { meter_id: 'M1', n: 100, sum: '25.00' },
      { meter_id: 'M2', n: 100, sum: '12.500' },
    ]);
    const day = await rows<{ meter_id: string; slots: number; sum: string; count: number; expected: number }>(
      infra,
      `SELECT meter_id, cardinality("values") AS slots, sum::text AS sum, count, expected FROM meter_days
       WHERE local_day = '2026-10-24' ORDER BY meter_id`,
    );
    assert.deepEqual(day, [
      { meter_id: 'M1', slots: 96, sum: '24.00', count: 96, expected: 96 },
      { meter_id: 'M2', slots: 96, sum: '12.000', count: 96, expected: 96 },
    ]);
    // The 25th is not over for the watermark: no day row yet, its window waits.
    assert.equal((await rows(infra, `SELECT 1 FROM meter_days WHERE local_day = '2026-10-25'`)).length, 0);
    const group = await rows<{ resolution: string; n: number; sum: string }>(
      infra,
      `SELECT resolution, count(*)::int AS n, sum(sum)::text AS sum FROM group_aggregates
       WHERE group_id = 'feeder-1' AND window_start < '2026-10-24T22:00:00Z' GROUP BY resolution ORDER BY resolution`,
    );
    assert.deepEqual(
      group.map((g) => [g.resolution, g.n, Number(g.sum)]),
      [
        ['P1D', 1, 36],
        ['PT15M', 96, 36],
        ['PT1H', 24, 36],
      ],
    );
    const pmu = await rows<{ value: string }>(
      infra,
      `SELECT value::text AS value FROM device_readings WHERE device_id = 'PMU-7'`,
    );
    assert.deepEqual(pmu, [{ value: '49.987' }]);
    const letters = await deadLetters(infra.log, 'dlq-processing');
    assert.deepEqual(letters.map((l) => l.reason).sort(), ['meters.misaligned', 'meters.unknown_meter']);
    assert.ok(letters.every((l) => l.source?.topic === 'raw.meters' && typeof l.source.offset === 'number'));
  });

  it('restates an emitted day on a correction within the allowed lateness, keeps revisions, dead-letters data past it', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await register(infra, 'M1', 'feeder-1');
    await produceValues(
      infra.log,
      rawMetersTopic,
      [...DAY_24, ...EARLY_25].map((ts) => interval('M1', ts, '0.25', { recorded_at: '2026-10-25T06:00:00Z' })),
    );
    let role = await run(infra);
    await metersDrained(infra.log, infra.db);
    const before = await rows<{ sum: string; revision: number }>(
      infra,
      `SELECT sum::text AS sum, revision FROM meter_days WHERE meter_id = 'M1' AND local_day = '2026-10-24'`,
    );
    assert.deepEqual(before, [{ sum: '24.00', revision: 0 }]);
    // Restart in between: the state (watermark, pending windows, offsets) comes back from the database.
    await role.stop();
    await produceValues(infra.log, rawMetersTopic, [
      // A correction issued later wins…
      interval('M1', DAY_24[10] ?? '', '1.25', { recorded_at: '2026-10-26T06:00:00Z' }),
      // …an older one arriving after it loses (kept as a revision only).
      interval('M1', DAY_24[11] ?? '', '9', { recorded_at: '2026-10-24T06:00:00Z' }),
      // Two weeks before the watermark: later than the allowed lateness.
      interval('M1', '2026-10-10T10:00:00Z', '0.5'),
    ]);
    role = await run(infra);
    t.after(() => role.stop());
    await metersDrained(infra.log, infra.db);
    // The restated day is emitted by the same transaction as the correction.
    const after = await rows<{ sum: string; revision: number; restated: boolean }>(
      infra,
      `SELECT sum::text AS sum, revision, restated FROM meter_days WHERE meter_id = 'M1' AND local_day = '2026-10-24'`,
    );
    assert.deepEqual(after, [{ sum: '25.00', revision: 1, restated: true }]);
    const dayRevisions = await rows<{ sum: string }>(infra, `SELECT sum::text AS sum FROM meter_day_revisions`);
    assert.deepEqual(dayRevisions, [{ sum: '24.00' }]);
    const revisions = await rows<{ ts: Date; value: string }>(
      infra,
      `SELECT ts, value::text AS value FROM meter_interval_revisions ORDER BY ts`,
    );
    assert.deepEqual(
      revisions.map((r) => [r.ts.toISOString().replace('.000Z', 'Z'), r.value]),
      [
        [DAY_24[10], '0.25'],
        [DAY_24[11], '9'],
      ],
    );
    assert.equal((await rows(infra, `SELECT 1 FROM meter_intervals WHERE ts = '2026-10-10T10:00:00Z'`)).length, 0);
    const letters = await deadLetters(infra.log, 'dlq-processing');
    assert.deepEqual(
      letters.map((l) => l.reason),
      ['meters.late'],
    );
    const group = await rows<{ sum: string; restated: boolean }>(
      infra,
      `SELECT sum::text AS sum, restated FROM group_aggregates WHERE group_id = 'feeder-1' AND resolution = 'P1D'
       AND window_start = '2026-10-23T22:00:00Z'`,
    );
    assert.equal(Number(group[0]?.sum), 25);
    assert.equal(group[0]?.restated, true);
  });

  it('an idle partition stops holding the watermark back after the idle timeout', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    // A2 stops early in the day and goes quiet; on its own partition it holds the watermark back until idle.
    for (const id of ['A1', 'A2']) await register(infra, id, 'feeder-2');
    await produceValues(infra.log, rawMetersTopic, [
      ...[...DAY_24, ...EARLY_25].map((ts) => interval('A1', ts, '0.1')),
      ...DAY_24.slice(0, 40).map((ts) => interval('A2', ts, '0.1')),
    ]);
    const role = await run(infra, { ...SETTINGS, idlePartitionMs: 1500 });
    t.after(() => role.stop());
    await metersDrained(infra.log, infra.db);
    const a1 = async (): Promise<number> =>
      (await rows(infra, `SELECT 1 FROM meter_days WHERE meter_id = 'A1' AND local_day = '2026-10-24'`)).length;
    // Within the timeout A2's partition holds the day open (unless both share a partition, then it is emitted).
    const deadline = Date.now() + 20_000;
    while ((await a1()) === 0) {
      assert.ok(Date.now() < deadline, 'the day was never emitted after the idle timeout');
      await new Promise((r) => setTimeout(r, 100));
    }
    const a2 = await rows<{ count: number; expected: number }>(
      infra,
      `SELECT count, expected FROM meter_days WHERE meter_id = 'A2' AND local_day = '2026-10-24'`,
    );
    assert.deepEqual(a2, [{ count: 40, expected: 96 }]);
  });
});

describe('meters role: unknown meters under policy register', () => {
  it('stores the reading and registers the meter in group unassigned, once', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await produceValues(infra.log, rawMetersTopic, [
      interval('NEW-1', DAY_24[0] ?? '', '0.5'),
      interval('NEW-1', DAY_24[1] ?? '', '0.75'),
    ]);
    const role = await run(infra, { ...SETTINGS, unknownMeter: 'register' });
    t.after(() => role.stop());
    await metersDrained(infra.log, infra.db);
    const meters = await rows<{ meter_id: string; group_id: string; zone: string; interval: string }>(
      infra,
      `SELECT meter_id, group_id, zone, interval FROM meters`,
    );
    assert.deepEqual(meters, [{ meter_id: 'NEW-1', group_id: 'unassigned', zone: 'unassigned', interval: 'PT15M' }]);
    const stored = await rows<{ n: number; groups: number }>(
      infra,
      `SELECT count(*)::int AS n, count(group_id)::int AS groups FROM meter_intervals WHERE meter_id = 'NEW-1'`,
    );
    assert.deepEqual(stored, [{ n: 2, groups: 0 }]);
    assert.deepEqual(await deadLetters(infra.log, 'dlq-processing'), []);
  });
});

describe('meters role: the interval comes from the registry', () => {
  it("stores a reading without an interval over its meter's interval, and refuses one that says another", async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await register(infra, 'H1', 'feeder-3', { interval: 'PT60M' });
    const common = interval('H1', '2026-10-24T10:00:00Z', '1.5');
    const { interval: _ignored, ...withoutInterval } = common;
    await produceValues(infra.log, rawMetersTopic, [
      withoutInterval as CanonicalReading,
      interval('H1', '2026-10-24T11:00:00Z', '2'),
    ]);
    const role = await run(infra);
    t.after(() => role.stop());
    await metersDrained(infra.log, infra.db);
    const stored = await rows<{ value: string; interval_s: number }>(
      infra,
      `SELECT value::text AS value, interval_s FROM meter_intervals WHERE meter_id = 'H1'`,
    );
    assert.deepEqual(stored, [{ value: '1.5', interval_s: 3600 }]);
    const letters = await deadLetters(infra.log, 'dlq-processing');
    assert.deepEqual(
      letters.map((l) => l.reason),
      ['meters.interval_mismatch'],
    );
  });
});
