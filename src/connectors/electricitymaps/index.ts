export {
  parseElectricityMaps,
  breakdownShares,
  ELECTRICITYMAPS_RENEWABLE_MODES,
  ELECTRICITYMAPS_FOSSIL_FREE_MODES,
  type ElectricityMapsOutcome,
} from './parse.ts';
export {
  PowerBreakdownSchema,
  CarbonIntensitySchema,
  PowerBreakdownHistorySchema,
  CarbonIntensityHistorySchema,
  CarbonIntensityRangeSchema,
  Co2SignalSchema,
  type PowerBreakdown,
  type CarbonIntensity,
} from './schemas.ts';
export {
  ElectricityMapsClient,
  ELECTRICITYMAPS_ENDPOINTS,
  type ElectricityMapsEndpoint,
  type ElectricityMapsClientOptions,
  type ElectricityMapsRequest,
} from './client.ts';
export { ElectricityMapsTokens } from './client-tokens.ts';
export { ElectricityMapsError, ELECTRICITYMAPS_ERROR_CODES, type ElectricityMapsErrorCode } from './client-errors.ts';
export {
  ElectricityMapsIngestor,
  type ElectricityMapsIngestorOptions,
  type ElectricityMapsReport,
} from './client-ingest.ts';
