/**
 * Faults the simulator puts into the stream it sends (never into its ground truth), each with a rate per reading:
 * - `gaps`: the reading is not sent at all (dropped by design);
 * - `late`: sent 1–96 intervals (up to a day) after its time, or at the end of the run;
 * - `duplicates`: sent twice;
 * - `spikes`: the value is multiplied by 10–100 (a register read jumps ahead by as much);
 * - `frozen`: the meter repeats its last non-zero value sent unaltered (none yet: the reading's true value) for a run
 *   of 8–16 readings (the rate is that of a run starting; a register's counter stays at its last read);
 * - `negative`: the value is sent negated;
 * - `clock-skew`: the timestamp is shifted by 1–120 minutes, either way.
 * `rollover` takes a share of register meters (all when no rate is given) rather than of readings: those start
 * just below the counter's capacity so that their counter wraps to 0 during the run.
 * A reading gets at most one fault: one uniform draw is compared against the cumulative rates. A fault that would
 * not change the value (a spike or negation of 0, freezing on 0) counts as no fault. `simulate` lists every
 * faulted reading in its steps' `faults` ledger.
 */
export const READING_FAULTS = ['gaps', 'late', 'duplicates', 'spikes', 'frozen', 'negative', 'clock-skew'] as const;
export type ReadingFault = (typeof READING_FAULTS)[number];

/**
 * Faults of whole stretches of time rather than of single readings (the ground truth of the alert detectors):
 * - `outage`: a group's meters go dark for 1–4 hours (the rate is the chance per group and quarter hour that one
 *   starts): all of them send nothing (`silent`) or, interval meters, zeros (`zero`); register meters are silent;
 * - `tamper`: an interval meter sends 0–5 % of its energy for 6–24 hours (the chance per meter and quarter hour
 *   that a run starts).
 */
export const EVENT_FAULTS = ['outage', 'tamper'] as const;
export type EventFault = (typeof EVENT_FAULTS)[number];

export interface FaultRates {
  readonly reading: Readonly<Record<ReadingFault, number>>;
  /** Rates of the event faults; absent: none. */
  readonly events?: Readonly<Record<EventFault, number>>;
  /** Share of register meters whose counter wraps during the run. */
  readonly rollover: number;
}

export const NO_FAULTS: FaultRates = {
  reading: { gaps: 0, late: 0, duplicates: 0, spikes: 0, frozen: 0, negative: 0, 'clock-skew': 0 },
  rollover: 0,
};

/**
 * The rates the issue names as a realistic mix (`--faults default`). `frozen` is the chance that a run of 8–16
 * readings starts (12 on average), so 0.01 % of runs gives about 0.1 % frozen readings, the share the issue names.
 */
export const DEFAULT_FAULTS: FaultRates = {
  reading: {
    gaps: 0.005,
    late: 0.02,
    duplicates: 0.01,
    spikes: 0.001,
    frozen: 0.0001,
    negative: 0.0005,
    'clock-skew': 0.0005,
  },
  rollover: 1,
};

/** A malformed `--faults` value. */
export class FaultSpecError extends Error {}

function rate(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (m === null) throw new FaultSpecError(`fault ${name}: "${text}" is not a rate (e.g. 0.5% or 0.005)`);
  const value = Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (value > 1) throw new FaultSpecError(`fault ${name}: ${text} is more than 100 %`);
  return value;
}

/**
 * Parses `gaps=0.5%,late=2%,duplicates=1%,spikes=0.1%,frozen=0.01%,negative=0.05%,clock-skew=0.05%,rollover`
 * (rates as percentages or fractions; any subset; `default` for {@link DEFAULT_FAULTS}; `none` for none).
 */
export function parseFaults(spec: string): FaultRates {
  const text = spec.trim();
  if (text === 'default') return DEFAULT_FAULTS;
  if (text === 'none' || text === '') return NO_FAULTS;
  const reading: Record<ReadingFault, number> = { ...NO_FAULTS.reading };
  let rollover = 0;
  const events: Record<EventFault, number> = { outage: 0, tamper: 0 };
  for (const part of text.split(',')) {
    const [name = '', value] = part.split('=', 2).map((s) => s.trim());
    if (name === 'rollover') rollover = value === undefined ? 1 : rate(name, value);
    else if ((EVENT_FAULTS as readonly string[]).includes(name)) {
      if (value === undefined) throw new FaultSpecError(`fault ${name} needs a rate (${name}=0.1%)`);
      events[name as EventFault] = rate(name, value);
    } else if ((READING_FAULTS as readonly string[]).includes(name)) {
      if (value === undefined) throw new FaultSpecError(`fault ${name} needs a rate (${name}=1%)`);
      reading[name as ReadingFault] = rate(name, value);
    } else
      throw new FaultSpecError(
        `unknown fault "${name}" (known: ${[...READING_FAULTS, ...EVENT_FAULTS, 'rollover'].join(', ')})`,
      );
  }
  const total = Object.values(reading).reduce((a, b) => a + b, 0);
  if (total > 1) throw new FaultSpecError(`the reading fault rates add up to more than 100 %`);
  return events.outage > 0 || events.tamper > 0 ? { reading, rollover, events } : { reading, rollover };
}

/** The fault (or none) for a uniform draw `u` in [0, 1). */
export function pickFault(rates: FaultRates, u: number): ReadingFault | undefined {
  let acc = 0;
  for (const fault of READING_FAULTS) {
    acc += rates.reading[fault];
    if (u < acc) return fault;
  }
  return undefined;
}
