export {
  parseEntsoeDocument,
  parseEntsoeDocumentAsync,
  parseEntsoeSteps,
  DEFAULT_MAX_STEPS_PER_DOCUMENT,
  type EntsoeParseOptions,
} from './parse.ts';
export { runSync, runCooperatively, type Steps, type CooperativeOptions } from './cooperative.ts';
export {
  type EntsoeParseOutcome,
  type EntsoeSeries,
  type EntsoePeriod,
  type EntsoeStep,
  type EntsoeDocumentHeader,
  type EntsoeReject,
  type EntsoeRejectCode,
  type EntsoeAcknowledgement,
  type CurveType,
  ENTSOE_REJECT_CODES,
  stepStart,
  stepEnd,
  periodSteps,
  CURVE_TYPES,
} from './document.ts';
export { EntsoeError, ENTSOE_ERROR_CODES, type EntsoeErrorCode } from './errors.ts';
export { ENTSOE_CSV_HEADER, entsoeSteps, entsoeCsvRow, entsoeJsonRow } from './rows.ts';
export { expandPeriod, type PeriodShape, type ExpandedPeriod } from './expand.ts';
export { DEFAULT_MAX_BODY_BYTES, xmlTextOf, readXml, type XmlHandler } from './xml-body.ts';
export {
  ENTSOE_ITEMS,
  type EntsoeItem,
  isEntsoeItem,
  isBorderItem,
  entsoeRequest,
  entsoeQuery,
  requestKey,
  requestPeriod,
  withPeriod,
  formatEntsoeTime,
  type Period,
} from './requests.ts';
export {
  ENTSOE_LIMITS,
  MAX_OFFSET,
  type EntsoeLimit,
  type Span,
  limitFor,
  splitPeriod,
  splitRequest,
  halveRequest,
  wholeLocalDays,
  nextBoundary,
  planRequest,
  requestTimeZone,
  referenceTimeZone,
} from './client-limits.ts';
export {
  readEntsoeAnswer,
  parseBanUntil,
  ENTSOE_BAN_MS,
  ENTSOE_MAX_BAN_MS,
  type EntsoeAnswer,
} from './client-response.ts';
export { EntsoeClient, type EntsoeClientOptions, type EntsoeFetchResult, type EntsoeFetchFailure } from './client.ts';
export {
  EntsoeIngestor,
  type EntsoeIngestorOptions,
  type IngestReport,
  emptyReport,
  addReport,
} from './client-ingest.ts';
