/**
 * Forecasts: the production-based carbon-intensity forecast per zone and 15-minute slot (pure), the reading of its
 * stored inputs, the `IntensityForecast` port for carbon-aware callers, and forecast-against-actual accuracy by a
 * backtest over stored data.
 */
export {
  forecastCarbon,
  forecastWindow,
  knownAt,
  WIND_SOLAR_TYPES,
  HISTORY_DAYS,
  DAY_AHEAD_PUBLISHED_BEFORE_MS,
  type ForecastSlot,
  type ForecastRequest,
  type WindSolarMethod,
} from './carbon-forecast.ts';
export {
  HORIZON_BUCKETS,
  BASELINE_NAME,
  MAX_HORIZON_MS,
  accuracyRows,
  errorFigures,
  sameSlotYesterday,
  horizonMinutes,
  type AccuracyPair,
  type AccuracyRow,
  type HorizonBucket,
  type ErrorFigures,
} from './accuracy.ts';
export {
  forecastInputs,
  zoneForecast,
  intensityForecastOf,
  MAX_FORECAST_HOURS,
  type IntensityForecast,
} from './forecast-reader.ts';
export { backtest, type BacktestResult } from './backtest.ts';
