export { GridstreamError, causeChain, findError, isRetryable, errorCode, errorMessage } from './errors.ts';
export type { Brand } from './brand.ts';
export { parseCsv, parseCsvRows, csvField } from './csv.ts';
export { normaliseDecimal, type Decimal } from './decimal.ts';
