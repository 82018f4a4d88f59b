export {
  observationsFromEntsoe,
  observationsFromEntsoeAsync,
  entsoeObservationSteps,
  type ProcessingResult,
  type EntsoeProcessingContext,
} from './entsoe-observations.ts';
export { observationsFromElectricityMaps, type ElectricityMapsContext } from './electricitymaps-observations.ts';
export { METRIC_RULES, matchMetric, type MetricRule, type MetricMatch } from './metric-registry.ts';
export { kindOf, unitFromEntsoe, type ValueKind } from './units.ts';
export { SlotSeries, FLAG_BITS, flagList, rankOf } from './slot-series.ts';
export { slotIso } from './slot-time.ts';
export { chunksOf, chunkSteps, countPoints, MAX_POINTS_PER_CHUNK, type ChunkHeader } from './chunks.ts';
export {
  PROCESSING_REJECT_CODES,
  ProcessingError,
  type ProcessingReject,
  type ProcessingRejectCode,
} from './errors.ts';
export { CarbonState, slotOf, type CarbonResult, type CarbonOptions } from './carbon/carbon-state.ts';
export { productionIntensity, type MixEntry, type ProductionIntensity } from './carbon/production-intensity.ts';
export { traceFlows, solve, type TracingInput, type TracingZone, type TracingFlow } from './carbon/flow-tracing.ts';
export { FactorCache, type DayFactors } from './carbon/factors.ts';
export { CARBON_CSV_HEADER, carbonCsvRow, carbonChunks, formatNumber } from './carbon/carbon-output.ts';
export { processFileBody, processFileBodyAsync, type ProcessedFile } from './process-file.ts';
export { CarbonWindow, type CarbonWindowOptions } from './carbon/carbon-window.ts';
export { processRole, PROCESS_GROUPS, type ProcessRoleDeps } from './process-role.ts';
