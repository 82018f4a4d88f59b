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
