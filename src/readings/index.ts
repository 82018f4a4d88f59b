/**
 * Pure rules over canonical readings: register reads to interval energy by difference (rollover, reset, split),
 * and which value wins for one (meter, quantity, interval). No I/O: storage and the stream engine call these.
 */
export {
  type RegisterRead,
  type IntervalFlag,
  type RegisterInterval,
  type RegisterReset,
  type RegisterIntervalsOptions,
  type RegisterIntervalsResult,
  registerToIntervals,
} from './register-intervals.ts';
export { type ReceivedReading, type ValueDecision, isNewer, decideValue, resolveValues } from './which-wins.ts';
