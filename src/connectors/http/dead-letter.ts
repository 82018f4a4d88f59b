import { randomUUID } from 'node:crypto';
import { errorCode, errorMessage, isRetryable } from '../../common/index.ts';
import type { DeadLetter } from '../../contracts/index.ts';
import { DeadLetterSchema } from '../../contracts/index.ts';
import { redactUrl } from '../../observability/index.ts';

/** A fetch that failed for good, described for `dlq-ingestion`. */
export interface FetchFailure {
  /** What to send again on replay (an `EntsoeRequest`, an Electricity Maps endpoint and zone…). Never a secret. */
  readonly request: Readonly<Record<string, unknown>>;
  readonly error: unknown;
  readonly attempts: number;
  readonly firstFailureAt: number;
  readonly lastFailureAt: number;
  readonly httpStatus: number | null;
  /** Where in the source the request points, for browsing (document type, zones, period…). */
  readonly position?: Readonly<Record<string, string | number | null>>;
  /** How often this request had been replayed already. @default 0 */
  readonly replays?: number;
}

/**
 * Builds the `dlq-ingestion` envelope of a failed fetch: reason = the error's code, the message redacted and
 * scrubbed of every secret (`scrub`), the request as payload (JSON) and in `request` for replay.
 * @throws Error when the envelope does not satisfy the contract (a bug)
 */
export function ingestionDeadLetter(failure: FetchFailure, scrub: (text: string) => string): DeadLetter {
  const clean = (text: string): string => scrub(redactUrl(text));
  const requestText = clean(JSON.stringify(failure.request));
  const envelope = {
    id: randomUUID(),
    stage: 'ingestion',
    reason: errorCode(failure.error).slice(0, 100),
    message: clean(errorMessage(failure.error)).slice(0, 4000),
    retryable: isRetryable(failure.error),
    source: null,
    ...(failure.position === undefined ? {} : { position: { ...failure.position } }),
    attempts: Math.max(1, failure.attempts),
    firstFailureAt: new Date(failure.firstFailureAt).toISOString(),
    lastFailureAt: new Date(failure.lastFailureAt).toISOString(),
    payload: requestText,
    payloadEncoding: 'json',
    request: JSON.parse(requestText) as Record<string, unknown>,
    httpStatus: failure.httpStatus,
    replays: failure.replays ?? 0,
  };
  return DeadLetterSchema.parse(envelope);
}
