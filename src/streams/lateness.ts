import { z } from 'zod';
import { DAY_MS, MINUTE_MS } from '../time/index.ts';
import { StreamsError } from './errors.ts';

/**
 * What a job does with a record for a window beyond its allowed lateness:
 * - `restate`: restate the window's result anyway (results are recomputed from stored data, so this is safe);
 * - `dead-letter`: leave the emitted result alone and send the record to the job's dead-letter topic;
 * - `count-and-drop`: leave the result alone and only count the record.
 */
export type LatePolicy = 'restate' | 'dead-letter' | 'count-and-drop';

/** Every {@link LatePolicy}. */
export const LATE_POLICIES = ['restate', 'dead-letter', 'count-and-drop'] as const satisfies readonly LatePolicy[];

/**
 * Where a record falls relative to its window and the job's watermark:
 * - `on-time`: the window has not been emitted yet (its end is after the watermark);
 * - `late`: emitted, but within the allowed lateness: the window's result is restated;
 * - `too-late`: beyond the allowed lateness: the job's {@link LatePolicy} decides.
 */
export type Lateness = 'on-time' | 'late' | 'too-late';

/**
 * Classifies a record of the window ending at `windowEndMs`. A window is emitted once the watermark reaches its
 * end (`end <= watermark`); without a watermark nothing has been emitted. `late` holds while
 * `watermark - end <= allowedLatenessMs`, so both boundaries are inclusive on the side of restating.
 */
export function classifyLateness(
  windowEndMs: number,
  watermarkMs: number | undefined,
  allowedLatenessMs: number,
): Lateness {
  if (watermarkMs === undefined || windowEndMs > watermarkMs) return 'on-time';
  return watermarkMs - windowEndMs <= allowedLatenessMs ? 'late' : 'too-late';
}

/** Reads a {@link LatePolicy}. @throws StreamsError `streams.invalid_settings` naming the accepted values */
export function parseLatePolicy(text: string): LatePolicy {
  const policy = LATE_POLICIES.find((p) => p === text);
  if (policy === undefined) {
    throw new StreamsError(
      'streams.invalid_settings',
      `late policy ${JSON.stringify(text)} is not one of ${LATE_POLICIES.join(', ')}`,
    );
  }
  return policy;
}

const ms = (max: number) => z.number().int().nonnegative().max(max);

/**
 * A stream job's event-time settings, in milliseconds. The defaults suit meter data (15-minute intervals, sent
 * by gateways that batch and retry):
 * - `boundMs` 15 min: one interval of out-of-order arrival across a partition before a window closes; readings
 *   later than that are still taken, as restatements.
 * - `idleTimeoutMs` 15 min: a partition that has carried no reading for a whole interval has nothing to say
 *   about the current windows and stops holding the others back.
 * - `clockToleranceMs` 5 min: a device clock may run this far ahead of receipt before its time is clamped for
 *   the watermark (the reading itself keeps its time; ingest refuses readings a day ahead).
 * - `allowedLatenessMs` 7 days: meter data arrives days late after a gateway outage, and a restatement is cheap
 *   because results are recomputed from the stored intervals.
 * - `latePolicy` `dead-letter`: a correction older than a week is visible and can be acted on, not lost.
 */
export const StreamJobSettingsSchema = z
  .object({
    boundMs: ms(DAY_MS).default(15 * MINUTE_MS),
    idleTimeoutMs: ms(DAY_MS)
      .positive()
      .default(15 * MINUTE_MS),
    clockToleranceMs: ms(DAY_MS).default(5 * MINUTE_MS),
    allowedLatenessMs: ms(366 * DAY_MS).default(7 * DAY_MS),
    latePolicy: z.enum(LATE_POLICIES).default('dead-letter'),
  })
  .strict();

/** A job's settings with every default applied. */
export type StreamJobSettings = z.output<typeof StreamJobSettingsSchema>;

/** The settings of a job that sets nothing. */
export const DEFAULT_STREAM_JOB_SETTINGS: StreamJobSettings = Object.freeze(StreamJobSettingsSchema.parse({}));

/**
 * Validates a job's settings (unknown input: configuration, a file) and fills in the defaults.
 *
 * @throws StreamsError `streams.invalid_settings` naming every field at fault
 */
export function parseStreamJobSettings(input: unknown): StreamJobSettings {
  const result = StreamJobSettingsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`);
  throw new StreamsError('streams.invalid_settings', `invalid stream job settings: ${problems.join('; ')}`, {
    details: { fields: result.error.issues.map((i) => i.path.join('.')) },
  });
}
