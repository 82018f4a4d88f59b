import type { CanonicalReading, DeadLetter, ReadingRules } from '../contracts/index.ts';
import {
  DEFAULT_READING_RULES,
  DLQ_TOPICS,
  DeadLetterSchema,
  expandRefusedLines,
  parseReadingCsvRow,
  parseReadingLine,
  rawMetersTopic,
} from '../contracts/index.ts';
import { codeMatches, errorMessage } from '../common/index.ts';
import type { Log, RefusedLine } from '../log/index.ts';
import { buildLineDeadLetters, produceDeadLetters } from '../log/index.ts';

export const DLQ_TOPIC_NAMES = Object.values(DLQ_TOPICS);

/** One record of a dead-letter topic, decoded (or why it could not be). */
export interface DlqEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: string;
  readonly letter: DeadLetter | null;
  readonly invalid?: string;
}

export interface DlqFilter {
  readonly reason?: string;
  /** Source topic of the failed value. */
  readonly source?: string;
  /** Substring of the message. */
  readonly text?: string;
}

/** Parses `reason=processing.unmapped_area,source=raw.entsoe,text=FR` into a filter (old reason names work too). */
export function parseFilter(text: string | undefined): DlqFilter {
  const filter: { reason?: string; source?: string; text?: string } = {};
  for (const part of (text ?? '').split(',').filter((p) => p !== '')) {
    const [name, ...rest] = part.split('=');
    const value = rest.join('=');
    if (name === 'reason') filter.reason = value;
    else if (name === 'source') filter.source = value;
    else if (name === 'text') filter.text = value;
    else throw new Error(`unknown filter "${name ?? ''}" (use reason=, source= or text=)`);
  }
  return filter;
}

export function matches(entry: DlqEntry, filter: DlqFilter): boolean {
  const l = entry.letter;
  if (l === null) return filter.reason === undefined && filter.source === undefined && filter.text === undefined;
  // A code or its old name, either way round: `db_unavailable` finds `db.unavailable` and the reverse.
  if (filter.reason !== undefined && !codeMatches(l.reason, filter.reason)) return false;
  if (filter.source !== undefined && l.source?.topic !== filter.source) return false;
  if (filter.text !== undefined && !l.message.includes(filter.text)) return false;
  return true;
}

export function assertDlqTopic(topic: string): void {
  if (!(DLQ_TOPIC_NAMES as string[]).includes(topic))
    throw new Error(`"${topic}" is not a dead-letter topic (${DLQ_TOPIC_NAMES.join(', ')})`);
}

/** Options of a scan over a dead-letter topic. */
export interface DlqScanOptions {
  readonly filter?: DlqFilter;
  /** Only entries this says yes to (the caller's access rules); the others are neither listed nor counted. */
  readonly visible?: (entry: DlqEntry) => boolean;
  readonly signal?: AbortSignal;
}

/** Every record of a dead-letter topic, decoded, oldest first per partition — streamed, never held. */
export async function* scanDeadLetters(
  log: Log,
  topic: string,
  options: { readonly signal?: AbortSignal | undefined } = {},
): AsyncGenerator<DlqEntry> {
  assertDlqTopic(topic);
  const signal = options.signal;
  for (const { partition, earliest, next } of await log.offsets(topic, { signal })) {
    for (let offset = earliest; offset < next;) {
      const records = await log.read(topic, partition, offset, 500, { signal });
      if (records.length === 0) break;
      for (const r of records) yield decode(topic, r.partition, r.offset, r.timestamp, r.value);
      offset = (records.at(-1)?.offset ?? offset) + 1;
    }
  }
}

function selects(options: DlqScanOptions): (entry: DlqEntry) => boolean {
  const filter = options.filter ?? {};
  const visible = options.visible;
  return (e) => matches(e, filter) && (visible === undefined || visible(e));
}

/**
 * Reads a dead-letter topic straight from the log, oldest first — `limit` matching entries at most (the scan
 * stops there).
 */
export async function listDeadLetters(
  log: Log,
  topic: string,
  options: DlqScanOptions & { readonly limit?: number } = {},
): Promise<DlqEntry[]> {
  return (await pageDeadLetters(log, topic, { ...options, count: false })).entries;
}

/**
 * The first `limit` matching entries and, with `count`, how many match in all (the scan goes on to the end,
 * counting without holding records): what `dlq list` needs to say "showing 100 of 12,345".
 */
export async function pageDeadLetters(
  log: Log,
  topic: string,
  options: DlqScanOptions & { readonly limit?: number; readonly count?: boolean } = {},
): Promise<{ entries: DlqEntry[]; matched: number | null }> {
  const limit = options.limit ?? 100;
  const selected = selects(options);
  const entries: DlqEntry[] = [];
  let matched = 0;
  for await (const e of scanDeadLetters(log, topic, { signal: options.signal })) {
    if (!selected(e)) continue;
    matched++;
    if (entries.length < limit) entries.push(e);
    if (entries.length >= limit && options.count !== true) break;
  }
  return { entries, matched: options.count === true ? matched : null };
}

/** Exact counts per topic and reason (for the admin overview): every record is counted, none is held. */
export async function summarizeDeadLetters(
  log: Log,
  options: Omit<DlqScanOptions, 'filter'> = {},
): Promise<{ topic: string; total: number; byReason: Record<string, number> }[]> {
  const summary = [];
  const selected = selects(options);
  for (const topic of DLQ_TOPIC_NAMES) {
    const byReason: Record<string, number> = {};
    let total = 0;
    for await (const e of scanDeadLetters(log, topic, { signal: options.signal })) {
      if (!selected(e)) continue;
      total++;
      const reason = e.letter?.reason ?? 'dlq.invalid_envelope';
      byReason[reason] = (byReason[reason] ?? 0) + 1;
    }
    summary.push({ topic, total, byReason });
  }
  return summary;
}

export async function showDeadLetter(
  log: Log,
  topic: string,
  partition: number,
  offset: number,
): Promise<DlqEntry | undefined> {
  assertDlqTopic(topic);
  const [r] = await log.read(topic, partition, offset, 1);
  return r === undefined || r.offset !== offset
    ? undefined
    : decode(topic, r.partition, r.offset, r.timestamp, r.value);
}

function decode(topic: string, partition: number, offset: number, timestamp: number, value: Uint8Array): DlqEntry {
  const base = { topic, partition, offset, timestamp: new Date(timestamp).toISOString() };
  try {
    return { ...base, letter: DeadLetterSchema.parse(JSON.parse(Buffer.from(value).toString('utf8'))) };
  } catch (error) {
    return { ...base, letter: null, invalid: errorMessage(error).slice(0, 300) };
  }
}

/** Fetches the request of an ingestion dead letter again and publishes what it gets (wired to the ENTSO-E client). */
export type Refetcher = (letter: DeadLetter, options: { readonly signal?: AbortSignal }) => Promise<void>;

export interface ReplayResult {
  readonly replayed: number;
  readonly failed: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly reason: string;
  }[];
}

/**
 * Replays dead letters: a processing or storage failure re-publishes its payload to the topic it was read from,
 * with its original key; an ingestion failure is fetched again (`refetch`). Replaying twice duplicates nothing
 * downstream: processing is deterministic and the store upserts. The replay ledger (`dead_letters.replays`) is
 * updated when `record` is given.
 */
export async function replayDeadLetters(
  log: Log,
  entries: readonly DlqEntry[],
  options: {
    readonly refetch?: Refetcher;
    readonly record?: (entry: DlqEntry) => Promise<void>;
    readonly signal?: AbortSignal;
    /** What refused device readings are checked against again. @default DEFAULT_READING_RULES */
    readonly readingRules?: ReadingRules;
  } = {},
): Promise<ReplayResult> {
  let replayed = 0;
  const failed: { topic: string; partition: number; offset: number; reason: string }[] = [];
  for (const entry of entries) {
    const letter = entry.letter;
    const where = { topic: entry.topic, partition: entry.partition, offset: entry.offset };
    try {
      if (letter === null) throw new Error(`not a valid dead letter: ${entry.invalid ?? ''}`);
      if (letter.stage === 'ingestion' && letter.source === null && letter.refused !== undefined) {
        await replayRefusedLines(log, entry, letter, options.readingRules ?? DEFAULT_READING_RULES, options.signal);
      } else if (letter.source !== null) {
        const value =
          letter.payloadEncoding === 'base64'
            ? Buffer.from(letter.payload, 'base64')
            : Buffer.from(letter.payload, 'utf8');
        await log.produce(
          letter.source.topic,
          [
            {
              key: letter.source.key,
              value,
              headers: { 'x-gridstream-replay-of': `${entry.topic}/${entry.partition}/${entry.offset}` },
            },
          ],
          { ...(options.signal === undefined ? {} : { signal: options.signal }) },
        );
      } else if (letter.request !== undefined && options.refetch !== undefined) {
        await options.refetch(letter, { ...(options.signal === undefined ? {} : { signal: options.signal }) });
      } else {
        throw new Error(
          letter.request === undefined
            ? 'nothing to replay: no source record and no request'
            : 'this process cannot fetch from upstream (no ENTSO-E client configured)',
        );
      }
      await options.record?.(entry);
      replayed++;
    } catch (error) {
      failed.push({ ...where, reason: errorMessage(error).slice(0, 300) });
    }
  }
  return { replayed, failed };
}

/**
 * Replays the refused lines of a device-input request or message: each line is read again as a reading; those
 * valid now go to raw.meters (header `x-gridstream-replay-of` names the dead letter and the line's number in the
 * body as sent), the others go back to dlq-ingestion in one new dead letter with their original line numbers.
 */
async function replayRefusedLines(
  log: Log,
  entry: DlqEntry,
  letter: DeadLetter,
  rules: ReadingRules,
  signal: AbortSignal | undefined,
): Promise<void> {
  const lines = expandRefusedLines(letter.refused ?? []);
  const bytes = Buffer.from(letter.payload, letter.payloadEncoding === 'base64' ? 'base64' : 'utf8');
  const parts: Buffer[] = [];
  for (let start = 0; start <= bytes.byteLength;) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.byteLength;
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  if (parts.length !== lines.length)
    throw new Error(`the payload holds ${parts.length} line(s) for ${lines.length} refused (truncated?)`);
  const replayOf = `${entry.topic}/${entry.partition}/${entry.offset}`;
  const readings: { reading: CanonicalReading; line: number }[] = [];
  const refused: RefusedLine[] = [];
  const now = Date.now();
  // Rows of a CSV request are read under the header the gateway kept in the position; other lines are JSON.
  const csvHeader = letter.position?.['format'] === 'csv' ? letter.position['csvHeader'] : undefined;
  const columns = typeof csvHeader === 'string' ? csvHeader.split(',') : undefined;
  for (const [i, part] of parts.entries()) {
    const line = lines[i]?.line ?? i + 1;
    const verdict =
      columns === undefined ? parseReadingLine(part, rules, now) : parseReadingCsvRow(part, columns, rules, now);
    if (verdict.ok) readings.push({ reading: verdict.reading, line });
    else refused.push({ line, reason: verdict.reason, message: verdict.message, bytes: part });
  }
  const o = signal === undefined ? {} : { signal };
  if (readings.length > 0) {
    await log.produce(
      rawMetersTopic.name,
      readings.map(({ reading, line }) => ({
        key: rawMetersTopic.key(reading),
        value: Buffer.from(JSON.stringify(reading), 'utf8'),
        headers: { 'x-gridstream-replay-of': `${replayOf}#line=${line}` },
      })),
      o,
    );
  }
  const { line: _line, lines: _lines, ...position } = letter.position ?? {};
  await produceDeadLetters(log, buildLineDeadLetters(refused, { position, replays: letter.replays + 1 }), o);
}
