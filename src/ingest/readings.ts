import type { CanonicalReading, DeadLetter, ReadingRules, ReadingVerdict, RefusedLines } from '../contracts/index.ts';
import {
  groupRefusedLines,
  parseReadingCsvRow,
  parseReadingJson,
  parseReadingLine,
  rawMetersTopic,
  readingCsvHeader,
  readingFromRecord,
} from '../contracts/index.ts';
import type { ErrorCode } from '../common/index.ts';
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

/** Why one valid reading is refused anyway (see `admit` of {@link parseReadingBody}). */
export interface LineRefusal {
  readonly reason: ErrorCode;
  readonly message: string;
}

/** Device readings of one body (HTTP request or MQTT message), and the lines that were refused. */
export interface ParsedReadings {
  readonly readings: CanonicalReading[];
  /** The refused lines by reason: code, why, how many, their 1-based numbers (what the HTTP answer lists). */
  readonly rejects: RefusedLines[];
  /** How many lines were refused. */
  readonly rejected: number;
  /** The refused lines' dead letters: one per body (split only past 4 MiB of refused lines). */
  readonly letters: DeadLetter[];
}

const NEWLINE = 0x0a;

/** How a body holds readings: one JSON reading per line, a JSON array of readings, or CSV with a header line. */
export type ReadingFormat = 'ndjson' | 'json' | 'csv';

/**
 * The format a `Content-Type` names: `application/json` → a JSON array (a body not starting with `[` is read as
 * NDJSON); `text/csv` → CSV; none,
 * `application/x-ndjson`, `application/jsonl` or `text/plain` → NDJSON. `undefined` for any other type (415).
 */
export function readingFormatOf(contentType: string | null | undefined): ReadingFormat | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  switch (type) {
    case '':
    case 'application/x-ndjson':
    case 'application/ndjson':
    case 'application/jsonl':
    case 'application/json-lines':
    case 'text/plain':
      return 'ndjson';
    case 'application/json':
      return 'json';
    case 'text/csv':
      return 'csv';
    default:
      return undefined;
  }
}

/** The first non-blank byte is `[`: the body is a JSON array. */
export function startsWithBracket(body: Uint8Array): boolean {
  for (const b of body) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x5b;
  }
  return false;
}

function isBlank(line: Uint8Array): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** Each non-blank line with its 1-based number. */
function* linesOf(body: Uint8Array): Generator<{ n: number; line: Uint8Array }> {
  let start = 0;
  for (let n = 1; start <= body.byteLength; n++) {
    let end = body.indexOf(NEWLINE, start);
    if (end === -1) end = body.byteLength;
    const line = body.subarray(start, end);
    start = end + 1;
    if (!isBlank(line)) yield { n, line };
  }
}

/**
 * Parses device readings from bytes in `format` (default NDJSON), each record on its own into the canonical reading
 * (refused, never altered). NDJSON and CSV: blank lines are skipped, a record's number is its 1-based line (the CSV
 * header is line 1; a header that names no meter refuses every row). A JSON array: a record's number is its 1-based
 * place in the array, and its dead letter holds the element re-serialised as one JSON line; a `json` body that is
 * not one JSON array is read as NDJSON. The refused records go into one dead letter of stage ingestion with `position`
 * (plus `format`, and `csvHeader` for CSV, so that `dlq replay` can read them again); the others still go through.
 */
export function parseReadingBody(
  body: Uint8Array,
  position: Readonly<Record<string, string | number>>,
  options: {
    readonly rules: ReadingRules;
    readonly receivedAt: number;
    readonly scrub: (text: string) => string;
    /** @default 'ndjson'; `json` with a body that is not one JSON array is read as NDJSON. */
    readonly format?: ReadingFormat;
    /** Refuses a valid reading the caller may not send (a key limited to groups); `undefined` admits it. */
    readonly admit?: (reading: CanonicalReading) => LineRefusal | undefined;
  },
): ParsedReadings {
  const readings: CanonicalReading[] = [];
  const refused: RefusedLine[] = [];
  const { rules, receivedAt } = options;
  // A JSON body that is not one JSON array is read as NDJSON (one object, or NDJSON labelled application/json):
  // its lines are then answered one by one.
  let format = options.format ?? 'ndjson';
  let array: unknown[] | undefined;
  if (format === 'json') {
    const parsed = startsWithBracket(body) ? parseReadingJson(body) : undefined;
    if (parsed !== undefined && 'json' in parsed && Array.isArray(parsed.json)) array = parsed.json as unknown[];
    else format = 'ndjson';
  }
  const take = (n: number, bytes: Uint8Array | (() => Uint8Array), verdict: ReadingVerdict): void => {
    const refusal = verdict.ok ? options.admit?.(verdict.reading) : verdict;
    if (verdict.ok && refusal === undefined) readings.push(verdict.reading);
    else if (refusal !== undefined)
      refused.push({
        line: n,
        reason: refusal.reason,
        message: refusal.message,
        bytes: typeof bytes === 'function' ? bytes() : bytes,
      });
  };
  let where: Record<string, string | number> = format === 'ndjson' ? { ...position } : { ...position, format };
  if (format === 'ndjson') {
    for (const { n, line } of linesOf(body)) take(n, line, parseReadingLine(line, rules, receivedAt));
  } else if (format === 'csv') {
    let columns: string[] | string | undefined;
    for (const { n, line } of linesOf(body)) {
      if (columns === undefined) {
        const header = readingCsvHeader(line);
        columns = 'columns' in header ? header.columns : header.error;
        if (Array.isArray(columns)) where = { ...where, csvHeader: columns.join(',') };
        continue;
      }
      if (typeof columns === 'string') take(n, line, { ok: false, reason: 'ingest.invalid_reading', message: columns });
      else take(n, line, parseReadingCsvRow(line, columns, rules, receivedAt));
    }
  } else {
    (array ?? []).forEach((element, i) => {
      const verdict = readingFromRecord(element, rules, receivedAt);
      take(i + 1, () => Buffer.from(JSON.stringify(element), 'utf8'), verdict);
    });
  }
  const letters = buildLineDeadLetters(refused, { position: where }, { scrub: options.scrub });
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
