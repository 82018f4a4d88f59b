import { z } from 'zod';

/** gridstream metrics. See `src/processing/metric-registry.ts` for the ENTSO-E document types each comes from. */
export const METRICS = [
  'generation_actual',
  'consumption_actual',
  'generation_forecast',
  'wind_solar_forecast_day_ahead',
  'wind_solar_forecast_intraday',
  'wind_solar_forecast_current',
  'installed_capacity',
  'load_actual',
  'load_forecast_day_ahead',
  'price_day_ahead',
  'flow_physical',
  'exchange_scheduled',
  'capacity_offered',
  'carbon_intensity_production',
  'carbon_intensity_consumption',
  'renewable_share',
  'fossil_free_share',
] as const;
export type Metric = (typeof METRICS)[number];
export const MetricSchema = z.enum(METRICS);

/** Units of observation values. Power and prices are intensive; energy is extensive. */
export const UNITS = [
  'MW',
  'MWh',
  'EUR/MWh',
  'GBP/MWh',
  'CHF/MWh',
  'PLN/MWh',
  'CZK/MWh',
  'HUF/MWh',
  'RON/MWh',
  'BGN/MWh',
  'DKK/MWh',
  'SEK/MWh',
  'NOK/MWh',
  'gCO2eq/kWh',
  /** A share, 0–1 (renewable and fossil-free shares). */
  'fraction',
  /** Shares before they became fractions: still read from older log records, stored as fractions (÷ 100). */
  '%',
] as const;
export type Unit = (typeof UNITS)[number];
export const UnitSchema = z.enum(UNITS);

/** Quality flags of one observation. */
export const FLAGS = [
  /** Value not in the source document: repeated from the previous position (curveType A03). */
  'filled',
  /** Source resolution coarser than 15 minutes: replicated (intensive) or divided (extensive) over the quarters. */
  'split',
  /** Source resolution finer than 15 minutes: averaged (intensive) or summed (extensive). */
  'aggregated',
  /** Not every source step of the slot was present. */
  'incomplete',
  /** Several source values for the same key and slot; the newest document revision won. */
  'overlap_resolved',
  /** Carbon intensity computed without a production type the zone normally reports. */
  'partial',
  /** The source marks the value as estimated (Electricity Maps `isEstimated`). */
  'estimated',
] as const;
export type Flag = (typeof FLAGS)[number];
export const FlagSchema = z.enum(FLAGS);

export const SOURCES = ['entsoe', 'electricitymaps', 'gridstream'] as const;
export type Source = (typeof SOURCES)[number];

const ZONE = /^[A-Z][A-Z0-9_]*$/;
const ISO_SLOT = /^\d{4}-\d{2}-\d{2}T\d{2}:(00|15|30|45):00Z$/;

/** One 15-minute value of a series chunk. */
export const ObservationPointSchema = z.object({
  /** Slot start, UTC, on the quarter hour: `2024-05-21T10:15:00Z`. */
  t: z.string().regex(ISO_SLOT, 'expected a UTC quarter-hour timestamp YYYY-MM-DDTHH:MM:00Z'),
  v: z.number(),
  /** Quality flags; omitted when none. */
  f: z.array(FlagSchema).optional(),
});
export type ObservationPoint = z.infer<typeof ObservationPointSchema>;

/**
 * A run of observations sharing one key: (zone, metric, production type or counterpart zone, qualifier), on the
 * uniform 15-minute grid. The database stores one row per point; on the wire a chunk carries up to 2 000 points
 * so that the key, unit and provenance are not repeated for each of them.
 */
export const GridSeriesChunkSchema = z.object({
  /** gridstream zone code (`DE_LU`, `FR`, `IT_NORD`, `LU`). */
  zone: z.string().regex(ZONE),
  metric: MetricSchema,
  /**
   * ENTSO-E psrType (`B16`) for per-type metrics, an Electricity Maps mode slug (`hydro_discharge`) for their
   * breakdowns, else empty.
   */
  productionType: z.string().regex(/^([AB]\d{2}|[a-z][a-z_]*)?$/),
  /** The other zone of a flow, exchange or capacity (direction: from `zone` to `counterpartZone`), else empty. */
  counterpartZone: z.string().regex(/^([A-Z][A-Z0-9_]*)?$/),
  /**
   * What else distinguishes the series, as `name=value` pairs joined by `;`, sorted by name: the A09/A61
   * contract type (`contract=A01`), the emission-factor basis of an intensity (`factors=direct`), the A44 price
   * sequence (`sequence=2`), a source other than gridstream's own reading of ENTSO-E
   * (`source=electricitymaps`). Empty when nothing does.
   */
  qualifier: z.string().max(200),
  unit: UnitSchema,
  source: z.enum(SOURCES),
  /** Source document id (ENTSO-E document mRID, Electricity Maps request) and revision. */
  documentId: z.string().max(200),
  revision: z.number().int().nonnegative(),
  /**
   * When the source issued these values: the ENTSO-E document's `createdDateTime` (the Transparency Platform
   * stamps each response when it builds it), else when gridstream fetched them. A stored value is never replaced by
   * one issued earlier, so a replayed old document (a dead letter, a rewound consumer) cannot undo a correction.
   * Absent on derived series (carbon intensity), which follow their inputs. At most microseconds: what the
   * database keeps, so that two issue times that differ are still different once stored.
   */
  issuedAt: z.iso
    .datetime({ offset: false })
    .regex(/^[^.]*(\.\d{1,6})?Z$/, 'at most 6 fractional digits (microseconds)')
    .optional(),
  /** Extra attributes (`productionTypeName`, `carbonMode`, `sourceResolution`); never part of the key. */
  attributes: z.record(z.string(), z.string()).optional(),
  points: z.array(ObservationPointSchema).min(1).max(2000),
});
export type GridSeriesChunk = z.infer<typeof GridSeriesChunkSchema>;

/** The database key of one observation. */
export interface ObservationKey {
  readonly zone: string;
  readonly metric: Metric;
  readonly productionType: string;
  readonly counterpartZone: string;
  readonly qualifier: string;
  readonly slotStart: string;
}
