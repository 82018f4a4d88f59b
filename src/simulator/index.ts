export {
  BDEW_PROFILES,
  BDEW_PERIODS,
  BDEW_DAY_TYPES,
  QUARTERS_PER_DAY,
  DEFAULT_BDEW_FILE,
  BdewProfiles,
  loadBdewProfiles,
  bdewPeriod,
  bdewDayType,
  profileQuarter,
  localDayQuarters,
  type BdewProfile,
  type BdewPeriod,
  type BdewDayType,
  type HolidayCalendar,
  type ProfileQuarter,
} from './bdew-profile.ts';
export { Prng, seedOf, mixSeed } from './prng.ts';
export {
  generateFleet,
  fleetCsv,
  REGISTER_CAPACITY_KWH,
  METER_MODES,
  type MeterMode,
  type SimulatedMeter,
  type FleetOptions,
} from './fleet.ts';
export {
  READING_FAULTS,
  NO_FAULTS,
  DEFAULT_FAULTS,
  FaultSpecError,
  parseFaults,
  pickFault,
  type ReadingFault,
  type FaultRates,
} from './faults.ts';
export {
  simulate,
  emptyStats,
  quarterUnits,
  noiseFactor,
  FROZEN_RUN_MIN,
  FROZEN_RUN_MAX,
  type InjectedFault,
  type SimulationOptions,
  type SimulationStep,
  type SimulationStats,
  type TruthInterval,
} from './simulate.ts';
export {
  toWireReading,
  toCanonicalReading,
  formatUnits,
  VALUE_SCALE,
  VALUE_DECIMALS,
  type SimReading,
  type SimQuantity,
} from './wire.ts';
export { httpSink, mqttSink, SendError, type ReadingSink } from './send.ts';
