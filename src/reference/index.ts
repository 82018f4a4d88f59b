export { ReferenceData, loadReference, DEFAULT_REFERENCE_DIR, type ReferenceTables } from './reference-data.ts';
export { ReferenceDataError, REFERENCE_ERROR_CODES, type ReferenceErrorCode } from './errors.ts';
export {
  type Eic,
  type ZoneCode,
  type PsrType,
  type Area,
  type AreaType,
  AREA_TYPES,
  type ProductionType,
  type ProductionCategory,
  PRODUCTION_CATEGORIES,
  type CarbonMode,
  CARBON_MODES,
  type EmissionFactor,
  type FactorKind,
  FACTOR_KINDS,
  type CodeList,
  CODE_LISTS,
} from './types.ts';
