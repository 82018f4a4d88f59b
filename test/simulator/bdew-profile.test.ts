import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SimulatedMeter } from '../../src/simulator/index.ts';
import {
  BDEW_PROFILES,
  NO_FAULTS,
  bdewDayType,
  bdewPeriod,
  loadBdewProfiles,
  localDayQuarters,
  profileQuarter,
  quarterUnits,
  simulate,
} from '../../src/simulator/index.ts';
import { ReferenceDataError } from '../../src/reference/index.ts';

const profiles = loadBdewProfiles();
const TZ = 'Europe/Berlin';

function meter(profile: SimulatedMeter['profile'], annualKwh: number, id = `m-${profile}`): SimulatedMeter {
  return { meterId: id, group: 'g', profile, annualKwh, mode: 'interval', registerStartUnits: 0 };
}

/** Truth of one meter without noise (σ = 0), as 1e-4 kWh units per interval start. */
function units(m: SimulatedMeter, from: string, to: string): Map<string, number> {
  const out = new Map<string, number>();
  const steps = simulate({
    meters: [m],
    profiles,
    from: Date.parse(from),
    to: Date.parse(to),
    seed: 1,
    noise: 0,
    faults: NO_FAULTS,
  });
  for (const step of steps) for (const t of step.truth) out.set(t.ts, Math.round(Number(t.value) * 10_000));
  return out;
}

describe('BDEW standard load profiles', () => {
  it('loads the shipped table: 11 profiles × 3 periods × 3 day types × 96 quarter hours', () => {
    assert.equal(BDEW_PROFILES.length, 11);
    // Values read off data/reference/bdew-slp-1999.csv by hand.
    assert.equal(profiles.watts('H0', 'winter', 'saturday', 0), 70.8);
    assert.equal(profiles.watts('G0', 'summer', 'workday', 48), 205.1);
    assert.equal(profiles.watts('L0', 'transition', 'sunday', 95), 72.3);
  });

  it('refuses a table that does not validate or lacks quarter hours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bdew-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'profile_id,period,day,timestamp,watts\nH0,winter,saturday,00:00,lots\n');
    assert.throws(
      () => loadBdewProfiles(bad),
      (e: unknown) => e instanceof ReferenceDataError && e.code === 'reference.data_invalid',
    );
    const short = join(dir, 'short.csv');
    const lines = readFileSync(new URL('../../data/reference/bdew-slp-1999.csv', import.meta.url), 'utf8').split('\n');
    writeFileSync(short, lines.slice(0, -2).join('\n'));
    assert.throws(() => loadBdewProfiles(short), /lacks quarter hours/);
  });

  it('energy of a quarter = watts × 0.25 h / 1000 × annual kWh / 1000 × noise, 4 decimals (checked by hand)', () => {
    // 70.8 W × 0.25 h = 17.7 Wh = 0.0177 kWh per 1,000 kWh/a; × 3 = 0.0531 kWh
    assert.equal(quarterUnits(70.8, 3_000, 1), 531);
    // 205.1 W × 0.25 h = 51.275 Wh; × 20 = 1.0255 kWh
    assert.equal(quarterUnits(205.1, 20_000, 1), 10_255);
    // 72.3 W × 0.25 h = 18.075 Wh; × 12.345 = 0.223135875 kWh → 0.2231
    assert.equal(quarterUnits(72.3, 12_345, 1), 2_231);
    // 132.4 W × 0.25 h = 33.1 Wh; × 4 = 0.1324 kWh; × 1.1 noise = 0.14564 → 0.1456
    assert.equal(quarterUnits(132.4, 4_000, 1.1), 1_456);
    // Through the simulation: Saturday 3 Jan 2026 00:00 local (winter) is 2 Jan 23:00 UTC: H0 70.8 W.
    const h0 = units(meter('H0', 3_000), '2026-01-02T23:00:00Z', '2026-01-02T23:15:00Z');
    assert.deepEqual([...h0], [['2026-01-02T23:00:00Z', 531]]);
    // Wednesday 15 July 2026 12:00 local (CEST) is 10:00 UTC: G0 summer workday 205.1 W.
    const g0 = units(meter('G0', 20_000), '2026-07-15T10:00:00Z', '2026-07-15T10:15:00Z');
    assert.deepEqual([...g0], [['2026-07-15T10:00:00Z', 10_255]]);
  });

  it('periods and day types follow the local calendar (24/31 Dec are Saturdays; holidays only with a calendar)', () => {
    assert.deepEqual(
      ['03-20', '03-21', '05-14', '05-15', '09-14', '09-15', '10-31', '11-01'].map((d) =>
        bdewPeriod(Number(d.slice(0, 2)), Number(d.slice(3))),
      ),
      ['winter', 'transition', 'transition', 'summer', 'summer', 'transition', 'transition', 'winter'],
    );
    assert.equal(bdewDayType(2026, 12, 24), 'saturday'); // a Thursday
    assert.equal(bdewDayType(2026, 12, 31), 'saturday'); // a Thursday
    assert.equal(bdewDayType(2028, 12, 24), 'sunday'); // a Sunday stays one
    assert.equal(bdewDayType(2026, 12, 25), 'workday'); // Christmas without a calendar: a Friday
    assert.equal(bdewDayType(2026, 12, 25, new Set(['2026-12-25'])), 'sunday');
    assert.equal(bdewDayType(2026, 12, 5), 'saturday');
    // 00:30 UTC on 1 Nov 2026 is 01:30 CET on 1 Nov: winter, Sunday, quarter 6.
    const q = profileQuarter(Date.parse('2026-11-01T00:30:00Z'), TZ);
    assert.deepEqual([q.localDate, q.period, q.dayType, q.quarter], ['2026-11-01', 'winter', 'sunday', 6]);
  });

  it('DST: 2026-03-29 has 92 quarters (02:00–03:00 skipped), 2026-10-25 has 100 (02:00–03:00 twice)', () => {
    const spring = localDayQuarters(Date.parse('2026-03-29T12:00:00Z'), TZ);
    assert.equal(spring.length, 92);
    assert.equal(spring[0]?.ts, Date.parse('2026-03-28T23:00:00Z'));
    assert.deepEqual(
      spring.slice(6, 10).map((q) => q.quarter),
      [6, 7, 12, 13],
    );
    const autumn = localDayQuarters(Date.parse('2026-10-25T12:00:00Z'), TZ);
    assert.equal(autumn.length, 100);
    assert.equal(autumn[0]?.ts, Date.parse('2026-10-24T22:00:00Z'));
    assert.deepEqual(
      autumn.slice(8, 16).map((q) => q.quarter),
      [8, 9, 10, 11, 8, 9, 10, 11],
    );
    // 4,000 kWh/a makes a quarter's energy exactly watts × 10 units. H0, transition, Sunday, 02:00–02:45:
    // 51.7, 49.4, 47.8, 46.6 W (from the CSV) → 517, 494, 478, 466; sent for 02:00 CEST and again for 02:00 CET.
    const day = units(meter('H0', 4_000), '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z');
    assert.equal(day.size, 100);
    const at = (ts: string): number | undefined => day.get(ts);
    assert.deepEqual(
      ['00:00', '00:15', '00:30', '00:45', '01:00', '01:15', '01:30', '01:45'].map((t) => at(`2026-10-25T${t}:00Z`)),
      [517, 494, 478, 466, 517, 494, 478, 466],
    );
    const march = units(meter('H0', 4_000), '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z');
    assert.equal(march.size, 92);
  });

  // Without holidays the workday-heavy commercial profiles run a little over (G1 +3.9 % in 2025: no public holiday is
  // taken as a Sunday); H0 is within 0.2 %.
  it('a full non-leap year of each profile sums to its annual consumption within 5 %, H0 within 0.5 %', () => {
    for (const profile of BDEW_PROFILES) {
      const year = units(meter(profile, 4_000), '2024-12-31T23:00:00Z', '2025-12-31T23:00:00Z');
      assert.equal(year.size, 365 * 96);
      const kwh = [...year.values()].reduce((a, b) => a + b, 0) / 10_000;
      assert.ok(
        Math.abs(kwh / 4_000 - 1) < (profile === 'H0' ? 0.005 : 0.05),
        `${profile}: ${kwh} kWh for 4,000 kWh/a`,
      );
    }
  });
});

describe('local days by wall-clock quarter (property)', () => {
  /** Noon UTC of the last Sunday of March or October of a year: the EU's DST change days. */
  const dstSunday = fc
    .record({ year: fc.integer({ min: 2000, max: 2040 }), month: fc.constantFrom(2, 9) })
    .map(({ year, month }) => {
      const last = new Date(Date.UTC(year, month + 1, 0, 12));
      return last.getTime() - last.getUTCDay() * 86_400_000;
    });
  it('every local day in Europe/Berlin 2000–2040 has 92, 96 or 100 quarters with the right profile indices', () => {
    const all = Array.from({ length: 96 }, (_, i) => i);
    const skipped = all.filter((i) => i < 8 || i > 11);
    const repeated = [...all.slice(0, 12), 8, 9, 10, 11, ...all.slice(12)];
    const seen = new Set<number>();
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), dstSunday), (t) => {
        const day = localDayQuarters(t, TZ);
        const quarters = day.map((q) => q.quarter);
        const expected = day.length === 92 ? skipped : day.length === 100 ? repeated : all;
        seen.add(day.length);
        assert.deepEqual(quarters, expected);
        for (let i = 1; i < day.length; i++) assert.equal((day[i]?.ts ?? 0) - (day[i - 1]?.ts ?? 0), 900_000);
        assert.ok(day.every((q) => q.localDate === day[0]?.localDate));
      }),
      { numRuns: 300 },
    );
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [92, 96, 100],
    );
  });
});
