import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalReading } from '../../src/contracts/index.ts';
import { rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { insertMeter, resolveMeter } from '../../src/meters/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { roundHalfEven, sumDecimals } from '../../src/settlement/index.ts';
import type { Decimal } from '../../src/common/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { DEFAULT_METER_SETTINGS, interval, quarters } from '../helpers/meters.ts';
import { meterPipelineSettled, runMeterPipeline } from '../helpers/quality.ts';

/*
 * The hand-checked fixture of issue #14. Three meters in DE_LU (Europe/Berlin) on Sunday 2026-03-29, the day the
 * clocks go forward: 92 quarter hours, UTC 2026-03-28T23:00Z to 2026-03-29T22:00Z; slot i starts at 23:00Z + i × 15
 * min. Every meter sends 0.10 kWh in even slots and 0.12 kWh in odd ones (alternating, so that no run of equal
 * values looks frozen), except where said:
 *
 * A (import, H0, 3 500 kWh/a)
 *   - slots 10, 11 missing (30 min gap), slot 12 sends 0.4: linear between slot 9 (0.12) and slot 12 (0.4), n = 3:
 *     0.12 + 0.28 × 1/3 = 0.21333… → 0.2133; 0.12 + 0.28 × 2/3 = 0.30666… → 0.3067. Slot 12 is no spike: the median
 *     of its neighbours (8, 9, 13–16) is 0.11 and 0.4 < 5 × 0.11.
 *   - slot 30 sends −0.5 on an import register: rule `negative`, estimated linear between 0.12 and 0.12 → 0.12.
 *   - slot 50 missing at first: linear 0.12 (estimated); later the measured 0.15 arrives and replaces it (a revision).
 *   Day sum: base 46 × 0.10 + 46 × 0.12 = 10.12; + (0.2133 − 0.10) + (0.3067 − 0.12) + (0.4 − 0.10) + (0.12 − 0.10)
 *   + (0.15 − 0.10) = 10.12 + 0.1133 + 0.1867 + 0.3 + 0.02 + 0.05 = 10.79 kWh (10.76 before the late value).
 *
 * B (import, H0, 3 500 kWh/a), with history: Sundays 2026-03-22 and 2026-03-15 were measured (96 slots each; in
 *   slot q 0.20/0.22 on the 22nd and 0.30/0.28 on the 15th for even/odd q): the mean at every local time is 0.25.
 *   - slots 40–59 missing (5 h gap): too long to interpolate, history → 0.25 each.
 *   - slots 70–79 send 0.7 ten times: rule `frozen` (≥ 8 equal non-zero values), rejected → history 0.25 each.
 *   - slot 85 sends 1.0: rule `spike` (median of neighbours 0.11, 1.0 > 0.55); the high limit is 10 × the H0 peak
 *     (213.7 W per 1 000 kWh/a: 213.7 × 0.25 / 1000 × 3.5 = 0.187 kWh) = 1.87 kWh, so not `high_limit`. Linear
 *     between slots 84 and 86 (0.10, 0.10) → 0.10.
 *   Day sum: 10.12 + (20 × 0.25 − 2.2) + (10 × 0.25 − 1.1) + (0.10 − 0.12) = 10.12 + 2.8 + 1.4 − 0.02 = 14.30 kWh.
 *
 * C (net register, G0, 1 000 kWh/a)
 *   - slot 5 sends −0.3: allowed on a net register, no rule fails.
 *   - slots 36–43 missing (local 10:00–12:00, 2 h), no history: BDEW G0, transition period, Sunday, quarters 40–47
 *     (67.2, 68.5, 69.6, 71, 73.1, 75.6, 78.2, 80.4 W per 1 000 kWh/a) × 0.25 h / 1000 × 1 = W / 4000, half-even at
 *     4 decimals: 0.0168, 0.0171 (0.017125), 0.0174, 0.0178 (0.01775), 0.0183 (0.018275), 0.0189, 0.0196
 *     (0.01955), 0.0201; together 0.1460.
 *   Day sum: 10.12 + (−0.3 − 0.12) + (0.1460 − 0.88) = 10.12 − 0.42 − 0.734 = 8.966 kWh.
 *
 * Settlement: DE_LU day-ahead price 100 EUR/MWh in every quarter; consumption intensity 400 g/kWh lifecycle, 300
 * direct, stored only after the first settlement (rows pending until then). Then the price of 10:00–11:00Z (slots
 * 44–47) is corrected to 160. In those slots A and C have 0.10 + 0.12 + 0.10 + 0.12 = 0.44 kWh, B has 4 × 0.25 = 1.
 *   A: 10.79 × 100 / 1000 = 1.079 + 0.44 × 60 / 1000 = 1.1054 EUR → 1.11; 10.79 × 400 = 4316 g; × 300 = 3237 g.
 *   B: 1.430 + 1 × 0.06 = 1.49 EUR; 14.3 × 400 = 5720 g; × 300 = 4290 g.
 *   C: 0.8966 + 0.0264 = 0.923 EUR → 0.92; 8.966 × 400 = 3586.4 g → 3586; × 300 = 2689.8 g → 2690.
 */

const DAY = quarters('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z');
const NEXT_HOUR = quarters('2026-03-29T22:00:00Z', '2026-03-29T23:00:00Z');
const base = (i: number): string => (i % 2 === 0 ? '0.1' : '0.12');

function day(meter: string, change: (i: number) => string | null): CanonicalReading[] {
  const out: CanonicalReading[] = [];
  DAY.forEach((ts, i) => {
    const v = change(i);
    if (v !== null) out.push(interval(meter, ts, v));
  });
  return [...out, ...NEXT_HOUR.map((ts) => interval(meter, ts, '0.1'))];
}

async function register(infra: Infrastructure, id: string, fields: Record<string, string>): Promise<void> {
  await insertMeter(
    infra.db,
    resolveMeter(
      {
        meter_id: id,
        zone: 'DE_LU',
        group: 'fixture',
        interval: 'PT15M',
        ...fields,
      } as Parameters<typeof resolveMeter>[0],
      infra.reference,
    ),
  );
}

async function observations(
  infra: Infrastructure,
  metric: string,
  qualifier: string,
  unit: string,
  value: (slot: string) => number,
): Promise<void> {
  await infra.db.query(
    `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
     SELECT 'DE_LU', $1, $2, s, v, $3, 'entsoe' FROM unnest($4::timestamptz[], $5::float8[]) AS x(s, v)`,
    [metric, qualifier, unit, DAY, DAY.map(value)],
  );
}

interface Slot {
  value: string | null;
  quality: string;
  method: string;
  raw: string | null;
  rules: string[];
}

async function validated(infra: Infrastructure, meter: string): Promise<Slot[]> {
  const { rows } = await infra.db.query<Slot>(
    `SELECT value::text AS value, quality, method, raw::text AS raw, rules FROM meter_validated
     WHERE meter_id = $1 AND local_day = '2026-03-29' ORDER BY ts`,
    [meter],
  );
  return rows;
}

async function totals(infra: Infrastructure, meter: string) {
  const { rows } = await infra.db.query<{
    energy: string;
    cost: string | null;
    el: string | null;
    ed: string | null;
    pending: number;
    n: number;
  }>(
    `SELECT sum(energy_kwh)::text AS energy, sum(cost)::text AS cost, sum(emissions_lifecycle_g)::text AS el,
       sum(emissions_direct_g)::text AS ed, (count(*) FILTER (WHERE status = 'pending'))::integer AS pending,
       count(*)::integer AS n
     FROM meter_settlement WHERE meter_id = $1 AND local_day = '2026-03-29'`,
    [meter],
  );
  const r = rows[0];
  assert.ok(r !== undefined);
  const d = (x: string | null): string | null => (x === null ? null : sumDecimals([x as Decimal]));
  return { energy: d(r.energy), cost: d(r.cost), el: d(r.el), ed: d(r.ed), pending: r.pending, n: r.n };
}

describe('VEE and settlement on the hand-checked fixture (embedded log, PGlite)', () => {
  it('validates, estimates, settles, and restates on a late value and a corrected price', async (t) => {
    const opened = await embeddedInfra();
    const { infra } = opened;
    t.after(() => opened.remove());
    await register(infra, 'A', { register_type: 'import', profile: 'H0', annual_consumption_kwh: '3500' });
    await register(infra, 'B', { register_type: 'import', profile: 'H0', annual_consumption_kwh: '3500' });
    await register(infra, 'C', { register_type: 'net', profile: 'G0', annual_consumption_kwh: '1000' });
    const pipeline = await runMeterPipeline(infra, DEFAULT_METER_SETTINGS);
    t.after(() => pipeline.stop());

    // B's history first: two Sundays before.
    const history: CanonicalReading[] = [];
    for (const [from, to, even, odd] of [
      ['2026-03-14T23:00:00Z', '2026-03-15T23:00:00Z', '0.3', '0.28'],
      ['2026-03-21T23:00:00Z', '2026-03-22T23:00:00Z', '0.2', '0.22'],
    ] as const)
      quarters(from, to).forEach((ts, q) => history.push(interval('B', ts, q % 2 === 0 ? even : odd)));
    history.push(...quarters('2026-03-22T23:00:00Z', '2026-03-23T00:00:00Z').map((ts) => interval('B', ts, '0.1')));
    await produceValues(infra.log, rawMetersTopic, history);
    await meterPipelineSettled(infra);
    const past = await infra.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM meter_validated WHERE meter_id = 'B' AND quality = 'measured'`,
    );
    assert.equal(past.rows[0]?.n, 192);

    await observations(infra, 'price_day_ahead', 'sequence=1', 'EUR/MWh', () => 100);
    await produceValues(infra.log, rawMetersTopic, [
      ...day('A', (i) => (i === 10 || i === 11 || i === 50 ? null : i === 12 ? '0.4' : i === 30 ? '-0.5' : base(i))),
      ...day('B', (i) => (i >= 40 && i <= 59 ? null : i >= 70 && i <= 79 ? '0.7' : i === 85 ? '1' : base(i))),
      ...day('C', (i) => (i >= 36 && i <= 43 ? null : i === 5 ? '-0.3' : base(i))),
    ]);
    await meterPipelineSettled(infra);

    const a = await validated(infra, 'A');
    assert.equal(a.length, 92);
    assert.deepEqual(a[10], { value: '0.2133', quality: 'estimated', method: 'linear', raw: null, rules: ['gap'] });
    assert.deepEqual(a[11], { value: '0.3067', quality: 'estimated', method: 'linear', raw: null, rules: ['gap'] });
    assert.deepEqual(a[12], { value: '0.4', quality: 'measured', method: 'measured', raw: '0.4', rules: [] });
    assert.deepEqual(a[30], {
      value: '0.12',
      quality: 'estimated',
      method: 'linear',
      raw: '-0.5',
      rules: ['negative'],
    });
    assert.deepEqual(a[50], { value: '0.12', quality: 'estimated', method: 'linear', raw: null, rules: ['gap'] });
    assert.equal(a.filter((s) => s.quality === 'measured').length, 88);

    const b = await validated(infra, 'B');
    assert.equal(b.length, 92);
    for (let i = 40; i <= 59; i++)
      assert.deepEqual(b[i], { value: '0.25', quality: 'estimated', method: 'history', raw: null, rules: ['gap'] });
    for (let i = 70; i <= 79; i++)
      assert.deepEqual(b[i], { value: '0.25', quality: 'estimated', method: 'history', raw: '0.7', rules: ['frozen'] });
    assert.deepEqual(b[85], { value: '0.1', quality: 'estimated', method: 'linear', raw: '1', rules: ['spike'] });
    assert.deepEqual(b[69], { value: '0.12', quality: 'measured', method: 'measured', raw: '0.12', rules: [] });

    const c = await validated(infra, 'C');
    assert.equal(c.length, 92);
    assert.deepEqual(c[5], { value: '-0.3', quality: 'measured', method: 'measured', raw: '-0.3', rules: [] });
    assert.deepEqual(
      c.slice(36, 44).map((s) => [s.value, s.method]),
      ['0.0168', '0.0171', '0.0174', '0.0178', '0.0183', '0.0189', '0.0196', '0.0201'].map((v) => [v, 'profile']),
    );

    // Settled without intensities (wait 0): every row pending, costs there, emissions not.
    assert.deepEqual(await totals(infra, 'A'), {
      energy: '10.76',
      cost: '1.076',
      el: null,
      ed: null,
      pending: 92,
      n: 92,
    });

    await observations(infra, 'carbon_intensity_consumption', 'factors=lifecycle', 'gCO2eq/kWh', () => 400);
    await observations(infra, 'carbon_intensity_consumption', 'factors=direct', 'gCO2eq/kWh', () => 300);
    await meterPipelineSettled(infra);
    assert.deepEqual(await totals(infra, 'A'), {
      energy: '10.76',
      cost: '1.076',
      el: '4304',
      ed: '3228',
      pending: 0,
      n: 92,
    });

    // The late measured value replaces A's estimate in slot 50.
    await produceValues(infra.log, rawMetersTopic, [interval('A', DAY[50] ?? '', '0.15')]);
    await meterPipelineSettled(infra);
    const a50 = (await validated(infra, 'A'))[50];
    assert.deepEqual(a50, { value: '0.15', quality: 'measured', method: 'measured', raw: '0.15', rules: [] });
    const rev = await infra.db.query<{ value: string; quality: string }>(
      `SELECT value::text AS value, quality FROM meter_validated_revisions WHERE meter_id = 'A' AND ts = $1`,
      [DAY[50]],
    );
    assert.deepEqual(rev.rows, [{ value: '0.12', quality: 'estimated' }]);

    // The corrected price (10:00–11:00Z: slots 44–47) restates the settled rows it touches.
    await infra.db.query(
      `UPDATE grid_observations SET value = 160, last_updated = now() WHERE zone = 'DE_LU' AND metric = 'price_day_ahead'
       AND slot_start >= '2026-03-29T10:00:00Z' AND slot_start < '2026-03-29T11:00:00Z'`,
    );
    await meterPipelineSettled(infra);
    const expected = {
      A: { energy: '10.79', cost: '1.1054', el: '4316', ed: '3237', pending: 0, n: 92 },
      B: { energy: '14.3', cost: '1.49', el: '5720', ed: '4290', pending: 0, n: 92 },
      C: { energy: '8.966', cost: '0.923', el: '3586.4', ed: '2689.8', pending: 0, n: 92 },
    };
    for (const [meter, want] of Object.entries(expected)) assert.deepEqual(await totals(infra, meter), want, meter);
    // Rounded only as totals: half-even to the cent and the gram.
    assert.equal(roundHalfEven('1.1054' as Decimal, 2), '1.11');
    assert.equal(roundHalfEven('0.923' as Decimal, 2), '0.92');
    assert.equal(roundHalfEven('3586.4' as Decimal, 0), '3586');
    assert.equal(roundHalfEven('2689.8' as Decimal, 0), '2690');
    const restated = await infra.db.query<{ n: number }>(
      `SELECT count(DISTINCT (meter_id, period))::integer AS n FROM meter_settlement_revisions
       WHERE period >= '2026-03-29T10:00:00Z' AND period < '2026-03-29T11:00:00Z' AND price = 100`,
    );
    assert.equal(restated.rows[0]?.n, 12);
  });
});
