import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { WIND_SOLAR_TYPES, forecastCarbon, knownAt } from '../../src/forecast/index.ts';
import type { StoredValue } from '../../src/storage/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS } from '../../src/time/index.ts';
import { chunksOf, reference } from '../helpers/api.ts';

/** The observations of chunks as the stored values the forecast reads. */
function valuesOf(chunks: readonly GridSeriesChunk[]): StoredValue[] {
  return chunks.flatMap((c) =>
    c.points.map((p) => ({
      metric: c.metric,
      productionType: c.productionType,
      slot: Date.parse(p.t),
      value: p.v,
      issuedAt: c.issuedAt === undefined ? null : Date.parse(c.issuedAt),
    })),
  );
}

/** Production-based intensity of a mix, computed here from the reference's factors (not the processing code). */
function intensityOf(zone: string, at: number, mix: ReadonlyMap<string, number>): number {
  const area = reference.zone(zone);
  let g = 0;
  let e = 0;
  for (const [psr, mw] of mix) {
    const mode = reference.productionType(psr).mode;
    if (mode === null || mw <= 0) continue;
    g += mw;
    e +=
      mw *
      reference.emissionFactor({ mode, kind: 'lifecycle', at: Math.floor(at / DAY_MS) * DAY_MS, zone: area }).value;
  }
  return e / g;
}

const fi = valuesOf(chunksOf('A75_FI_PT60M_A01_2023-05-08.xml'));
const fiActual = new Map<string, Map<number, number>>();
for (const v of fi) {
  const m = fiActual.get(v.productionType) ?? new Map<number, number>();
  m.set(v.slot, v.value);
  fiActual.set(v.productionType, m);
}
// Midnight of 10 May 2023 in Helsinki: the real FI actuals run from 8 May 07:00Z to 10 May 07:00Z.
const MADE_AT = Date.parse('2023-05-09T21:00:00Z');

describe('carbon-intensity forecast (pure)', () => {
  it("other types: the mean of the same local quarter hour on the days before, with the actuals' factors", () => {
    const slots = forecastCarbon(
      { zone: reference.zone('FI'), madeAt: MADE_AT, from: MADE_AT, to: MADE_AT + 10 * HOUR_MS, values: fi },
      reference,
    );
    assert.equal(slots.length, 40);
    for (const s of slots.filter((_, i) => i % 7 === 0)) {
      // Recomputed here: Helsinki has no DST change in May, so a local day is 24 h; 8 May has data from 07:00Z.
      const mix = new Map<string, number>();
      let days = 0;
      for (let d = 1; d <= 7; d++) {
        const t = s.start - d * DAY_MS;
        let any = false;
        for (const [psr, values] of fiActual) {
          const v = values.get(t);
          if (v === undefined) continue;
          mix.set(psr, (mix.get(psr) ?? 0) + v);
          any = true;
        }
        if (any) days++;
      }
      for (const [psr, sum] of mix) mix.set(psr, sum / days);
      assert.equal(s.method.otherDays, days);
      assert.equal(s.method.windSolar, 'none');
      assert.equal(s.method.scaledToLoadForecast, false);
      assert.ok(Math.abs(s.value - intensityOf('FI', s.start, mix)) < 1e-9, new Date(s.start).toISOString());
      assert.equal(s.horizonMinutes, (s.start + SLOT_MS - MADE_AT) / 60_000);
    }
    // Nothing of the issue time or later is used: the same forecast from the values known then only.
    const known = fi.filter((v) => v.slot < MADE_AT);
    const again = forecastCarbon(
      { zone: reference.zone('FI'), madeAt: MADE_AT, from: MADE_AT, to: MADE_AT + 10 * HOUR_MS, values: known },
      reference,
    );
    assert.deepEqual(again, slots);
  });

  it('wind and solar from their forecasts, the other types scaled to the load forecast', () => {
    // Inputs derived from the real FI actuals (labelled so): a wind "forecast" equal to the actual wind of each
    // target slot, and a load "forecast" 10 % above the actual generation, so that the scaling has work to do.
    const targets = [...(fiActual.get('B19')?.keys() ?? [])].filter((t) => t >= MADE_AT && t < MADE_AT + 6 * HOUR_MS);
    const issued = MADE_AT - HOUR_MS;
    const derived: StoredValue[] = targets.flatMap((t) => {
      let total = 0;
      for (const values of fiActual.values()) total += Math.max(0, values.get(t) ?? 0);
      return [
        {
          metric: 'wind_solar_forecast_day_ahead',
          productionType: 'B19',
          slot: t,
          value: fiActual.get('B19')?.get(t) ?? 0,
          issuedAt: issued,
        },
        { metric: 'load_forecast_day_ahead', productionType: '', slot: t, value: total * 1.1, issuedAt: issued },
      ];
    });
    const slots = forecastCarbon(
      {
        zone: reference.zone('FI'),
        madeAt: MADE_AT,
        from: MADE_AT,
        to: MADE_AT + 6 * HOUR_MS,
        values: [...fi, ...derived],
      },
      reference,
    );
    assert.equal(slots.length, targets.length);
    for (const s of slots.filter((_, i) => i % 5 === 0)) {
      const wind = derived.find((v) => v.metric === 'wind_solar_forecast_day_ahead' && v.slot === s.start)?.value ?? 0;
      const load = derived.find((v) => v.metric === 'load_forecast_day_ahead' && v.slot === s.start)?.value ?? 0;
      const other = new Map<string, number>();
      for (const [psr, values] of fiActual) {
        if (WIND_SOLAR_TYPES.includes(psr)) continue;
        const v = values.get(s.start - DAY_MS);
        if (v !== undefined) other.set(psr, v);
      }
      const otherTotal = [...other.values()].reduce((a, v) => a + Math.max(0, v), 0);
      const mix = new Map([...other].map(([psr, v]) => [psr, (v * (load - wind)) / otherTotal] as const));
      mix.set('B19', wind);
      assert.deepEqual(s.method, { windSolar: 'day-ahead', otherDays: 1, scaledToLoadForecast: true });
      assert.ok(Math.abs(s.generation - load) < 1e-6, 'generation matches the load forecast');
      assert.ok(Math.abs(s.value - intensityOf('FI', s.start, mix)) < 1e-9);
    }
  });

  it('a wind or solar type without a forecast keeps its own mean: a forecast equal to that mean changes nothing', () => {
    // Derived from the real FI actuals (labelled so): a solar series B16 that copies the wind B19, and a day-ahead
    // forecast of B19 alone equal to yesterday's B19 (with one earlier day, exactly its 7-day mean).
    const solar = fi.filter((v) => v.productionType === 'B19').map((v) => ({ ...v, productionType: 'B16' }));
    const to = MADE_AT + 6 * HOUR_MS;
    const windForecast: StoredValue[] = [...(fiActual.get('B19') ?? new Map<number, number>())]
      .filter(([t]) => t + DAY_MS >= MADE_AT && t + DAY_MS < to)
      .map(([t, v]) => ({
        metric: 'wind_solar_forecast_day_ahead',
        productionType: 'B19',
        slot: t + DAY_MS,
        value: v,
        issuedAt: MADE_AT - HOUR_MS,
      }));
    assert.ok(windForecast.length > 0);
    const request = { zone: reference.zone('FI'), madeAt: MADE_AT, from: MADE_AT, to };
    const without = forecastCarbon({ ...request, values: [...fi, ...solar] }, reference);
    const withWind = forecastCarbon({ ...request, values: [...fi, ...solar, ...windForecast] }, reference);
    assert.equal(withWind.length, without.length);
    withWind.forEach((s, i) => {
      const w = without[i];
      assert.ok(w !== undefined);
      assert.equal(s.method.windSolar, 'day-ahead');
      assert.ok(Math.abs(s.generation - w.generation) < 1e-6, `${new Date(s.start).toISOString()}: B16 kept`);
      assert.ok(Math.abs(s.value - w.value) < 1e-9);
    });
  });

  it('prefers the intraday forecast, and uses only forecasts known at the issue time', () => {
    const dayAhead = valuesOf(chunksOf('A69_A01_FI_PT15M_day-ahead_2024-02-08.xml'));
    const intraday = valuesOf(chunksOf('A69_A40_FI_PT15M_intraday_2024-02-08.xml'));
    const madeAt = Date.parse('2024-02-08T00:00:00Z');
    const request = { zone: reference.zone('FI'), madeAt, from: madeAt, to: madeAt + 6 * HOUR_MS };
    // As stored: the documents were fetched (issued) on 9 February, after the issue time. The day-ahead values
    // count as published by 18:00 the day before; the intraday ones are not known yet.
    const asStored = forecastCarbon({ ...request, values: [...dayAhead, ...intraday] }, reference);
    assert.equal(asStored.length, 24);
    assert.ok(asStored.every((s) => s.method.windSolar === 'day-ahead' && s.method.otherDays === 0));
    assert.ok(intraday.every((v) => !knownAt(v, madeAt, 'Europe/Helsinki')));
    // With the intraday values issued before the issue time, they win wherever they exist.
    const early = intraday.map((v) => ({ ...v, issuedAt: madeAt - HOUR_MS }));
    const preferred = forecastCarbon({ ...request, values: [...dayAhead, ...early] }, reference);
    for (const s of preferred) {
      const mix = new Map<string, number>();
      let fromDayAhead = false;
      for (const psr of WIND_SOLAR_TYPES) {
        const id = early.find((v) => v.productionType === psr && v.slot === s.start);
        const da = dayAhead.find((v) => v.productionType === psr && v.slot === s.start);
        if (id !== undefined) mix.set(psr, id.value);
        else if (da !== undefined) {
          mix.set(psr, da.value);
          fromDayAhead = true;
        }
      }
      assert.equal(s.method.windSolar, fromDayAhead ? 'day-ahead' : 'intraday');
      assert.ok(Math.abs(s.value - intensityOf('FI', s.start, mix)) < 1e-9);
    }
    assert.ok(preferred.some((s) => s.method.windSolar === 'intraday'));
  });
});
