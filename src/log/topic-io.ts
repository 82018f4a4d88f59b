import type { DeadLetter, Topic } from '../contracts/index.ts';
import { DLQ_TOPICS } from '../contracts/index.ts';
import type { ConsumedRecord, Log, LogRecord, RecordPosition, TopicSpec } from './log.ts';
import { LogError } from './errors.ts';
import type { DeadLetterOptions, DeadLetterSource } from './dead-letters.ts';
import { buildDeadLetter, produceDeadLetters } from './dead-letters.ts';
import { recordBytes } from './embedded/record-codec.ts';

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const DLQ_NAMES: ReadonlySet<string> = new Set(Object.values(DLQ_TOPICS));
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export interface ProduceValuesOptions extends DeadLetterOptions {
  readonly signal?: AbortSignal;
  /** Headers added to every record. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Event time of the records in epoch ms. @default the time of the append */
  readonly timestamp?: number;
  /** Where the values were derived from, recorded in the dead letters of invalid ones. @default null */
  readonly source?: DeadLetterSource | null;
}

/** A value that was not produced, and the dead letter that was produced instead. */
export interface RejectedValue {
  /** Index in the `values` given to {@link produceValues}. */
  readonly index: number;
  readonly error: LogError;
  readonly deadLetter: DeadLetter;
}

export interface ProduceValuesResult {
  /** One entry per input value: where it landed, or `null` when it was rejected. */
  readonly positions: readonly (RecordPosition | null)[];
  readonly rejected: readonly RejectedValue[];
}

export type DecodeResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: LogError };

/**
 * Validates `values` against the topic's schema and appends the valid ones as UTF-8 JSON, keyed by `topic.key`.
 * A value that fails validation (or is larger than the topic accepts) is not produced: it goes to the DLQ of the
 * topic's stage with reason `invalid_message` (`record_too_large`) and is reported in the result. Resolves once
 * records and dead letters are durable; rejects (nothing reported as done) when the log fails.
 *
 * @example
 * const { rejected } = await produceValues(log, gridObservationsTopic, chunks, { signal });
 */
export async function produceValues<T>(
  log: Log,
  topic: Topic<T>,
  values: readonly T[],
  options: ProduceValuesOptions = {},
): Promise<ProduceValuesResult> {
  const records: LogRecord[] = [];
  const recordIndex: number[] = [];
  const rejected: RejectedValue[] = [];
  const maxBytes = topic.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  for (const [index, value] of values.entries()) {
    const encoded = encodeValue(topic, value, options);
    if (!encoded.ok) {
      rejected.push(reject(topic, index, value, encoded.error, options));
      continue;
    }
    const bytes = recordBytes(encoded.value);
    if (bytes > maxBytes) {
      const error = new LogError(
        'log.record_too_large',
        `value of ${bytes} bytes exceeds maxMessageBytes ${maxBytes} of ${topic.name}`,
        {
          details: { topic: topic.name, bytes, maxMessageBytes: maxBytes },
        },
      );
      rejected.push(reject(topic, index, value, error, options));
      continue;
    }
    records.push(encoded.value);
    recordIndex.push(index);
  }
  const positions: (RecordPosition | null)[] = values.map(() => null);
  const produced = records.length === 0 ? [] : await log.produce(topic.name, records, { ...signalOf(options) });
  for (const [i, position] of produced.entries()) {
    const index = recordIndex[i];
    if (index !== undefined) positions[index] = position;
  }
  if (rejected.length > 0) {
    await produceDeadLetters(
      log,
      rejected.map((r) => r.deadLetter),
      signalOf(options),
    );
  }
  return { positions, rejected };
}

/** The `TopicSpec` that creates a topic as its handle describes it. */
export function topicSpecOf(topic: {
  readonly name: string;
  readonly partitions: number;
  readonly maxMessageBytes?: number;
  readonly retentionMs?: number | null;
  readonly retentionBytes?: number | null;
}): TopicSpec {
  return {
    name: topic.name,
    partitions: topic.partitions,
    ...(topic.maxMessageBytes === undefined ? {} : { maxMessageBytes: topic.maxMessageBytes }),
    ...(topic.retentionMs === undefined ? {} : { retentionMs: topic.retentionMs }),
    ...(topic.retentionBytes === undefined ? {} : { retentionBytes: topic.retentionBytes }),
  };
}

/** Decodes and validates a consumed record against its topic's schema: UTF-8, JSON, then the zod schema. */
export function decodeRecord<T>(topic: Topic<T>, record: ConsumedRecord): DecodeResult<T> {
  const where = { topic: record.topic, partition: record.partition, offset: record.offset };
  let text: string;
  try {
    text = strictUtf8.decode(record.value);
  } catch (cause) {
    return {
      ok: false,
      error: new LogError('log.invalid_message', `record of ${topic.name} is not UTF-8`, { cause, details: where }),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return {
      ok: false,
      error: new LogError('log.invalid_message', `record of ${topic.name} is not JSON`, { cause, details: where }),
    };
  }
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      error: new LogError(
        'log.invalid_message',
        `invalid ${topic.name} value: ${describeIssues(parsed.error.issues)}`,
        {
          details: where,
        },
      ),
    };
  }
  return { ok: true, value: parsed.data };
}

function encodeValue<T>(topic: Topic<T>, value: T, options: ProduceValuesOptions): DecodeResult<LogRecord> {
  const parsed = topic.schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      error: new LogError('log.invalid_message', `invalid ${topic.name} value: ${describeIssues(parsed.error.issues)}`),
    };
  }
  let key: string;
  try {
    key = topic.key(parsed.data);
  } catch (cause) {
    return { ok: false, error: new LogError('log.invalid_message', `no key for a ${topic.name} value`, { cause }) };
  }
  const record: LogRecord = {
    key,
    value: Buffer.from(JSON.stringify(parsed.data), 'utf8'),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  };
  return { ok: true, value: record };
}

function reject<T>(
  topic: Topic<T>,
  index: number,
  value: T,
  error: LogError,
  options: ProduceValuesOptions,
): RejectedValue {
  // A dead letter that is itself invalid cannot go to a DLQ (it would be its own source): fail loudly instead.
  if (DLQ_NAMES.has(topic.name))
    throw new LogError('log.invalid_message', `refusing to dead-letter into ${topic.name}: ${error.message}`, {
      cause: error,
    });
  const deadLetter = buildDeadLetter(
    {
      stage: topic.stage,
      reason: error.code,
      message: error.message,
      retryable: false,
      source: options.source ?? null,
      position: { index },
      payload: value,
    },
    options,
  );
  return { index, error, deadLetter };
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`);
  return issues.length > 5 ? `${shown.join('; ')}; … ${issues.length - 5} more` : shown.join('; ');
}

function signalOf(options: { readonly signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}
