/**
 * The meter registry: one row per meter and validity (zone, group, time zone, register type, interval, annual
 * consumption, BDEW load profile, location), kept in the `meters` table; CSV import; meter exchanges.
 */
export {
  REGISTER_TYPES,
  type RegisterType,
  METER_INTERVALS,
  type MeterInterval,
  DEFAULT_METER_INTERVAL,
  LOAD_PROFILES,
  type LoadProfile,
  MeterIdSchema,
  MeterGroupSchema,
  KwhSchema,
  InstantSchema,
  parseInstant,
  MeterInputSchema,
  type MeterInput,
  type ParsedMeterInput,
  MeterChangesSchema,
  MeterPatchSchema,
  type MeterPatch,
  MeterSchema,
  type Meter,
} from './types.ts';
export { MeterError, METER_ERROR_CODES, type MeterErrorCode } from './errors.ts';
export {
  resolveMeter,
  findMeterRow,
  meterHistory,
  insertMeter,
  upsertMeter,
  updateMeter,
  exchangeMeter,
  listMeters,
  metersByIds,
  meterAt,
  type MeterFilter,
  type UpsertOutcome,
} from './meter-store.ts';
export {
  importMeters,
  METER_CSV_REQUIRED,
  METER_CSV_OPTIONAL,
  type MeterImportReject,
  type MeterImportResult,
} from './meter-import.ts';
export { MeterRegistryCache } from './registry-cache.ts';
export { metersRole, METERS_JOB, METERS_GROUP, type MetersRoleDeps } from './meters-role.ts';
export { planReadings, UNASSIGNED, type ReadingPlan, type PlanItem, type PlanContext } from './reading-plan.ts';
export { pendingWindowsOf, emitDueWindows, METER_WINDOW_KINDS, type MeterWindowKind } from './meter-emission.ts';
