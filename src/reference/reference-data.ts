import { readFileSync } from 'node:fs';
import { parseCsv } from '../common/index.ts';
import { isValidTimeZone, parseDateOrUtc } from '../time/index.ts';
import { ReferenceDataError } from './errors.ts';
import type {
  Area,
  AreaType,
  CarbonMode,
  CodeList,
  Eic,
  EmissionFactor,
  FactorKind,
  ProductionCategory,
  ProductionType,
  PsrType,
  ZoneCode,
} from './types.ts';
import { AREA_TYPES, CARBON_MODES, PRODUCTION_CATEGORIES } from './types.ts';

/** The default location of the shipped tables: `data/reference/` of the package. */
export const DEFAULT_REFERENCE_DIR = new URL('../../data/reference/', import.meta.url);

/** ENTSO-E publishes in market time (CET/CEST); used for areas whose time zone the table does not give. */
const MARKET_TIME_ZONE = 'Europe/Brussels';

/** Precedence of area types when choosing an area's primary role (most specific market role first). */
const PRIMARY_ORDER: readonly AreaType[] = [
  'BZN',
  'CTA',
  'CTY',
  'BZA',
  'MBA',
  'SCA',
  'IPA',
  'IBA',
  'LFA',
  'LFB',
  'SNA',
  'REG',
];

const STORAGE_MODES: Readonly<Record<string, { mode: CarbonMode; chargeMode: CarbonMode }>> = {
  'hydro storage': { mode: 'hydro discharge', chargeMode: 'hydro charge' },
  'battery storage': { mode: 'battery discharge', chargeMode: 'battery charge' },
};

/**
 * Typed, read-only look-ups over the reference tables (EIC areas, production types, emission factors, ENTSO-E
 * code lists). Every look-up of an unknown code throws a {@link ReferenceDataError}; use the `has*` methods to
 * test first. Build one with {@link loadReference}.
 */
export class ReferenceData {
  readonly #areasByEic = new Map<string, Area>();
  readonly #areasByCode = new Map<string, Area>();
  readonly #areasByEmapsZone = new Map<string, Area>();
  readonly #productionTypes = new Map<string, ProductionType>();
  readonly #defaultFactors = new Map<string, EmissionFactor[]>();
  readonly #zoneFactors = new Map<string, EmissionFactor[]>();
  readonly #codeLists = new Map<CodeList, Map<string, string>>();

  constructor(tables: ReferenceTables) {
    this.#loadAreas(tables.areas);
    this.#loadProductionTypes(tables.psrTypes);
    this.#loadFactors(tables.factors, tables.zoneFactors);
    for (const [list, rows] of Object.entries(tables.codeLists) as [CodeList, Record<string, string>[]][]) {
      const names = new Map<string, string>();
      for (const row of rows) {
        const code = row['code'] ?? '';
        names.set(code, row['codelist_title'] || row['entsoe_py_name'] || code);
      }
      this.#codeLists.set(list, names);
    }
  }

  /** Every area, in table order. */
  areas(): readonly Area[] {
    return [...this.#areasByEic.values()];
  }

  hasEic(eic: string): eic is Eic {
    return this.#areasByEic.has(eic);
  }

  /** The area of an EIC code. @throws ReferenceDataError `unknown_area` */
  area(eic: string): Area {
    const area = this.#areasByEic.get(eic);
    if (area === undefined)
      throw new ReferenceDataError('reference.unknown_area', `unknown area EIC code "${eic}"`, { eic });
    return area;
  }

  hasZone(code: string): code is ZoneCode {
    return this.#areasByCode.has(code);
  }

  /** The area of a zone code or alias (`DE_LU`, `LU_BZN`, `FR`). @throws ReferenceDataError `unknown_zone` */
  zone(code: string): Area {
    const area = this.#areasByCode.get(code);
    if (area === undefined)
      throw new ReferenceDataError('reference.unknown_zone', `unknown zone code "${code}"`, { zone: code });
    return area;
  }

  /** The area of an Electricity Maps zone key (`DE`, `DK-DK1`, `SE-SE4`), or `undefined`. */
  areaOfElectricityMapsZone(key: string): Area | undefined {
    return this.#areasByEmapsZone.get(key);
  }

  hasProductionType(code: string): code is PsrType {
    return this.#productionTypes.has(code);
  }

  /** @throws ReferenceDataError `unknown_production_type` */
  productionType(code: string): ProductionType {
    const type = this.#productionTypes.get(code);
    if (type === undefined) {
      throw new ReferenceDataError('reference.unknown_production_type', `unknown production type "${code}"`, {
        psrType: code,
      });
    }
    return type;
  }

  productionTypes(): readonly ProductionType[] {
    return [...this.#productionTypes.values()];
  }

  /**
   * The emission factor of `mode` valid at instant `at`: the zone's own override first (its Electricity Maps
   * zone, then its first country's), else the global default. Among several, the latest `validFrom` ≤ `at` wins;
   * when every dated entry starts after `at`, the earliest one is used (factors are not known before then).
   * @throws ReferenceDataError `no_emission_factor`
   */
  emissionFactor(query: { mode: CarbonMode; kind: FactorKind; at: number; zone?: Area }): EmissionFactor {
    const { mode, kind, at, zone } = query;
    if (zone !== undefined) {
      for (const key of this.#factorZones(zone)) {
        const hit = pickValid(this.#zoneFactors.get(`${key}|${kind}|${mode}`), at);
        if (hit !== undefined) return hit;
      }
    }
    const hit = pickValid(this.#defaultFactors.get(`${kind}|${mode}`), at);
    if (hit === undefined) {
      throw new ReferenceDataError('reference.no_emission_factor', `no ${kind} emission factor for mode "${mode}"`, {
        mode,
        kind,
      });
    }
    return hit;
  }

  /** The title of `code` in an ENTSO-E code list (`document-types`, `A75` → "Actual generation per type"). */
  codeName(list: CodeList, code: string): string {
    const name = this.#codeLists.get(list)?.get(code);
    if (name === undefined)
      throw new ReferenceDataError('reference.unknown_code', `unknown ${list} code "${code}"`, { list, code });
    return name;
  }

  hasCode(list: CodeList, code: string): boolean {
    return this.#codeLists.get(list)?.has(code) ?? false;
  }

  #factorZones(area: Area): string[] {
    const keys = [...area.electricityMapsZones];
    const country = area.countries[0];
    if (country !== undefined && !keys.includes(country)) keys.push(country);
    return keys;
  }

  #loadAreas(rows: readonly Record<string, string>[]): void {
    const byCode = new Map<string, Record<string, string>[]>();
    for (const row of rows) {
      const code = req(row, 'code', 'eic-areas.csv');
      byCode.set(code, [...(byCode.get(code) ?? []), row]);
    }
    for (const row of rows) {
      const eic = req(row, 'eic', 'eic-areas.csv');
      const types = (row['area_types'] ?? '').split('/').filter((t): t is AreaType => Object.hasOwn(AREA_TYPES, t));
      const primaryType = primaryTypeOf(row);
      // Two EICs share the code `PL` (the bidding zone and the LFC block). The bidding zone/country keeps the
      // code; the other one gets its primary type appended (`PL_LFB`) so zone codes stay unique.
      let code = req(row, 'code', 'eic-areas.csv');
      const sameCode = byCode.get(code) ?? [];
      if (sameCode.length > 1 && mostSpecific(sameCode) !== row) code = `${code}_${primaryType}`;
      const tz = row['timezone'] ?? '';
      const timeZoneKnown = tz !== '' && isValidTimeZone(tz);
      const area: Area = Object.freeze({
        eic: eic as Eic,
        code: code as ZoneCode,
        aliases: Object.freeze(splitList(row['code_aliases'])),
        name: row['name'] ?? code,
        countries: Object.freeze(splitList(row['country_iso2'])),
        areaTypes: Object.freeze(types),
        primaryType,
        timeZone: timeZoneKnown ? tz : MARKET_TIME_ZONE,
        timeZoneKnown,
        electricityMapsZones: Object.freeze(splitList(row['electricitymaps_zone'])),
      });
      if (this.#areasByEic.has(eic)) throw invalid(`duplicate EIC ${eic} in eic-areas.csv`);
      this.#areasByEic.set(eic, area);
      if (this.#areasByCode.has(code)) throw invalid(`duplicate zone code ${code} in eic-areas.csv`);
      this.#areasByCode.set(code, area);
    }
    for (const area of this.#areasByEic.values()) {
      for (const alias of area.aliases) if (!this.#areasByCode.has(alias)) this.#areasByCode.set(alias, area);
      for (const key of area.electricityMapsZones)
        if (!this.#areasByEmapsZone.has(key)) this.#areasByEmapsZone.set(key, area);
    }
  }

  #loadProductionTypes(rows: readonly Record<string, string>[]): void {
    for (const row of rows) {
      const code = req(row, 'code', 'psr-types.csv');
      const category = req(row, 'category', 'psr-types.csv');
      if (!(PRODUCTION_CATEGORIES as readonly string[]).includes(category)) {
        throw invalid(`psr-types.csv: unknown category "${category}" for ${code}`);
      }
      const emapsMode = row['electricitymaps_mode'] ?? '';
      const storage = STORAGE_MODES[emapsMode];
      let mode: CarbonMode | null = null;
      if (storage !== undefined) mode = storage.mode;
      else if (emapsMode !== '') mode = asMode(emapsMode, `psr-types.csv ${code}`);
      const cat = category as ProductionCategory;
      this.#productionTypes.set(
        code,
        Object.freeze({
          code: code as PsrType,
          name: row['name'] ?? code,
          category: cat,
          mode,
          chargeMode: storage?.chargeMode ?? null,
          renewable: cat === 'renewable',
          fossilFree: cat === 'renewable' || cat === 'nuclear',
        }),
      );
    }
  }

  #loadFactors(defaults: readonly Record<string, string>[], zones: readonly Record<string, string>[]): void {
    const push = (map: Map<string, EmissionFactor[]>, key: string, f: EmissionFactor): void => {
      map.set(key, [...(map.get(key) ?? []), f]);
    };
    for (const row of defaults) {
      const mode = asMode(req(row, 'mode', 'emission-factors.csv'), 'emission-factors.csv');
      const validFrom = parseValidFrom(row['valid_from'] ?? '');
      for (const kind of ['lifecycle', 'direct'] as const) {
        const text = row[`${kind}_gco2eq_per_kwh`] ?? '';
        if (text === '') continue;
        const value = Number(text);
        if (!Number.isFinite(value)) throw invalid(`emission-factors.csv: bad ${kind} factor "${text}" for ${mode}`);
        const source = row[`${kind}_source`] || row['lifecycle_source'] || '';
        push(this.#defaultFactors, `${kind}|${mode}`, { mode, kind, value, validFrom, source, zone: null });
      }
    }
    for (const row of zones) {
      const zone = req(row, 'zone', 'emission-factors-zones.csv');
      const kind = req(row, 'kind', 'emission-factors-zones.csv');
      if (kind !== 'lifecycle' && kind !== 'direct') throw invalid(`emission-factors-zones.csv: bad kind "${kind}"`);
      const mode = asMode(req(row, 'mode', 'emission-factors-zones.csv'), 'emission-factors-zones.csv');
      const value = Number(row['gco2eq_per_kwh']);
      if (!Number.isFinite(value)) throw invalid(`emission-factors-zones.csv: bad factor for ${zone} ${mode}`);
      const validFrom = parseValidFrom(row['valid_from'] ?? '');
      push(this.#zoneFactors, `${zone}|${kind}|${mode}`, {
        mode,
        kind,
        value,
        validFrom,
        source: row['source'] ?? '',
        zone,
      });
    }
    for (const list of [...this.#defaultFactors.values(), ...this.#zoneFactors.values()]) {
      list.sort((a, b) => (a.validFrom ?? -Infinity) - (b.validFrom ?? -Infinity));
    }
  }
}

export interface ReferenceTables {
  readonly areas: readonly Record<string, string>[];
  readonly psrTypes: readonly Record<string, string>[];
  readonly factors: readonly Record<string, string>[];
  readonly zoneFactors: readonly Record<string, string>[];
  readonly codeLists: Readonly<Record<CodeList, readonly Record<string, string>[]>>;
}

const loaded = new Map<string, ReferenceData>();

/** Reads the reference tables from `dir` (default: the shipped `data/reference/`), once per directory. */
export function loadReference(dir: URL | string = DEFAULT_REFERENCE_DIR): ReferenceData {
  const base = typeof dir === 'string' ? new URL(`file://${dir.endsWith('/') ? dir : `${dir}/`}`) : dir;
  const key = base.href;
  const cached = loaded.get(key);
  if (cached !== undefined) return cached;
  const read = (name: string): Record<string, string>[] => parseCsv(readFileSync(new URL(name, base), 'utf8'));
  const data = new ReferenceData({
    areas: read('eic-areas.csv'),
    psrTypes: read('psr-types.csv'),
    factors: read('emission-factors.csv'),
    zoneFactors: read('emission-factors-zones.csv'),
    codeLists: {
      'document-types': read('document-types.csv'),
      'process-types': read('process-types.csv'),
      'business-types': read('business-types.csv'),
      'curve-types': read('curve-types.csv'),
      'contract-market-agreement-types': read('contract-market-agreement-types.csv'),
      'doc-status': read('doc-status.csv'),
    },
  });
  loaded.set(key, data);
  return data;
}

function primaryTypeOf(row: Record<string, string>): AreaType {
  const types = (row['area_types'] ?? '').split('/');
  return PRIMARY_ORDER.find((t) => types.includes(t)) ?? 'REG';
}

/** Of several rows sharing a code, the one with the most specific primary type (first in table order on a tie). */
function mostSpecific(rows: readonly Record<string, string>[]): Record<string, string> | undefined {
  let best: Record<string, string> | undefined;
  for (const row of rows) {
    if (best === undefined || PRIMARY_ORDER.indexOf(primaryTypeOf(row)) < PRIMARY_ORDER.indexOf(primaryTypeOf(best))) {
      best = row;
    }
  }
  return best;
}

function pickValid(list: readonly EmissionFactor[] | undefined, at: number): EmissionFactor | undefined {
  if (list === undefined || list.length === 0) return undefined;
  let best: EmissionFactor | undefined;
  for (const f of list) if (f.validFrom === null || f.validFrom <= at) best = f;
  return best ?? list[0];
}

function parseValidFrom(text: string): number | null {
  if (text === '') return null;
  const t = parseDateOrUtc(text);
  if (t === undefined) throw invalid(`bad valid_from "${text}"`);
  return t;
}

function asMode(text: string, where: string): CarbonMode {
  if ((CARBON_MODES as readonly string[]).includes(text)) return text as CarbonMode;
  throw invalid(`${where}: unknown carbon mode "${text}"`);
}

function req(row: Record<string, string>, column: string, file: string): string {
  const v = row[column];
  if (v === undefined || v === '') throw invalid(`${file}: missing ${column} in row ${JSON.stringify(row)}`);
  return v;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function invalid(message: string): ReferenceDataError {
  return new ReferenceDataError('reference.data_invalid', message);
}
