import { z } from 'zod';
import { STAGES } from './topic.ts';

const isoInstant = z.iso.datetime({ offset: false });

/** A line of a device-input body that was refused: its 1-based number in the body, reason code and why. */
export const RejectedLineSchema = z.object({
  line: z.number().int().positive(),
  reason: z.string().min(1).max(100),
  message: z.string().max(300),
});
export type RejectedLine = z.infer<typeof RejectedLineSchema>;

/**
 * One envelope for every dead-letter topic: what failed, why, where it came from and the payload, so that it can
 * be inspected and replayed. Secrets never go in here: messages are scrubbed and requests carry no tokens.
 */
export const DeadLetterSchema = z.object({
  id: z.string().min(1).max(100),
  stage: z.enum(STAGES),
  /** Stable reason code (`unmapped_area`, `invalid_value`, `http_error`, `constraint_violation`…). */
  reason: z.string().min(1).max(100),
  message: z.string().max(4000),
  retryable: z.boolean(),
  /** Where the failed value was read from; `null` for failures before anything was published (a fetch). */
  source: z
    .object({
      topic: z.string(),
      partition: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative(),
      key: z.string().nullable(),
    })
    .nullable(),
  /** Position inside the source value (document/series/period/position, line, EIC…). */
  position: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  attempts: z.number().int().positive(),
  firstFailureAt: isoInstant,
  lastFailureAt: isoInstant,
  /** The failed value: text as is (`utf8`), JSON, or bytes in base64 (always base64 in `dlq-storage`). */
  payload: z.string(),
  payloadEncoding: z.enum(['utf8', 'json', 'base64']),
  /** For ingestion failures: the request to send again on replay (never the token). */
  request: z.record(z.string(), z.unknown()).optional(),
  /** HTTP status of the last attempt, for ingestion failures. */
  httpStatus: z.number().int().nullable().optional(),
  /** How many times this dead letter has been replayed already. */
  replays: z.number().int().nonnegative().default(0),
  /**
   * For a request or message whose lines were refused (device input): one entry per line of `payload`, in order —
   * its 1-based line number in the body as sent, its reason code and why. `payload` holds the lines verbatim,
   * joined by `\n` (base64 when one of them is not UTF-8).
   */
  lines: z.array(RejectedLineSchema).optional(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/** Header names set on every dead-letter record (values are strings). */
export const DLQ_HEADERS = {
  reason: 'x-gridstream-reason',
  stage: 'x-gridstream-stage',
  sourceTopic: 'x-gridstream-source-topic',
  sourcePartition: 'x-gridstream-source-partition',
  sourceOffset: 'x-gridstream-source-offset',
  attempts: 'x-gridstream-attempts',
} as const;
