export { type Instant, RESOLUTIONS, type Resolution, EXTENSIVE_UNITS, aggregationOf } from './params.ts';
export { querySeries, type SeriesQuery, type SeriesData, type SeriesPoint } from './series.ts';
export { latestSlots, zoneCoverage, type LatestSlot, type ZoneCoverage } from './latest.ts';
export { generationMix, type GenerationMix, type MixEntry } from './mix.ts';
export { completeness, type CompletenessQuery, type CompletenessRow } from './completeness.ts';
export { exportObservations, type ExportQuery, type ExportRow } from './export-rows.ts';
export {
  exportMeterIntervals,
  exportMeterIds,
  type MeterExportSelection,
  type MeterExportQuery,
  type MeterExportAudit,
  type MeterExportRow,
} from './meter-export.ts';
export {
  exportSettlement,
  auditedExportMeters,
  SETTLEMENT_NUMERIC_COLUMNS,
  type SettlementExportQuery,
  type SettlementExportRow,
} from './settlement-export.ts';
export {
  METER_RESOLUTIONS,
  type MeterResolution,
  METER_QUANTITIES,
  type MeterQuantity,
  METER_QUALITIES,
  type MeterQuality,
  METER_JOB,
  type MeterWindow,
  type WindowRefusal,
  meterWindows,
  type MeterPoint,
  meterReadings,
  type GroupLoadPoint,
  groupLoad,
  meterWatermark,
  type MeterReadAudit,
  recordMeterRead,
  readMeterAudited,
  METER_READ_LIMITS,
  type FinalMeterPoint,
  type MeterReadAuditRow,
  listMeterReads,
} from './meter-readings.ts';
export {
  type MeterRegistryRow,
  type ReadableMeterFilter,
  listReadableMeters,
  meterValidities,
  meterGroupInfo,
  type MeterGroupValidity,
  meterGroupValidities,
} from './meter-registry.ts';
export { type DeviceReadingPoint, type StoredDevice, storedDevice, deviceReadings } from './device-readings.ts';
export {
  type StoredValue,
  FORECAST_INPUT_METRICS,
  zoneValues,
  storedProductionIntensity,
  latestCompleteGenerationSlot,
} from './forecast-inputs.ts';
