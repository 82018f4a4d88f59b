import { z } from 'zod';
import type { Variable } from './variable.ts';
import { milliseconds, variable } from './variable.ts';

/** Self-healing completeness: how gaps are looked for and how much the gap healer may ask ENTSO-E for. */
export interface GapSettings {
  /** `GRIDSTREAM_GAP_INTERVAL_MS`: how often gaps are looked for. @default 5 min */
  readonly intervalMs: number;
  /** `GRIDSTREAM_GAP_LOOKBACK_MS`: how far back gaps are looked for and kept. @default 7 days */
  readonly lookbackMs: number;
  /** `GRIDSTREAM_GAP_REQUESTS_PER_RUN`: targeted requests per pass (0: find gaps, never ask). @default 10 */
  readonly requestsPerRun: number;
  /** `GRIDSTREAM_GAP_REQUESTS_PER_HOUR`: targeted requests per sliding hour. @default 60 */
  readonly requestsPerHour: number;
  /** `GRIDSTREAM_GAP_MAX_TRIES`: answered requests before a gap is marked "source has none". @default 4 */
  readonly maxTries: number;
  /** `GRIDSTREAM_GAP_RETRY_MS`: wait after the first try, doubled after each one. @default 15 min */
  readonly retryBaseMs: number;
  /** `GRIDSTREAM_GAP_RETRY_MAX_MS`: longest wait between tries. @default 6 h */
  readonly retryMaxMs: number;
}

const count = (max: number) =>
  z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(0).max(max);

/** The gap settings' declarations (part of `VARIABLES`, in this order). */
export const GAP_VARIABLES = {
  gapIntervalMs: variable({
    name: 'GRIDSTREAM_GAP_INTERVAL_MS',
    schema: milliseconds.min(1_000).max(86_400_000),
    fallback: 300_000,
    shown: '300000',
    description:
      'How often the `scheduler` role (live mode, on the leader) looks for gaps: expected slots (the expected-publication model) older than their usual delay plus the margin that are missing.',
  }),
  gapLookbackMs: variable({
    name: 'GRIDSTREAM_GAP_LOOKBACK_MS',
    schema: milliseconds.min(3_600_000).max(90 * 86_400_000),
    fallback: 7 * 86_400_000,
    shown: '604800000',
    description: 'How far back gaps are looked for and their states kept (older ones are forgotten).',
  }),
  gapRequestsPerRun: variable({
    name: 'GRIDSTREAM_GAP_REQUESTS_PER_RUN',
    schema: count(1_000),
    fallback: 10,
    shown: '10',
    description:
      'Targeted ENTSO-E requests for gaps per pass (each within the shared request budget of the connector). 0: gaps are found and shown, never asked for.',
  }),
  gapRequestsPerHour: variable({
    name: 'GRIDSTREAM_GAP_REQUESTS_PER_HOUR',
    schema: count(100_000),
    fallback: 60,
    shown: '60',
    description:
      'Targeted ENTSO-E requests for gaps per sliding hour, counted in the database across passes and restarts.',
  }),
  gapMaxTries: variable({
    name: 'GRIDSTREAM_GAP_MAX_TRIES',
    schema: count(100).min(1),
    fallback: 4,
    shown: '4',
    description:
      'Answered requests for one gap (data that did not fill it, or "no matching data") after which it is marked "source has none" and not asked for again. Failed requests are retried and do not count.',
  }),
  gapRetryBaseMs: variable({
    name: 'GRIDSTREAM_GAP_RETRY_MS',
    schema: milliseconds.min(1).max(86_400_000),
    fallback: 900_000,
    shown: '900000',
    description:
      'Wait after a gap request before the gap is looked at and asked for again; doubled after each request.',
  }),
  gapRetryMaxMs: variable({
    name: 'GRIDSTREAM_GAP_RETRY_MAX_MS',
    schema: milliseconds.min(1).max(7 * 86_400_000),
    fallback: 6 * 3_600_000,
    shown: '21600000',
    description: 'Longest wait between two requests for the same gap.',
  }),
} as const;

/** Reads the gap settings with the loader's `read`. */
export function readGapSettings(read: <T>(v: Variable<T>) => T): GapSettings {
  const V = GAP_VARIABLES;
  return {
    intervalMs: read(V.gapIntervalMs),
    lookbackMs: read(V.gapLookbackMs),
    requestsPerRun: read(V.gapRequestsPerRun),
    requestsPerHour: read(V.gapRequestsPerHour),
    maxTries: read(V.gapMaxTries),
    retryBaseMs: read(V.gapRetryBaseMs),
    retryMaxMs: read(V.gapRetryMaxMs),
  };
}
