import type { Brand } from '../common/index.ts';
import type { TimeZone } from '../time/index.ts';

/** A 16-character ENTSO-E Energy Identification Code of an area, e.g. `10Y1001A1001A82H`. */
export type Eic = Brand<string, 'Eic'>;
/** gridstream's zone code of an area, e.g. `DE_LU`, `FR`, `IT_NORD`, `NO_5`, `LU`. Unique per EIC. */
export type ZoneCode = Brand<string, 'ZoneCode'>;
/** An ENTSO-E production (PSR) type code, e.g. `B16` (solar). */
export type PsrType = Brand<string, 'PsrType'>;

/** ENTSO-E area type prefixes as they appear in the official area list. */
export const AREA_TYPES = {
  BZN: 'bidding zone',
  BZA: 'bidding zone aggregation',
  CTA: 'control area',
  CTY: 'country',
  MBA: 'market balance area',
  IBA: 'imbalance area',
  IPA: 'imbalance price area',
  LFA: 'load frequency control area',
  LFB: 'load frequency control block',
  REG: 'region',
  SCA: 'scheduling area',
  SNA: 'synchronous area',
} as const;
export type AreaType = keyof typeof AREA_TYPES;

export interface Area {
  readonly eic: Eic;
  readonly code: ZoneCode;
  /** Other names the same EIC is known by (`LU_BZN` for `DE_LU`). */
  readonly aliases: readonly string[];
  readonly name: string;
  /** ISO 3166 alpha-2 codes (`GB` for the UK); several for multi-country areas, none for regions. */
  readonly countries: readonly string[];
  readonly areaTypes: readonly AreaType[];
  /** The most specific market role of the area: bidding zone, then control area, then country, … */
  readonly primaryType: AreaType;
  readonly timeZone: TimeZone;
  /** `false` when the table gave no time zone and CET (ENTSO-E market time) is assumed. */
  readonly timeZoneKnown: boolean;
  /** Electricity Maps zone keys of this area (`DE`, `SE-SE3`), possibly none. */
  readonly electricityMapsZones: readonly string[];
}

export const PRODUCTION_CATEGORIES = [
  'fossil',
  'nuclear',
  'renewable',
  'storage',
  'other',
  'grid',
  'aggregate',
] as const;
export type ProductionCategory = (typeof PRODUCTION_CATEGORIES)[number];

/** Carbon modes of the emission-factor tables (Electricity Maps' names). */
export const CARBON_MODES = [
  'biomass',
  'coal',
  'gas',
  'geothermal',
  'hydro',
  'nuclear',
  'oil',
  'solar',
  'wind',
  'unknown',
  'hydro discharge',
  'hydro charge',
  'battery discharge',
  'battery charge',
] as const;
export type CarbonMode = (typeof CARBON_MODES)[number];

export interface ProductionType {
  readonly code: PsrType;
  readonly name: string;
  readonly category: ProductionCategory;
  /**
   * The carbon mode of the energy this type *produces* (storage types: their discharge mode), or `null` for
   * codes that are not production (grid assets, aggregates).
   */
  readonly mode: CarbonMode | null;
  /** The mode of energy this type *consumes* when it charges (storage only), else `null`. */
  readonly chargeMode: CarbonMode | null;
  readonly renewable: boolean;
  readonly fossilFree: boolean;
}

export const FACTOR_KINDS = ['lifecycle', 'direct'] as const;
export type FactorKind = (typeof FACTOR_KINDS)[number];

export interface EmissionFactor {
  readonly mode: CarbonMode;
  readonly kind: FactorKind;
  /** gCO2eq/kWh (numerically kgCO2eq/MWh). */
  readonly value: number;
  /** UTC start of validity, or `null` for "always". */
  readonly validFrom: number | null;
  readonly source: string;
  /** The Electricity Maps zone key of an override, or `null` for the global default. */
  readonly zone: string | null;
}

/** The ENTSO-E code lists shipped with the reference data. */
export const CODE_LISTS = [
  'document-types',
  'process-types',
  'business-types',
  'curve-types',
  'contract-market-agreement-types',
  'doc-status',
] as const;
export type CodeList = (typeof CODE_LISTS)[number];
