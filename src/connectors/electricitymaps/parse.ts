import type { CarbonIntensity, PowerBreakdown } from './schemas.ts';
import {
  CarbonIntensityHistorySchema,
  CarbonIntensityRangeSchema,
  CarbonIntensitySchema,
  Co2SignalSchema,
  PowerBreakdownHistorySchema,
  PowerBreakdownSchema,
} from './schemas.ts';

/** What an Electricity Maps response body turned out to be. */
export type ElectricityMapsOutcome =
  | { readonly kind: 'power_breakdown'; readonly zone: string; readonly entries: readonly PowerBreakdown[] }
  | { readonly kind: 'carbon_intensity'; readonly zone: string; readonly entries: readonly CarbonIntensity[] }
  | { readonly kind: 'no_data'; readonly zone: string; readonly reason: string }
  /** A valid response that holds no observations (the `/v3/zones` listing). */
  | { readonly kind: 'unsupported'; readonly what: string }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * Recognises and validates any Electricity Maps response (v3 power breakdown and carbon intensity, latest,
 * history or past-range; legacy CO2 Signal v1) from its parsed JSON. Pure; never throws.
 */
export function parseElectricityMaps(json: unknown): ElectricityMapsOutcome {
  const attempts = [
    () => {
      const r = PowerBreakdownHistorySchema.safeParse(json);
      return r.success ? ({ kind: 'power_breakdown', zone: r.data.zone, entries: r.data.history } as const) : undefined;
    },
    () => {
      const r = PowerBreakdownSchema.safeParse(json);
      return r.success ? ({ kind: 'power_breakdown', zone: r.data.zone, entries: [r.data] } as const) : undefined;
    },
    () => {
      const r = CarbonIntensityHistorySchema.safeParse(json);
      return r.success
        ? ({ kind: 'carbon_intensity', zone: r.data.zone, entries: r.data.history } as const)
        : undefined;
    },
    () => {
      const r = CarbonIntensityRangeSchema.safeParse(json);
      return r.success ? ({ kind: 'carbon_intensity', zone: r.data.zone, entries: r.data.data } as const) : undefined;
    },
    () => {
      const r = CarbonIntensitySchema.safeParse(json);
      return r.success ? ({ kind: 'carbon_intensity', zone: r.data.zone, entries: [r.data] } as const) : undefined;
    },
    () => {
      const r = Co2SignalSchema.safeParse(json);
      if (!r.success) return undefined;
      const { status, countryCode, data } = r.data;
      if (status !== 'ok' || data.datetime === undefined || data.carbonIntensity === undefined) {
        return { kind: 'no_data', zone: countryCode, reason: `CO2 Signal status "${status}"` } as const;
      }
      // The legacy API reports the fossil *fuel* share; v3 reports the fossil-free share.
      const fossilFree = data.fossilFuelPercentage === undefined ? null : 100 - data.fossilFuelPercentage;
      return {
        kind: 'carbon_intensity',
        zone: countryCode,
        entries: [
          {
            zone: countryCode,
            carbonIntensity: data.carbonIntensity,
            datetime: data.datetime,
            emissionFactorType: 'lifecycle',
            fossilFreePercentage: fossilFree,
          },
        ],
      } as const;
    },
  ];
  for (const attempt of attempts) {
    const result = attempt();
    if (result !== undefined) return result;
  }
  if (isZoneListing(json)) return { kind: 'unsupported', what: 'zone listing (/v3/zones)' };
  const error = json !== null && typeof json === 'object' && 'error' in json ? String(json.error) : undefined;
  return {
    kind: 'invalid',
    message: error === undefined ? 'not a recognised Electricity Maps response' : `error response: ${error}`,
  };
}

function isZoneListing(json: unknown): boolean {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  const values = Object.values(json);
  return values.length > 0 && values.every((v) => v !== null && typeof v === 'object' && 'zoneName' in v);
}

/** Renewable modes as Electricity Maps counts them by default (storage discharge included). */
export const ELECTRICITYMAPS_RENEWABLE_MODES: ReadonlySet<string> = new Set([
  'biomass',
  'geothermal',
  'hydro',
  'solar',
  'wind',
  'hydro discharge',
  'battery discharge',
]);
/** Fossil-free = renewable + nuclear. */
export const ELECTRICITYMAPS_FOSSIL_FREE_MODES: ReadonlySet<string> = new Set([
  ...ELECTRICITYMAPS_RENEWABLE_MODES,
  'nuclear',
]);

/**
 * Renewable and fossil-free shares (%) of a breakdown, computed the way Electricity Maps publishes them: over the
 * consumption breakdown (the flow-traced mix), counting storage discharge as renewable. `null` without data.
 */
export function breakdownShares(
  breakdown: Readonly<Record<string, number | null>>,
): { renewable: number; fossilFree: number } | null {
  let total = 0;
  let renewable = 0;
  let fossilFree = 0;
  for (const [mode, value] of Object.entries(breakdown)) {
    if (value === null || value <= 0) continue;
    total += value;
    if (ELECTRICITYMAPS_RENEWABLE_MODES.has(mode)) renewable += value;
    if (ELECTRICITYMAPS_FOSSIL_FREE_MODES.has(mode)) fossilFree += value;
  }
  return total > 0 ? { renewable: (100 * renewable) / total, fossilFree: (100 * fossilFree) / total } : null;
}
