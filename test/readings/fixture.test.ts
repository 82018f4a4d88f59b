import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import { addDecimals, normaliseDecimal, parseCsvRows } from '../../src/common/index.ts';
import type { CanonicalReading } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema } from '../../src/contracts/index.ts';
import type { ReceivedReading } from '../../src/readings/index.ts';
import { registerToIntervals, resolveValues } from '../../src/readings/index.ts';

/**
 * The hand-checked fixture test/fixtures/meters-berlin-2026-10 (its README derives every expected value) against the
 * pure rules, and its expected files against each other. The end-to-end comparison (gateway → API) is elsewhere.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'meters-berlin-2026-10');
/** M3's register capacity, as in meters.csv (`register_capacity_kwh`). */
const M3_CAPACITY = '99999.9' as Decimal;
const QUARTER_MS = 900_000;
const FIRST = Date.parse('2026-10-23T22:00:00Z');
const END = Date.parse('2026-10-26T23:00:00Z');

const csv = (name: string): Record<string, string>[] => {
  const [header = [], ...rows] = parseCsvRows(readFileSync(join(DIR, name), 'utf8').trimEnd());
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
};

/** Each line with its 1-based line number as its log position (the file is in the order received). */
const received: ReceivedReading[] = readFileSync(join(DIR, 'readings.ndjson'), 'utf8')
  .trimEnd()
  .split('\n')
  .map((line, i) => ({ reading: CanonicalReadingSchema.parse(JSON.parse(line)), position: BigInt(i + 1) }));
const expected = csv('expected-15min.csv');
const daily = csv('expected-daily.csv');
const expectedOf = (meter: string) => expected.filter((r) => r['meter_id'] === meter);

/** The local calendar day of a UTC instant in Berlin, by the platform's tz database (not gridstream's). */
const berlinDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', dateStyle: 'short' });

describe('fixture meters-berlin-2026-10', () => {
  it('has 871 canonical v2 readings and, per meter, every quarter of the period exactly once (100 on the 25th)', () => {
    assert.equal(received.length, 871);
    for (const meter of ['M1', 'M2', 'M3']) {
      const slots = expectedOf(meter).map((r) => Date.parse(r['ts_utc'] ?? ''));
      const all = Array.from({ length: (END - FIRST) / QUARTER_MS }, (_, i) => FIRST + i * QUARTER_MS);
      assert.deepEqual(slots, all, meter);
      assert.equal(slots.filter((t) => berlinDay.format(t) === '2026-10-25').length, 100, meter);
    }
  });

  it("registerToIntervals over M3's reads gives exactly M3's expected rows (rollover and split flagged)", () => {
    const reads = received
      .map((r) => r.reading)
      .filter((r) => r.meter_id === 'M3' && r.quantity === 'register_import')
      .map((r) => ({ ts: r.ts, value: r.value as Decimal }));
    assert.equal(reads.length, 282);
    const result = registerToIntervals(reads, { intervalMs: QUARTER_MS, capacity: M3_CAPACITY });
    assert.deepEqual(result.resets, []);
    assert.deepEqual(
      result.intervals.map((i) => `${i.start} ${i.value} measured ${i.flags.join('|')}`),
      expectedOf('M3').map((r) => `${r['ts_utc']} ${r['value']} ${r['quality']} ${r['flags']}`),
    );
  });

  it('resolveValues over M1 and M2 readings by key gives the expected winner of every quarter, or none', () => {
    const byKey = new Map<string, ReceivedReading[]>();
    for (const r of received) {
      if (r.reading.quantity !== 'energy_import') continue;
      const key = `${r.reading.meter_id} ${r.reading.ts}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    const revisions: CanonicalReading[] = [];
    const got = [...expectedOf('M1'), ...expectedOf('M2')].map((row) => {
      const readings = byKey.get(`${row['meter_id']} ${row['ts_utc']}`) ?? [];
      byKey.delete(`${row['meter_id']} ${row['ts_utc']}`);
      const { winner, revisions: lost } = resolveValues(readings);
      revisions.push(...lost.map((l) => l.reading));
      return `${row['meter_id']} ${row['ts_utc']} ${winner?.reading.value ?? ''} ${winner === undefined ? 'missing' : 'measured'}`;
    });
    const want = [...expectedOf('M1'), ...expectedOf('M2')].map(
      (r) => `${r['meter_id']} ${r['ts_utc']} ${r['value']} ${r['quality']}`,
    );
    assert.deepEqual(got, want);
    assert.deepEqual([...byKey.keys()], [], 'readings of no expected slot');
    // The README's cases 4, 5 and 6: each loser kept as a revision; duplicates (cases 1–3) make none.
    assert.deepEqual(revisions.map((r) => `${r.meter_id} ${r.ts} ${r.value}`).sort(), [
      'M1 2026-10-25T07:00:00Z 0.25',
      'M1 2026-10-26T18:00:00Z 0.4',
      'M2 2026-10-24T11:00:00Z 0.2',
    ]);
  });

  it('expected-daily is the sum and count of expected-15min per meter and Berlin day (a check of the hand files)', () => {
    const sums = new Map<string, { sum: Decimal; count: number; slots: number }>();
    for (const r of expected) {
      const key = `${r['meter_id']},${berlinDay.format(Date.parse(r['ts_utc'] ?? ''))}`;
      const s = sums.get(key) ?? { sum: '0' as Decimal, count: 0, slots: 0 };
      const value = r['value'] ?? '';
      sums.set(key, {
        sum: value === '' ? s.sum : addDecimals(s.sum, value as Decimal),
        count: s.count + (value === '' ? 0 : 1),
        slots: s.slots + 1,
      });
    }
    assert.deepEqual(
      [...sums.entries()].map(([k, s]) => `${k},${normaliseDecimal(s.sum)},${s.count},${s.slots}`),
      daily.map((d) => `${d['meter_id']},${d['local_day']},${d['sum']},${d['count']},${d['expected_slots']}`),
    );
  });
});
