export {
  type UtcMs,
  MINUTE_MS,
  HOUR_MS,
  DAY_MS,
  SLOT_MS,
  parseUtc,
  formatUtc,
  parseDateOrUtc,
  slotStart,
} from './instant.ts';
export {
  type TimeZone,
  isValidTimeZone,
  offsetAt,
  toLocal,
  fromLocal,
  addLocalDays,
  addLocalMonths,
  startOfLocalDay,
  localDayHours,
} from './zone.ts';
export { type Resolution, parseResolution, addSteps, nominalMs } from './resolution.ts';
