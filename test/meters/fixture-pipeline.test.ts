import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { normaliseDecimal, parseCsvRows } from '../../src/common/index.ts';
import type { MeterSettings } from '../../src/config/index.ts';
import { CanonicalReadingSchema, rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { importMeters, metersRole } from '../../src/meters/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, metersDrained } from '../helpers/meters.ts';

/**
 * The hand-checked fixture (test/fixtures/meters-berlin-2026-10: three Berlin meters over the end of summer time,
 * duplicates, corrections in both orders, a late and a missing reading, a register rollover and split hourly
 * reads) through the meters role: what it stores must be exactly the hand-written expected quarters and day sums.
 */
const DIR = new URL('../fixtures/meters-berlin-2026-10/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');
const csv = (name: string): Record<string, string>[] => {
  const [header = [], ...rows] = parseCsvRows(text(name).trim());
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
};
const norm = (v: string): string => normaliseDecimal(v) ?? v;

const SETTINGS: MeterSettings = DEFAULT_METER_SETTINGS;

describe('meters role on the hand-checked fixture (embedded log, PGlite)', () => {
  it('stores exactly the expected 15-minute values and day sums, in the order the lines arrive', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    const imported = await importMeters(infra.db, infra.reference, text('meters.csv'));
    assert.equal(imported.rejects.length, 0);
    const lines = text('readings.ndjson')
      .trim()
      .split('\n')
      .map((l) => CanonicalReadingSchema.parse(JSON.parse(l)));
    // In file order: one meter's lines share a partition, so the log keeps their order.
    await produceValues(infra.log, rawMetersTopic, lines);
    const role = metersRole({ ...infra, settings: SETTINGS });
    for (const c of role) await c.start();
    t.after(async () => {
      for (const c of [...role].reverse()) await c.stop({ graceMs: 5000 });
    });
    await metersDrained(infra.log, infra.db);

    const { rows } = await infra.db.query<{
      meter_id: string;
      ts: Date;
      value: string;
      quality: string;
      flags: string[];
    }>(`SELECT meter_id, ts, value::text AS value, quality, flags FROM meter_intervals ORDER BY meter_id, ts`);
    const got = rows.map((r) => [
      r.meter_id,
      r.ts.toISOString().replace('.000Z', 'Z'),
      norm(r.value),
      r.quality,
      [...r.flags].sort().join('|'),
    ]);
    const want = csv('expected-15min.csv')
      .filter((e) => e['quality'] !== 'missing')
      .map((e) => [e['meter_id'], e['ts_utc'], norm(e['value'] ?? ''), e['quality'], e['flags'] ?? ''])
      .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);

    // Day sums per local day, from the stored quarters; the 24th and 25th are also emitted as day rows (the
    // watermark is past their end), the 26th is still open.
    const days = await infra.db.query<{ meter_id: string; day: string; sum: string; count: number }>(
      `SELECT meter_id, to_char(ts AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD') AS day, sum(value)::text AS sum,
              count(*)::int AS count
       FROM meter_intervals GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const expectedDaily = csv('expected-daily.csv');
    assert.deepEqual(
      days.rows.map((d) => [d.meter_id, d.day, norm(d.sum), d.count]),
      expectedDaily.map((e) => [e['meter_id'], e['local_day'], norm(e['sum'] ?? ''), Number(e['count'])]),
    );
    const dayRows = await infra.db.query<{
      meter_id: string;
      day: string;
      sum: string;
      count: number;
      expected: number;
    }>(
      `SELECT meter_id, to_char(local_day, 'YYYY-MM-DD') AS day, sum::text AS sum, count, expected
       FROM meter_days ORDER BY 1, 2`,
    );
    assert.deepEqual(
      dayRows.rows.map((d) => [d.meter_id, d.day, norm(d.sum), d.count, d.expected]),
      expectedDaily
        .filter((e) => e['local_day'] !== '2026-10-26')
        .map((e) => [
          e['meter_id'],
          e['local_day'],
          norm(e['sum'] ?? ''),
          Number(e['count']),
          Number(e['expected_slots']),
        ]),
    );
  });
});
