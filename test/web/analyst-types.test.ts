/**
 * The dashboard's decoders of the clock, forecast and best-window answers, on answers that the server's own response
 * schemas accept (checked below, so that the two cannot drift apart). Plus the panels' wording helpers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BEST_WINDOW_EXAMPLE, BestWindowSchema } from '../../src/api/routes/carbon-aware.ts';
import { ForecastSchema } from '../../src/api/routes/forecast.ts';
import { decodeBestWindows, decodeClock, decodeForecast } from '../../web/src/analyst-types.ts';
import { forecastMethods, importEffect, summary } from '../../web/src/zone-outlook.ts';

const BEST_WINDOW_ANSWER = {
  clock: { mode: 'live', now: '2026-12-06T10:00:00.000Z', basis: 'wall clock' },
  basis: 'production',
  factors: 'lifecycle',
  unit: 'gCO2eq/kWh',
  duration: 'PT2H',
  earliest: '2024-05-21T10:00:00.000Z',
  latest: '2024-05-22T10:00:00.000Z',
  zones: [
    {
      zone: 'LU',
      data: 'actual',
      actual_until: '2024-05-24T10:00:00.000Z',
      slots: { actual: 96, forecast: 0, missing: 0 },
      candidates: { fitting: 89, complete: 89 },
      earliest_start: { start: '2024-05-21T10:00:00.000Z', end: '2024-05-21T12:00:00.000Z', mean_intensity: null },
      windows: [
        {
          start: '2024-05-22T02:00:00.000Z',
          end: '2024-05-22T04:00:00.000Z',
          mean_intensity: 79.4,
          data: 'actual',
          saving: { g_per_kwh: 43.9, percent: null },
        },
      ],
    },
  ],
};

const FORECAST_ANSWER = {
  zone: 'SE_4',
  basis: 'production',
  unit: 'gCO2eq/kWh',
  factors: 'lifecycle',
  clock: { mode: 'demo', now: '2025-10-23T10:00:00.000Z', basis: 'latest complete replayed slot' },
  made_at: '2025-10-23T10:00:00.000Z',
  slots: [
    {
      start: '2025-10-23T10:00:00.000Z',
      end: '2025-10-23T10:15:00.000Z',
      value: 97.4,
      horizon_minutes: 15,
      method: {
        wind_solar: 'none',
        other: 'mean of the same quarter hour over the last 7 days (n=2)',
        scaled_to_load_forecast: false,
      },
    },
    {
      start: '2025-10-23T10:15:00.000Z',
      end: '2025-10-23T10:30:00.000Z',
      value: 98.1,
      horizon_minutes: 30,
      method: {
        wind_solar: 'none',
        other: 'mean of the same quarter hour over the last 7 days (n=2)',
        scaled_to_load_forecast: false,
      },
    },
  ],
};

describe('decoders of the clock, forecast and best-window answers', () => {
  it('the answers used here are valid answers of the server (its response schemas)', () => {
    BestWindowSchema.parse(BEST_WINDOW_ANSWER);
    ForecastSchema.parse(FORECAST_ANSWER);
    assert.deepEqual(BestWindowSchema.parse(BEST_WINDOW_EXAMPLE), BEST_WINDOW_EXAMPLE);
  });

  it('reads the best window, with a null mean at the first start and a null saving percent', () => {
    const answer = decodeBestWindows(BEST_WINDOW_ANSWER, 'best-window');
    assert.equal(answer.clock?.mode, 'live');
    assert.equal(answer.earliest, Date.UTC(2024, 4, 21, 10));
    const zone = answer.zones[0];
    assert.ok(zone !== undefined);
    assert.equal(zone.zone, 'LU');
    assert.equal(zone.earliestStart?.meanIntensity, null);
    assert.deepEqual(zone.windows[0], {
      start: Date.UTC(2024, 4, 22, 2),
      end: Date.UTC(2024, 4, 22, 4),
      meanIntensity: 79.4,
      saving: { gPerKwh: 43.9, percent: null },
    });
  });

  it('reads the forecast and says how its slots were made', () => {
    const forecast = decodeForecast(FORECAST_ANSWER, 'forecast');
    assert.equal(forecast.clock?.mode, 'demo');
    assert.equal(forecast.madeAt, Date.UTC(2025, 9, 23, 10));
    assert.deepEqual(
      forecast.slots.map((s) => [s.value, s.horizonMinutes]),
      [
        [97.4, 15],
        [98.1, 30],
      ],
    );
    assert.deepEqual(forecastMethods(forecast), [
      '2 slots: wind and solar: no forecast; other production: mean of the same quarter hour over the last 7 days (n=2); not scaled to a load forecast.',
    ]);
  });

  it('refuses a clock of an unknown mode, and names where', () => {
    assert.throws(
      () => decodeClock({ mode: 'replay', now: '2025-10-23T10:00:00Z', basis: 'x' }, 'clock'),
      /clock\.mode/,
    );
    assert.throws(() => decodeForecast({ ...FORECAST_ANSWER, slots: [{ start: 'soon' }] }, 'forecast'), /slots\[0\]/);
  });
});

describe('intensities side by side', () => {
  it('mean and latest leave gaps out; the import effect uses only slots where both are known', () => {
    const production = [
      { ts: 1, value: 100 },
      { ts: 2, value: null },
      { ts: 3, value: 200 },
    ];
    const consumption = [
      { ts: 1, value: 130 },
      { ts: 2, value: 500 },
      { ts: 3, value: null },
    ];
    assert.deepEqual(summary(production), { mean: 150, latest: { ts: 3, value: 200 }, count: 2 });
    assert.deepEqual(summary([{ ts: 1, value: null }]), { mean: null, latest: null, count: 0 });
    assert.equal(importEffect(production, consumption), 30);
    assert.equal(importEffect(production, []), null);
  });
});
