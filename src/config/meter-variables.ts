import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { Variable } from './variable.ts';
import { milliseconds, variable } from './variable.ts';

/** What the `meters` role does with a smart-meter reading whose meter is not in the registry. */
export type UnknownMeterPolicy = 'dead-letter' | 'register';
/** What happens to input later than the allowed lateness: see `src/streams`. */
export type LateDataPolicy = 'restate' | 'dead-letter' | 'count-and-drop';

/** The `meters` role's event-time settings (the `meters` job of the stream engine) and the embedded demo fleet. */
export interface MeterSettings {
  /** `GRIDSTREAM_METERS_UNKNOWN`: readings of meters not in the registry. @default `dead-letter` */
  readonly unknownMeter: UnknownMeterPolicy;
  /** `GRIDSTREAM_METERS_WATERMARK_BOUND_MS`: a partition's watermark is its greatest event time minus this. @default 15 min */
  readonly watermarkBoundMs: number;
  /** `GRIDSTREAM_METERS_IDLE_PARTITION_MS`: a partition without input this long stops holding the watermark back. @default 60 s */
  readonly idlePartitionMs: number;
  /** `GRIDSTREAM_METERS_CLOCK_TOLERANCE_MS`: event times are clamped to receipt plus this. @default 5 min */
  readonly clockToleranceMs: number;
  /** `GRIDSTREAM_METERS_ALLOWED_LATENESS_MS`: how long after a window's end input still restates it. @default 7 days */
  readonly allowedLatenessMs: number;
  /** `GRIDSTREAM_METERS_LATE_POLICY`: input later than the allowed lateness. @default `dead-letter` */
  readonly latePolicy: LateDataPolicy;
  /** `GRIDSTREAM_METERS_RETENTION_MS`: raw partitions (intervals, register reads, device readings) older than this are dropped. @default keep forever */
  readonly retentionMs: number | null;
  /** `GRIDSTREAM_SIMULATED_METERS`: size of the labelled simulated fleet `gridstream start` runs in the embedded default. @default 300 */
  readonly simulatedMeters: number;
  /** `GRIDSTREAM_VEE_RULES`: a JSON rule file overriding the validation defaults per profile class or group. @default none */
  readonly veeRulesFile: string | null;
  /** `GRIDSTREAM_SETTLEMENT_WAIT_MS`: how long settlement waits for a missing price or intensity before emitting `pending` rows. @default 10 min */
  readonly settlementWaitMs: number;
}

const duration = milliseconds.min(0).max(366 * 86_400_000);

/** The meter settings' declarations (part of `VARIABLES`, in this order). */
export const METER_VARIABLES = {
  metersUnknown: variable<UnknownMeterPolicy>({
    name: 'GRIDSTREAM_METERS_UNKNOWN',
    schema: z.enum(['dead-letter', 'register'], { message: 'expected dead-letter or register' }),
    fallback: 'dead-letter',
    shown: 'dead-letter',
    description:
      'Smart-meter readings of a meter not in the registry: `dead-letter` (dlq-processing, reason `meters.unknown_meter`) or `register` (stored, and the meter registered in group `unassigned` for an admin to complete).',
  }),
  metersWatermarkBoundMs: variable({
    name: 'GRIDSTREAM_METERS_WATERMARK_BOUND_MS',
    schema: duration,
    fallback: 900_000,
    shown: '900000',
    description:
      "Event-time watermark of a `raw.meters` partition: its greatest event time minus this; the job's watermark is the minimum over partitions. Window results (day rows, group aggregates) are final once it passes their end.",
  }),
  metersIdlePartitionMs: variable({
    name: 'GRIDSTREAM_METERS_IDLE_PARTITION_MS',
    schema: duration.min(1000),
    fallback: 60_000,
    shown: '60000',
    description: 'A `raw.meters` partition without input for this long stops holding the watermark back.',
  }),
  metersClockToleranceMs: variable({
    name: 'GRIDSTREAM_METERS_CLOCK_TOLERANCE_MS',
    schema: duration,
    fallback: 300_000,
    shown: '300000',
    description:
      'Event times are clamped to the record’s receipt plus this for the watermark, so that one meter with a clock ahead cannot make every other meter late.',
  }),
  metersAllowedLatenessMs: variable({
    name: 'GRIDSTREAM_METERS_ALLOWED_LATENESS_MS',
    schema: duration,
    fallback: 7 * 86_400_000,
    shown: '604800000',
    description:
      'How long after the watermark passed a window’s end a reading still restates it (the old result kept as a revision). Later readings follow `GRIDSTREAM_METERS_LATE_POLICY`.',
  }),
  metersLatePolicy: variable<LateDataPolicy>({
    name: 'GRIDSTREAM_METERS_LATE_POLICY',
    schema: z.enum(['restate', 'dead-letter', 'count-and-drop'], {
      message: 'expected restate, dead-letter or count-and-drop',
    }),
    fallback: 'dead-letter',
    shown: 'dead-letter',
    description:
      'Readings later than the allowed lateness: `restate` (stored, results restated), `dead-letter` (dlq-processing, reason `meters.late`) or `count-and-drop` (counted in `gridstream_meters_late_total`, not stored).',
  }),
  metersRetentionMs: variable<number | null>({
    name: 'GRIDSTREAM_METERS_RETENTION_MS',
    schema: milliseconds.min(86_400_000).max(100 * 366 * 86_400_000),
    fallback: null,
    shown: 'none',
    description:
      "Drop raw meter partitions (meter_intervals, meter_register_reads, device_readings) older than this, daily, once the meters job's watermark minus the allowed lateness has passed them (export them first with `gridstream export --meters`). Day rows stay and serve every resolution of those days. At least the allowed lateness plus two days; not with `GRIDSTREAM_METERS_LATE_POLICY=restate`. Unset: keep forever.",
  }),
  simulatedMeters: variable({
    name: 'GRIDSTREAM_SIMULATED_METERS',
    schema: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0).max(100_000),
    fallback: 300,
    shown: '300',
    description:
      'Embedded default only (neither `DATABASE_URL` nor `KAFKA_BROKERS` set): meters of the labelled simulated fleet (`simulated: true`, ids `sim-…`) whose quarter hours `gridstream start` writes into raw.meters as the ingest gateway would, so that the meter pages are alive; 0 turns it off.',
  }),
  veeRulesFile: variable<string | null>({
    name: 'GRIDSTREAM_VEE_RULES',
    schema: z
      .string()
      .min(1)
      .refine(
        (path) => !Array.from(path, (c) => c.charCodeAt(0)).some((code) => code < 32),
        'expected the path of a JSON file',
      ),
    fallback: null,
    shown: 'none',
    description:
      'A JSON file of validation rule settings (`{"default": {...}, "profiles": {"H0": {...}}, "groups": {"feeder-7": {...}}}`) overriding the documented defaults of the `quality` role per load profile class or meter group (README, "Validation, estimation and editing"). Unset: the defaults.',
  }),
  settlementWaitMs: variable({
    name: 'GRIDSTREAM_SETTLEMENT_WAIT_MS',
    schema: duration,
    fallback: 600_000,
    shown: '600000',
    description:
      'How long the `settle` role waits for a missing day-ahead price or carbon intensity of a validated day before it writes the day with `pending` rows (null cost or emissions); their arrival later restates them.',
  }),
} as const;

/** Reads the meter settings with the loader's `read`. */
export function readMeterSettings(read: <T>(v: Variable<T>) => T): MeterSettings {
  const V = METER_VARIABLES;
  const settings: MeterSettings = {
    unknownMeter: read(V.metersUnknown),
    watermarkBoundMs: read(V.metersWatermarkBoundMs),
    idlePartitionMs: read(V.metersIdlePartitionMs),
    clockToleranceMs: read(V.metersClockToleranceMs),
    allowedLatenessMs: read(V.metersAllowedLatenessMs),
    latePolicy: read(V.metersLatePolicy),
    retentionMs: read(V.metersRetentionMs),
    simulatedMeters: read(V.simulatedMeters),
    veeRulesFile: read(V.veeRulesFile),
    settlementWaitMs: read(V.settlementWaitMs),
  };
  const retention = settings.retentionMs;
  if (retention !== null && retention < settings.allowedLatenessMs + 2 * 86_400_000)
    throw new ConfigError([
      {
        variable: V.metersRetentionMs.name,
        message: `must be at least the allowed lateness plus two days (${settings.allowedLatenessMs + 2 * 86_400_000} ms): raw intervals still restate day rows until then`,
      },
    ]);
  if (retention !== null && settings.latePolicy === 'restate')
    throw new ConfigError([
      {
        variable: V.metersRetentionMs.name,
        message:
          'cannot be set with GRIDSTREAM_METERS_LATE_POLICY=restate: a reading later than the retention would restate a day from its dropped intervals',
      },
    ]);
  return settings;
}
