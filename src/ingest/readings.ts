import type { DeadLetter, MeterReading, ReadingRules, RefusedLines } from '../contracts/index.ts';
import { groupRefusedLines, parseReadingLine, rawMetersTopic } from '../contracts/index.ts';
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
  /** The refused lines by reason: code, why, how many, their 1-based numbers (what the HTTP answer lists). */
  readonly rejects: RefusedLines[];
  /** How many lines were refused. */
  readonly rejected: number;
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
  const rejects = groupRefusedLines(refused).map((g) => ({ ...g, message: options.scrub(g.message).slice(0, 300) }));
  return { readings, rejects, rejected: refused.length, letters };
}

/** Writes parsed readings to raw.meters and their dead letters to dlq-ingestion, then counts them. */
export async function storeReadings(deps: IngestDeps, parsed: ParsedReadings, signal: AbortSignal): Promise<void> {
  await produceValues(deps.log, rawMetersTopic, parsed.readings, { scrub: deps.scrub, signal });
  await produceDeadLetters(deps.log, parsed.letters, { signal });
  deps.metrics.recordsIn('ingestion', rawMetersTopic.name, parsed.readings.length);
  const byReason = new Map<string, number>();
  for (const g of parsed.rejects) byReason.set(g.reason, (byReason.get(g.reason) ?? 0) + g.count);
  for (const [reason, n] of byReason) deps.metrics.recordsRejected('ingestion', rawMetersTopic.name, reason, n);
}
