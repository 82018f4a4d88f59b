/**
 * The event-time windowing layer stream jobs share (meters now; data quality, settlement and alerts next). Pure:
 * no I/O, all instants UTC epoch milliseconds; the job persists what {@link WatermarkTracker.snapshot} gives.
 *
 * The model: records are stored and queryable as soon as they arrive, whatever their event time; nothing waits
 * for the watermark but a window's result. A window's result is emitted once the job's watermark (the slowest
 * non-idle partition's greatest event time minus the bound) reaches the window's end. A record for an emitted
 * window is `late` within the allowed lateness and restates the result; beyond it, `too-late`, the job's late
 * policy decides. PT15M and PT1H windows are UTC-aligned; P1D and P1M follow the local calendar of a time zone.
 */
export {
  type WindowResolution,
  type Window,
  WINDOW_RESOLUTIONS,
  MAX_WINDOWS,
  isWindowResolution,
  windowOf,
  windowsBetween,
  localDayOf,
  slotsInWindow,
} from './window.ts';
export { PendingMarks } from './pending-marks.ts';
export {
  type WatermarkOptions,
  type PartitionWatermarkRow,
  type ObserveResult,
  WatermarkTracker,
} from './watermark.ts';
export {
  type LatePolicy,
  type Lateness,
  type StreamJobSettings,
  LATE_POLICIES,
  StreamJobSettingsSchema,
  DEFAULT_STREAM_JOB_SETTINGS,
  classifyLateness,
  parseLatePolicy,
  parseStreamJobSettings,
} from './lateness.ts';
export { type StreamsErrorCode, STREAMS_ERROR_CODES, StreamsError } from './errors.ts';
