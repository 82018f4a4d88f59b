import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { ErrorCode } from '../common/index.ts';
import { errorCode, errorMessage, isRetryable } from '../common/index.ts';
import type { DeadLetter, Stage, Topic } from '../contracts/index.ts';
import { DLQ_HEADERS, DLQ_TOPIC_HANDLES, DeadLetterSchema, groupRefusedLines } from '../contracts/index.ts';
import { redactUrl } from '../observability/index.ts';
import type { ConsumedRecord, Log, LogRecord, RecordPosition } from './log.ts';
import { LogError } from './errors.ts';

/** Where a failed value was read from. */
export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
}

/** A failure to record in a dead-letter topic. */
export interface DeadLetterInput {
  readonly stage: Stage;
  /** Stable reason code from the registry: the failing error's `code`, or `log.invalid_message` for a schema violation. */
  readonly reason: ErrorCode;
  readonly message: string;
  /** @default false */
  readonly retryable?: boolean;
  /** The record that failed; `null` for failures before anything was published (a fetch). @default null */
  readonly source?: DeadLetterSource | null;
  readonly position?: Readonly<Record<string, string | number | null>>;
  /** @default 1 */
  readonly attempts?: number;
  /** @default now */
  readonly firstFailureAt?: Date;
  /** @default now */
  readonly lastFailureAt?: Date;
  /** The failed value: bytes, text, or any JSON-serialisable value. */
  readonly payload: unknown;
  /** For ingestion failures: what to send again on replay. Credential-like fields are redacted. */
  readonly request?: Readonly<Record<string, unknown>>;
  readonly httpStatus?: number | null;
  /** @default 0 */
  readonly replays?: number;
}

export interface DeadLetterOptions {
  /** Removes secrets from text (messages, payload text, request fields); applied after the built-in redaction. */
  readonly scrub?: (text: string) => string;
  /** Payloads larger than this are truncated (and say so in the message). @default 16 MiB */
  readonly maxPayloadBytes?: number;
  readonly now?: () => Date;
}

const MAX_MESSAGE_CHARS = 4000;
const SECRET_FIELD = /token|secret|password|passwd|api_?key|authorization|credential/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Scrubs what always looks like a credential: token query parameters in URLs, bearer tokens and
 * `"securityToken": "…"`-style JSON fields.
 */
export function scrubCredentials(text: string): string {
  return redactUrl(text)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 [redacted]')
    .replace(/("(?:[^"]*(?:token|secret|password|api_?key|authorization)[^"]*)"\s*:\s*)"[^"]*"/gi, '$1"[redacted]"');
}

/**
 * Builds a valid {@link DeadLetter} envelope. The payload is kept as text (`utf8`), JSON text (`json`) or base64 —
 * always base64 for the `storage` stage, whose rows are replayed byte for byte. Text is scrubbed of secrets.
 */
export function buildDeadLetter(input: DeadLetterInput, options: DeadLetterOptions = {}): DeadLetter {
  const scrub = (s: string): string =>
    options.scrub === undefined ? scrubCredentials(s) : options.scrub(scrubCredentials(s));
  const now = options.now?.() ?? new Date();
  const maxPayload = options.maxPayloadBytes ?? 16 * 1024 * 1024;
  const encoded = encodePayload(input.payload, input.stage === 'storage', scrub);
  const bytes = encoded.bytes;
  let { payload, payloadEncoding } = encoded;
  let message = scrub(input.message);
  if (bytes > maxPayload) {
    message = `${message} (payload of ${bytes} bytes truncated to ${maxPayload})`;
    payload =
      payloadEncoding === 'base64' ? payload.slice(0, Math.ceil(maxPayload / 3) * 4) : payload.slice(0, maxPayload);
    // A truncated JSON text is no longer JSON.
    if (payloadEncoding === 'json') payloadEncoding = 'utf8';
  }
  const envelope = {
    id: randomUUID(),
    stage: input.stage,
    reason: input.reason.slice(0, 100),
    message: message.slice(0, MAX_MESSAGE_CHARS),
    retryable: input.retryable ?? false,
    source: input.source === undefined || input.source === null ? null : { ...input.source },
    ...(input.position === undefined ? {} : { position: { ...input.position } }),
    attempts: Math.max(1, input.attempts ?? 1),
    firstFailureAt: (input.firstFailureAt ?? now).toISOString(),
    lastFailureAt: (input.lastFailureAt ?? now).toISOString(),
    payload,
    payloadEncoding,
    ...(input.request === undefined ? {} : { request: redactFields(input.request, scrub) as Record<string, unknown> }),
    ...(input.httpStatus === undefined ? {} : { httpStatus: input.httpStatus }),
    replays: input.replays ?? 0,
  };
  const parsed = DeadLetterSchema.safeParse(envelope);
  if (!parsed.success) {
    throw new LogError(
      'log.invalid_message',
      `invalid dead letter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** A refused line of a device-input body: where it was, why, and its bytes as sent (without the newline). */
export interface RefusedLine {
  /** 1-based line number in the body. */
  readonly line: number;
  readonly reason: ErrorCode;
  readonly message: string;
  readonly bytes: Uint8Array;
}

/**
 * What one line dead letter may hold, as serialised (escaped payload plus line numbers): under the DLQ topics'
 * 32 MiB records with room for the envelope. A body within the 8 MiB body limit fits one letter unless its lines
 * are mostly characters JSON must escape.
 */
const MAX_LINES_RECORD_BYTES = 28 * 1024 * 1024;
/** Bytes a refused line costs in a line dead letter: its escaped text (or base64), the newline, a new run's number. */
function lineCost(line: Uint8Array, startsRun: boolean): number {
  let escaped: number;
  try {
    escaped = Buffer.byteLength(JSON.stringify(strictUtf8.decode(line))) - 2;
  } catch {
    escaped = Math.ceil((line.byteLength * 4) / 3);
  }
  return Math.max(escaped, Math.ceil((line.byteLength * 4) / 3)) + 2 + (startsRun ? 20 : 0);
}

/**
 * The dead letters of the refused lines of one body (an HTTP request or an MQTT message): one letter holding every
 * refused line verbatim (joined by `\n`; base64 if one is not UTF-8) and, in `refused`, their line numbers by reason
 * (runs of lines cost one entry) — not one letter per line. Only refused lines that would not fit one DLQ record
 * are split over several letters; a single line longer than half of that is kept truncated (and says so).
 */
export function buildLineDeadLetters(
  refused: readonly RefusedLine[],
  input: {
    readonly position: Readonly<Record<string, string | number | null>>;
    readonly request?: Readonly<Record<string, unknown>>;
    readonly replays?: number;
  },
  options: DeadLetterOptions = {},
): DeadLetter[] {
  const letters: DeadLetter[] = [];
  let group: RefusedLine[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (group.length === 0) return;
    const reasons = new Map<string, number>();
    for (const r of group) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    const first = group[0];
    const reason: ErrorCode = reasons.size === 1 && first !== undefined ? first.reason : 'ingest.rejected_lines';
    const parts: Uint8Array[] = [];
    for (const [i, r] of group.entries()) {
      if (i > 0) parts.push(NEWLINE);
      parts.push(r.bytes);
    }
    letters.push(
      buildDeadLetter(
        {
          stage: 'ingestion',
          reason,
          message: `${group.length} line(s) refused: ${[...reasons].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
          retryable: false,
          source: null,
          position: { ...input.position, line: first?.line ?? 1, lines: group.length },
          payload: Buffer.concat(parts),
          ...(input.request === undefined ? {} : { request: input.request }),
          ...(input.replays === undefined ? {} : { replays: input.replays }),
        },
        { ...options, maxPayloadBytes: MAX_LINES_RECORD_BYTES / 2 },
      ),
    );
    const letter = letters[letters.length - 1];
    if (letter !== undefined) {
      const scrub = (t: string): string =>
        options.scrub === undefined ? scrubCredentials(t) : options.scrub(scrubCredentials(t));
      letters[letters.length - 1] = {
        ...letter,
        refused: groupRefusedLines(group).map((g) => ({ ...g, message: scrub(g.message).slice(0, 300) })),
      };
    }
    group = [];
    bytes = 0;
  };
  let previous = -1;
  for (const r of refused) {
    const cost = lineCost(r.bytes, r.line !== previous + 1);
    previous = r.line;
    if (group.length > 0 && bytes + cost > MAX_LINES_RECORD_BYTES) flush();
    group.push(r);
    bytes += cost;
  }
  flush();
  return letters;
}

const NEWLINE = new Uint8Array([0x0a]);

/** A dead letter for a consumed record that failed with `error` (reason = the error's code, message scrubbed). */
export function deadLetterFromRecord(
  stage: Stage,
  record: ConsumedRecord,
  error: unknown,
  extra: {
    attempts?: number;
    firstFailureAt?: Date;
    position?: Record<string, string | number | null>;
    reason?: ErrorCode;
  } = {},
  options: DeadLetterOptions = {},
): DeadLetter {
  return buildDeadLetter(
    {
      stage,
      reason: extra.reason ?? errorCode(error),
      message: errorMessage(error),
      retryable: isRetryable(error),
      source: { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key },
      payload: record.value,
      ...(extra.position === undefined ? {} : { position: extra.position }),
      ...(extra.attempts === undefined ? {} : { attempts: extra.attempts }),
      ...(extra.firstFailureAt === undefined ? {} : { firstFailureAt: extra.firstFailureAt }),
    },
    options,
  );
}

/** The log record of a dead letter: keyed like its DLQ topic, with the {@link DLQ_HEADERS}. */
export function deadLetterRecord(letter: DeadLetter): LogRecord {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.reason]: letter.reason,
    [DLQ_HEADERS.stage]: letter.stage,
    [DLQ_HEADERS.attempts]: String(letter.attempts),
  };
  if (letter.source !== null) {
    headers[DLQ_HEADERS.sourceTopic] = letter.source.topic;
    headers[DLQ_HEADERS.sourcePartition] = String(letter.source.partition);
    headers[DLQ_HEADERS.sourceOffset] = String(letter.source.offset);
  }
  const topic = dlqTopicFor(letter.stage);
  return { key: topic.key(letter), value: Buffer.from(JSON.stringify(letter), 'utf8'), headers };
}

/** The dead-letter topic of a stage. */
export function dlqTopicFor(stage: Stage): Topic<DeadLetter> {
  return DLQ_TOPIC_HANDLES[stage];
}

/** Appends dead letters to their stages' DLQ topics; resolves once they are durable. */
export async function produceDeadLetters(
  log: Log,
  letters: readonly DeadLetter[],
  options: { readonly signal?: AbortSignal } = {},
): Promise<readonly RecordPosition[]> {
  const byTopic = new Map<string, LogRecord[]>();
  for (const letter of letters) {
    const name = dlqTopicFor(letter.stage).name;
    let list = byTopic.get(name);
    if (list === undefined) byTopic.set(name, (list = []));
    list.push(deadLetterRecord(letter));
  }
  const positions = await Promise.all([...byTopic].map(([topic, records]) => log.produce(topic, records, options)));
  return positions.flat();
}

function encodePayload(
  value: unknown,
  base64: boolean,
  scrub: (s: string) => string,
): { payload: string; payloadEncoding: DeadLetter['payloadEncoding']; bytes: number } {
  let textValue: string | undefined;
  let encoding: 'utf8' | 'json' = 'utf8';
  if (value instanceof Uint8Array) {
    try {
      textValue = strictUtf8.decode(value);
    } catch {
      // Not text: kept as bytes, which cannot be scrubbed meaningfully.
      return { payload: Buffer.from(value).toString('base64'), payloadEncoding: 'base64', bytes: value.byteLength };
    }
    if (looksLikeJson(textValue)) encoding = 'json';
  } else if (typeof value === 'string') {
    textValue = value;
  } else if (value === undefined) {
    textValue = '';
  } else {
    try {
      textValue = JSON.stringify(value);
      encoding = 'json';
    } catch {
      textValue = inspect(value, { depth: 4, breakLength: Infinity });
    }
  }
  const scrubbed = scrub(textValue);
  const bytes = Buffer.byteLength(scrubbed);
  if (base64) return { payload: Buffer.from(scrubbed, 'utf8').toString('base64'), payloadEncoding: 'base64', bytes };
  return { payload: scrubbed, payloadEncoding: encoding, bytes };
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function redactFields(value: unknown, scrub: (s: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => redactFields(v, scrub));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redactFields(v, scrub);
    return out;
  }
  return value;
}
