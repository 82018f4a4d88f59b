import type { ErrorCode } from '../common/index.ts';
import type { DeadLetter, MeterReading } from '../contracts/index.ts';
import { MeterReadingSchema, rawMetersTopic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { buildDeadLetter, produceDeadLetters, produceValues } from '../log/index.ts';
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

/** Device readings of one body (HTTP request or MQTT message), and the lines that were not readings. */
export interface ParsedReadings {
  readonly readings: MeterReading[];
  readonly letters: DeadLetter[];
}

/**
 * Parses newline-delimited JSON readings. A line that is not JSON or not a reading becomes a dead letter of stage
 * ingestion with `position` plus its 1-based line number; the other lines still go through. Blank lines are skipped.
 */
export function parseReadingLines(
  text: string,
  position: Readonly<Record<string, string | number>>,
  scrub: (text: string) => string,
): ParsedReadings {
  const readings: MeterReading[] = [];
  const letters: DeadLetter[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let reason: ErrorCode = 'ingest.invalid_reading';
    let message: string;
    try {
      const parsed = MeterReadingSchema.safeParse(JSON.parse(line));
      if (parsed.success) {
        readings.push(parsed.data);
        return;
      }
      message = parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ');
    } catch (error) {
      reason = 'ingest.not_json';
      message = error instanceof Error ? error.message : String(error);
    }
    letters.push(
      buildDeadLetter(
        {
          stage: 'ingestion',
          reason,
          message,
          retryable: false,
          source: null,
          position: { ...position, line: i + 1 },
          payload: line,
        },
        { scrub },
      ),
    );
  });
  return { readings, letters };
}

/** Writes parsed readings to raw.meters and their dead letters to dlq-ingestion, then counts them. */
export async function storeReadings(deps: IngestDeps, parsed: ParsedReadings, signal: AbortSignal): Promise<void> {
  await produceValues(deps.log, rawMetersTopic, parsed.readings, { scrub: deps.scrub, signal });
  await produceDeadLetters(deps.log, parsed.letters, { signal });
  deps.metrics.recordsIn('ingestion', rawMetersTopic.name, parsed.readings.length);
  const byReason = new Map<string, number>();
  for (const l of parsed.letters) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
  for (const [reason, n] of byReason) deps.metrics.recordsRejected('ingestion', rawMetersTopic.name, reason, n);
}
