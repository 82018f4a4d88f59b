import { ApiProblem } from './api-client.ts';
import type { ApiClient, QueryValue } from './api-client.ts';
import type { Decoder } from './decode.ts';
import { array, bool, field, instant, nullable, num, record, str } from './decode.ts';

/** `GET /api/v1/clock`: the data clock (demo: the end of the newest complete replayed slot; live: the wall clock). */
export interface DataClock {
  readonly mode: 'live' | 'demo';
  readonly now: number;
  readonly basis: string;
}

export const decodeClock: Decoder<DataClock> = (value, at) => {
  const o = record(value, at);
  const mode = field(o, 'mode', str, at);
  if (mode !== 'live' && mode !== 'demo') throw new Error(`${at}.mode: expected live or demo, got ${mode}`);
  return { mode, now: field(o, 'now', instant, at), basis: field(o, 'basis', str, at) };
};

/** How one forecast slot was made. */
export interface ForecastMethod {
  readonly windSolar: string | null;
  readonly other: string | null;
  readonly scaledToLoadForecast: boolean | null;
}

export interface ForecastSlot {
  readonly start: number;
  readonly end: number;
  readonly value: number | null;
  readonly horizonMinutes: number | null;
  readonly method: ForecastMethod | null;
}

/** `GET /api/v1/carbon-intensity/forecast`. */
export interface IntensityForecast {
  readonly zone: string;
  readonly basis: string;
  readonly unit: string;
  readonly clock: DataClock | null;
  readonly madeAt: number | null;
  readonly slots: readonly ForecastSlot[];
}

const decodeMethod: Decoder<ForecastMethod> = (value, at) => {
  const o = record(value, at);
  return {
    windSolar: field(o, 'wind_solar', nullable(str), at),
    other: field(o, 'other', nullable(str), at),
    scaledToLoadForecast: field(o, 'scaled_to_load_forecast', nullable(bool), at),
  };
};

export const decodeForecast: Decoder<IntensityForecast> = (value, at) => {
  const o = record(value, at);
  return {
    zone: field(o, 'zone', str, at),
    basis: field(o, 'basis', nullable(str), at) ?? 'production',
    unit: field(o, 'unit', nullable(str), at) ?? 'gCO2eq/kWh',
    clock: field(o, 'clock', nullable(decodeClock), at),
    madeAt: field(o, 'made_at', nullable(instant), at),
    slots: field(
      o,
      'slots',
      array((s, a) => {
        const r = record(s, a);
        return {
          start: field(r, 'start', instant, a),
          end: field(r, 'end', instant, a),
          value: field(r, 'value', nullable(num), a),
          horizonMinutes: field(r, 'horizon_minutes', nullable(num), a),
          method: field(r, 'method', nullable(decodeMethod), a),
        };
      }),
      at,
    ),
  };
};

export interface CandidateWindow {
  readonly start: number;
  readonly end: number;
  readonly meanIntensity: number;
  readonly saving: { readonly gPerKwh: number; readonly percent: number | null } | null;
}

/** One zone of `GET /api/v1/carbon-aware/best-window`. */
export interface ZoneWindows {
  readonly zone: string;
  readonly data: string | null;
  /** The window at the first start; its mean is null when it misses a slot. */
  readonly earliestStart: { readonly start: number; readonly meanIntensity: number | null } | null;
  readonly windows: readonly CandidateWindow[];
}

export interface BestWindows {
  readonly clock: DataClock | null;
  readonly basis: string;
  readonly duration: string;
  readonly earliest: number;
  readonly latest: number;
  readonly zones: readonly ZoneWindows[];
}

export const decodeBestWindows: Decoder<BestWindows> = (value, at) => {
  const o = record(value, at);
  return {
    clock: field(o, 'clock', nullable(decodeClock), at),
    basis: field(o, 'basis', str, at),
    duration: field(o, 'duration', str, at),
    earliest: field(o, 'earliest', instant, at),
    latest: field(o, 'latest', instant, at),
    zones: field(
      o,
      'zones',
      array((z, a) => {
        const r = record(z, a);
        return {
          zone: field(r, 'zone', str, a),
          data: field(r, 'data', nullable(str), a),
          earliestStart: field(
            r,
            'earliest_start',
            nullable((e, b) => {
              const x = record(e, b);
              return {
                start: field(x, 'start', instant, b),
                meanIntensity: field(x, 'mean_intensity', nullable(num), b),
              };
            }),
            a,
          ),
          windows: field(
            r,
            'windows',
            array((w, b) => {
              const x = record(w, b);
              return {
                start: field(x, 'start', instant, b),
                end: field(x, 'end', instant, b),
                meanIntensity: field(x, 'mean_intensity', num, b),
                saving: field(
                  x,
                  'saving',
                  nullable((s, c) => {
                    const y = record(s, c);
                    return { gPerKwh: field(y, 'g_per_kwh', num, c), percent: field(y, 'percent', nullable(num), c) };
                  }),
                  b,
                ),
              };
            }),
            a,
          ),
        };
      }),
      at,
    ),
  };
};

/**
 * An answer of an endpoint that a server may not have yet (an older gridstream, or one without the feature), or
 * that has nothing to say for the zone: `unavailable` (no such route: 404 with `no route` in its detail, or 501),
 * `none` (the route answered 404/422: nothing for this zone and range), or the decoded value.
 */
export type Optional<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'unavailable'; readonly detail: string }
  | { readonly kind: 'none'; readonly detail: string };

export async function getOptional<T>(
  client: ApiClient,
  path: string,
  query: Readonly<Record<string, QueryValue>>,
  decode: Decoder<T>,
  signal?: AbortSignal,
): Promise<Optional<T>> {
  try {
    return { kind: 'ok', value: await client.get(path, query, decode, signal) };
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    if (error.status === 501 || (error.status === 404 && /\bno route\b/i.test(error.detail)))
      return { kind: 'unavailable', detail: error.detail };
    if (error.status === 404 || error.status === 422) return { kind: 'none', detail: error.detail };
    throw error;
  }
}

/**
 * The data clock, or null where the server has none (yet), or cannot tell it yet (503 in the demo before the
 * replay has stored any generation).
 */
export async function fetchClock(client: ApiClient, signal?: AbortSignal): Promise<DataClock | null> {
  try {
    return await client.get('/api/v1/clock', {}, decodeClock, signal);
  } catch (error) {
    if (error instanceof ApiProblem && error.status !== 401) return null;
    throw error;
  }
}
