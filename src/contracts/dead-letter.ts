import { z } from 'zod';
import { STAGES } from './topic.ts';

const isoInstant = z.iso.datetime({ offset: false });

const lineNumber = z.number().int().positive();

/**
 * Lines of a device-input body refused for one reason: the reason code, why (for the first of them; the others
 * share the reason), how many, and their 1-based numbers in the body as sent — a number, or `[first, last]` for a
 * run — so that a body of many bad lines costs a few bytes, not an entry per line.
 */
export const RefusedLinesSchema = z.object({
  reason: z.string().min(1).max(100),
  message: z.string().max(300),
  count: z.number().int().positive(),
  lines: z.array(z.union([lineNumber, z.tuple([lineNumber, lineNumber])])),
});
export type RefusedLines = z.infer<typeof RefusedLinesSchema>;

/** Groups refused lines (in line order) by reason, their numbers as runs. */
export function groupRefusedLines(
  refused: readonly { readonly line: number; readonly reason: string; readonly message: string }[],
): RefusedLines[] {
  const groups = new Map<string, { reason: string; message: string; count: number; lines: RefusedLines['lines'] }>();
  for (const r of refused) {
    let g = groups.get(r.reason);
    if (g === undefined) {
      g = { reason: r.reason, message: r.message.slice(0, 300), count: 0, lines: [] };
      groups.set(r.reason, g);
    }
    g.count++;
    const last = g.lines[g.lines.length - 1];
    if (typeof last === 'number' && last === r.line - 1) g.lines[g.lines.length - 1] = [last, r.line];
    else if (Array.isArray(last) && last[1] === r.line - 1) last[1] = r.line;
    else g.lines.push(r.line);
  }
  return [...groups.values()];
}

/** Every refused line with its reason, in line order (the order of the lines in a dead letter's payload). */
export function expandRefusedLines(groups: readonly RefusedLines[]): { line: number; reason: string }[] {
  const out: { line: number; reason: string }[] = [];
  for (const g of groups) {
    for (const entry of g.lines) {
      const [first, last] = typeof entry === 'number' ? [entry, entry] : entry;
      for (let line = first; line <= last; line++) out.push({ line, reason: g.reason });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

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
   * For a request or message whose lines were refused (device input): the refused lines by reason, with their line
   * numbers in the body as sent. `payload` holds those lines verbatim, in line order, joined by `\n` (base64 when
   * one of them is not UTF-8).
   */
  refused: z.array(RefusedLinesSchema).optional(),
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
