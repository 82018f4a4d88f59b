export { type Instant, RESOLUTIONS, type Resolution, EXTENSIVE_UNITS, aggregationOf } from './params.ts';
export { querySeries, type SeriesQuery, type SeriesData, type SeriesPoint } from './series.ts';
export { latestSlots, zoneCoverage, type LatestSlot, type ZoneCoverage } from './latest.ts';
export { generationMix, type GenerationMix, type MixEntry } from './mix.ts';
export { completeness, type CompletenessQuery, type CompletenessRow } from './completeness.ts';
export { exportObservations, type ExportQuery, type ExportRow } from './export-rows.ts';
