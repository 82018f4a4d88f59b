import type { DeadLetter, MeterReading, ReadingRules, RejectedLine } from '../contracts/index.ts';
import { parseReadingLine, rawMetersTopic } from '../contracts/index.ts';
import type { Log, RefusedLine } from '../log/index.ts';
import { buildLineDeadLetters, produceDeadLetters, produceValues } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';

/** What device input is built from (the runtime's infrastructure has all of it). */
export interface IngestDeps {
  readonly log: Log;
  /** Where API keys are checked. */
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Scrubs secrets out of dead-letter messages. */
  readonly scrub: (text: string) => string;
}

/** Device readings of one body (HTTP request or MQTT message), and the lines that were refused. */
export interface ParsedReadings {
  readonly readings: MeterReading[];
  /** Every refused line: its 1-based number, reason code and why (what the HTTP answer lists). */
  readonly rejects: RejectedLine[];
  /** The refused lines' dead letters: one per body (split only past 4 MiB of refused lines). */
  readonly letters: DeadLetter[];
}

const NEWLINE = 0x0a;

function isBlank(line: Uint8Array): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/**
 * Parses newline-delimited JSON readings from bytes, line by line ({@link parseReadingLine}: refused, never
 * altered). Blank lines are skipped; the refused lines go, verbatim, into one dead letter of stage ingestion with
 * `position` plus each line's 1-based number; the other lines still go through.
 */
export function parseReadingBody(
  body: Uint8Array,
  position: Readonly<Record<string, string | number>>,
  options: { readonly rules: ReadingRules; readonly receivedAt: number; readonly scrub: (text: string) => string },
): ParsedReadings {
  const readings: MeterReading[] = [];
  const refused: RefusedLine[] = [];
  let start = 0;
  for (let n = 1; start <= body.byteLength; n++) {
    let end = body.indexOf(NEWLINE, start);
    if (end === -1) end = body.byteLength;
    const line = body.subarray(start, end);
    start = end + 1;
    if (isBlank(line)) continue;
    const verdict = parseReadingLine(line, options.rules, options.receivedAt);
    if (verdict.ok) readings.push(verdict.reading);
    else refused.push({ line: n, reason: verdict.reason, message: verdict.message, bytes: line });
  }
  const letters = buildLineDeadLetters(refused, { position }, { scrub: options.scrub });
  const rejects = letters.flatMap((l) => l.lines ?? []);
  return { readings, rejects, letters };
}

/** Writes parsed readings to raw.meters and their dead letters to dlq-ingestion, then counts them. */
export async function storeReadings(deps: IngestDeps, parsed: ParsedReadings, signal: AbortSignal): Promise<void> {
  await produceValues(deps.log, rawMetersTopic, parsed.readings, { scrub: deps.scrub, signal });
  await produceDeadLetters(deps.log, parsed.letters, { signal });
  deps.metrics.recordsIn('ingestion', rawMetersTopic.name, parsed.readings.length);
  const byReason = new Map<string, number>();
  for (const l of parsed.rejects) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
  for (const [reason, n] of byReason) deps.metrics.recordsRejected('ingestion', rawMetersTopic.name, reason, n);
}
