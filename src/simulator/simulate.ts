import type { TimeZone } from '../time/index.ts';
import { MINUTE_MS, SLOT_MS, formatUtc } from '../time/index.ts';
import type { BdewProfiles, HolidayCalendar } from './bdew-profile.ts';
import { profileQuarter } from './bdew-profile.ts';
import type { EventFault, FaultRates, ReadingFault } from './faults.ts';
import { READING_FAULTS, pickFault } from './faults.ts';
import type { SimulatedMeter } from './fleet.ts';
import { Prng, mixSeed, seedOf } from './prng.ts';
import type { SimQuantity, SimReading } from './wire.ts';
import { VALUE_SCALE, formatUnits } from './wire.ts';

/** Options of {@link simulate}. */
export interface SimulationOptions {
  readonly meters: readonly SimulatedMeter[];
  readonly profiles: BdewProfiles;
  /** First interval start, UTC ms (rounded down to a quarter hour). */
  readonly from: number;
  /** End (exclusive), UTC ms. */
  readonly to: number;
  readonly seed: number;
  /** The meters' time zone: the profile is read by local wall-clock quarter hour. @default Europe/Berlin */
  readonly timeZone?: TimeZone;
  /** Local dates counted as Sundays. @default none */
  readonly holidays?: HolidayCalendar;
  /** Standard deviation of the multiplicative noise (a factor 1 + σ·N(0,1), cut to [0, 2]). @default 0.1 */
  readonly noise?: number;
  readonly faults: FaultRates;
  /** Filled in while the run goes (see {@link emptyStats}). */
  readonly stats?: SimulationStats;
}

/** One line of the ground truth: the exact intended interval energy of a meter in one quarter hour. */
export interface TruthInterval {
  readonly meterId: string;
  readonly group: string;
  /** Interval start, UTC (`YYYY-MM-DDTHH:MM:SSZ`); the interval is [ts, ts + 15 min). */
  readonly ts: string;
  readonly quantity: 'energy_import';
  /** kWh, exact decimal text with 4 decimals. */
  readonly value: string;
  /** Register meters: the true counter at the interval END (after wrapping), kWh, 4 decimals. */
  readonly register?: string;
}

/**
 * One reading the simulator faulted: the ground truth to measure a validation engine against. A `late` reading is
 * listed in the step that generated it (not the one that sends it); a `frozen` run has one entry per reading of
 * the run.
 */
export interface InjectedFault {
  readonly meterId: string;
  readonly quantity: SimQuantity;
  /**
   * The interval the faulted reading concerns, by its START, UTC (`YYYY-MM-DDTHH:MM:SSZ`): an `energy_import`
   * reading's own (unskewed) ts; for a `register_import` read, the interval that ends at the read (the read at
   * `from` concerns the interval before `from`).
   */
  readonly ts: string;
  readonly fault: ReadingFault;
}

/** A stretch of time the simulator faulted (an outage of a group, a tampered meter), listed when it starts. */
export interface InjectedEvent {
  readonly fault: EventFault;
  readonly group: string;
  /** The tampered meter; null for an outage (the whole group). */
  readonly meterId: string | null;
  /** Outages: whether the meters send nothing or zeros. */
  readonly mode: 'silent' | 'zero' | null;
  /** [from, to) UTC (`YYYY-MM-DDTHH:MM:SSZ`), cut at the end of the simulated range. */
  readonly from: string;
  readonly to: string;
}

/** Outage length in quarter hours (1–4 h) and tamper length (6–24 h). */
export const OUTAGE_QUARTERS = [4, 16] as const;
export const TAMPER_QUARTERS = [24, 96] as const;

/** What one quarter hour of simulation produced. */
export interface SimulationStep {
  readonly ts: number;
  readonly truth: readonly TruthInterval[];
  /** What is sent now, faults applied (late readings of earlier steps included, dropped ones left out). */
  readonly send: readonly SimReading[];
  /** Every reading generated in this step that got a fault, one entry per reading (none in the final late step). */
  readonly faults: readonly InjectedFault[];
  /** Outages and tamper runs that start in this step. */
  readonly events: readonly InjectedEvent[];
}

/** Counts of a run. */
export interface SimulationStats {
  intervals: number;
  /** Readings handed out to send (duplicates count twice; late ones when generated, gaps never). */
  emitted: number;
  /**
   * Faulted readings by fault, the same count as the {@link InjectedFault} ledger: `frozen` counts the readings
   * (intervals) of the runs, not the runs.
   */
  readonly faults: Record<ReadingFault, number>;
  /** Register meters whose counter wrapped. */
  rollovers: number;
}

export function emptyStats(): SimulationStats {
  return {
    intervals: 0,
    emitted: 0,
    faults: Object.fromEntries(READING_FAULTS.map((f) => [f, 0])) as Record<ReadingFault, number>,
    rollovers: 0,
  };
}

/**
 * The energy of one quarter hour in 1e-4 kWh: profile watts × 0.25 h / 1000 × annual kWh / 1000 × noise, rounded
 * half away from zero to 4 decimals (the profile is normalised to 1,000 kWh a year; no dynamisation factor).
 */
export function quarterUnits(watts: number, annualKwh: number, noise: number): number {
  return Math.round(((watts * 0.25) / 1000) * (annualKwh / 1000) * noise * VALUE_SCALE);
}

/** The seeded noise factor of one meter in one interval: the same for a (meter, seed, interval) in every run. */
export function noiseFactor(meterSeed: number, ts: number, sigma: number): number {
  const rng = new Prng(mixSeed(meterSeed, Math.floor(ts / SLOT_MS)));
  return Math.min(2, Math.max(0, 1 + sigma * rng.normal()));
}

interface MeterState {
  readonly meter: SimulatedMeter;
  readonly noiseSeed: number;
  readonly faults: Prng;
  /** True register counter, 1e-4 kWh, already wrapped. */
  counter: number;
  /** The last non-zero value the meter sent with its true value (not spiked, negated or frozen), for `frozen`. */
  lastSent: number | undefined;
  /** An active `frozen` run: the value it repeats and how many readings of it are still to come. */
  frozen: { readonly units: number; left: number } | undefined;
  /** An active tamper run: until when (exclusive, UTC ms) and the share of its energy the meter sends. */
  tamper: { readonly until: number; readonly share: number } | undefined;
}

/**
 * Length of a `frozen` run, in readings (intervals of an interval meter, reads of a register meter), drawn
 * uniformly from the meter's fault PRNG: at least 8 so that a validation engine that flags the same non-zero value
 * over ≥ 8 consecutive intervals can see every run (a run is cut short only by the end of the simulated range).
 */
export const FROZEN_RUN_MIN = 8;
export const FROZEN_RUN_MAX = 16;

/**
 * Runs the simulation one quarter hour at a time (all meters per step, in time order), yielding the ground truth,
 * what to send and the ledger of the faults put in. Interval meters send `energy_import` for [ts, ts + 15 min);
 * register meters send their counter (`register_import`) at `from` and at the end of every interval.
 * Deterministic for a seed; the truth of a (meter, interval) does not depend on the range simulated or on the
 * faults.
 *
 * Each reading takes one uniform draw from its meter's fault PRNG (see {@link pickFault}), then:
 * - `frozen` starts a run of {@link FROZEN_RUN_MIN}–{@link FROZEN_RUN_MAX} readings (the length is drawn next)
 *   that all send the meter's last non-zero value sent unaltered (none yet: this reading's true value); a
 *   register's counter stays at its last read. While a run lasts each reading still takes its draw but ignores it:
 *   no other fault, and the stream stays aligned with the readings. The `frozen` rate is thus the chance that a
 *   run starts at a reading; `stats.faults.frozen` and the ledger count the readings of the runs. A validation
 *   engine sees the value the run repeats once more just before it (the reading it was taken from).
 * - A fault that would not change the value is not put in: `spikes` and `negative` on a value of 0, and `frozen`
 *   when the value to repeat is 0, count as no fault (nothing in the stats or the ledger).
 */
export function* simulate(options: SimulationOptions): Generator<SimulationStep> {
  const tz = options.timeZone ?? 'Europe/Berlin';
  const sigma = options.noise ?? 0.1;
  const states: MeterState[] = options.meters.map((meter) => ({
    meter,
    noiseSeed: seedOf(`noise:${meter.meterId}`, options.seed),
    faults: new Prng(seedOf(`faults:${meter.meterId}`, options.seed)),
    counter: meter.registerStartUnits,
    lastSent: undefined,
    frozen: undefined,
    tamper: undefined,
  }));
  const events = options.faults.events ?? { outage: 0, tamper: 0 };
  const groups = [...new Set(options.meters.map((m) => m.group))].sort();
  const outagePrng = new Map(groups.map((g) => [g, new Prng(seedOf(`outage:${g}`, options.seed))]));
  const tamperPrng = new Map(
    options.meters.map((m) => [m.meterId, new Prng(seedOf(`tamper:${m.meterId}`, options.seed))]),
  );
  const outages = new Map<string, { readonly until: number; readonly mode: 'silent' | 'zero' }>();
  const stats = options.stats ?? emptyStats();
  const late = new Map<number, SimReading[]>();
  const from = Math.floor(options.from / SLOT_MS) * SLOT_MS;
  const capacity = (m: SimulatedMeter): number => (m.registerCapacityKwh ?? Infinity) * VALUE_SCALE;
  for (let ts = from; ts < options.to; ts += SLOT_MS) {
    const q = profileQuarter(ts, tz, options.holidays);
    const send: SimReading[] = [];
    const truth: TruthInterval[] = [];
    const faults: InjectedFault[] = [];
    const started: InjectedEvent[] = [];
    const cut = (t: number): string => formatUtc(Math.min(t, options.to));
    if (events.outage > 0)
      for (const g of groups) {
        const rng = outagePrng.get(g);
        if (rng === undefined) continue;
        const active = outages.get(g);
        if (active !== undefined && active.until <= ts) outages.delete(g);
        const u = rng.next();
        if (outages.has(g) || u >= events.outage) continue;
        const until = ts + rng.int(OUTAGE_QUARTERS[0], OUTAGE_QUARTERS[1]) * SLOT_MS;
        const mode = rng.next() < 0.5 ? 'silent' : 'zero';
        outages.set(g, { until, mode });
        started.push({ fault: 'outage', group: g, meterId: null, mode, from: formatUtc(ts), to: cut(until) });
      }
    if (events.tamper > 0)
      for (const s of states) {
        if (s.meter.mode !== 'interval') continue;
        if (s.tamper !== undefined && s.tamper.until <= ts) s.tamper = undefined;
        const rng = tamperPrng.get(s.meter.meterId);
        if (rng === undefined) continue;
        const u = rng.next();
        if (s.tamper !== undefined || u >= events.tamper) continue;
        const until = ts + rng.int(TAMPER_QUARTERS[0], TAMPER_QUARTERS[1]) * SLOT_MS;
        s.tamper = { until, share: rng.next() * 0.05 };
        const m = s.meter;
        started.push({
          fault: 'tamper',
          group: m.group,
          meterId: m.meterId,
          mode: null,
          from: formatUtc(ts),
          to: cut(until),
        });
      }
    const emit = (s: MeterState, reading: SimReading): void => {
      const u = s.faults.next();
      const note = (fault: ReadingFault): void => {
        stats.faults[fault]++;
        const concerns = reading.quantity === 'register_import' ? reading.ts - SLOT_MS : reading.ts;
        faults.push({ meterId: reading.meterId, quantity: reading.quantity, ts: formatUtc(concerns), fault });
      };
      const frozen = s.frozen;
      if (frozen !== undefined) {
        // The run goes on: this reading's draw is spent on it.
        if (--frozen.left === 0) s.frozen = undefined;
        note('frozen');
        send.push({ ...reading, units: frozen.units });
        stats.emitted++;
        return;
      }
      let fault = pickFault(options.faults, u);
      if (reading.units === 0 && (fault === 'spikes' || fault === 'negative')) fault = undefined;
      if (fault === 'frozen' && (s.lastSent ?? reading.units) === 0) fault = undefined;
      let r = reading;
      if (fault !== undefined) {
        note(fault);
        switch (fault) {
          case 'gaps':
            return;
          case 'late': {
            const at = ts + s.faults.int(1, 96) * SLOT_MS;
            late.set(at, [...(late.get(at) ?? []), r]);
            if (r.units !== 0) s.lastSent = r.units;
            stats.emitted++;
            return;
          }
          case 'duplicates':
            send.push(r);
            stats.emitted++;
            break;
          case 'spikes':
            send.push({ ...r, units: r.units * s.faults.int(10, 100) });
            stats.emitted++;
            return;
          case 'frozen': {
            const units = s.lastSent ?? r.units;
            const left = s.faults.int(FROZEN_RUN_MIN, FROZEN_RUN_MAX) - 1;
            s.frozen = { units, left };
            send.push({ ...r, units });
            stats.emitted++;
            return;
          }
          case 'negative':
            send.push({ ...r, units: -r.units });
            stats.emitted++;
            return;
          case 'clock-skew':
            r = { ...r, ts: r.ts + (s.faults.next() < 0.5 ? -1 : 1) * s.faults.int(1, 120) * MINUTE_MS };
            break;
          default:
            fault satisfies never;
        }
      }
      if (r.units !== 0) s.lastSent = r.units;
      send.push(r);
      stats.emitted++;
    };
    for (const s of states) {
      const m = s.meter;
      if (m.mode === 'register' && ts === from) {
        emit(s, { meterId: m.meterId, group: m.group, ts, quantity: 'register_import', units: s.counter });
      }
      const watts = options.profiles.watts(m.profile, q.period, q.dayType, q.quarter);
      const units = quarterUnits(watts, m.annualKwh, noiseFactor(s.noiseSeed, ts, sigma));
      const value = formatUnits(units);
      stats.intervals++;
      const outage = outages.get(m.group);
      if (m.mode === 'interval') {
        truth.push({ meterId: m.meterId, group: m.group, ts: formatUtc(ts), quantity: 'energy_import', value });
        // An outage or a tampered meter changes what is sent, never the truth.
        if (outage?.mode === 'silent') continue;
        const sent = outage !== undefined ? 0 : s.tamper !== undefined ? Math.round(units * s.tamper.share) : units;
        emit(s, { meterId: m.meterId, group: m.group, ts, quantity: 'energy_import', units: sent });
      } else {
        let counter = s.counter + units;
        if (counter >= capacity(m)) {
          counter -= capacity(m);
          stats.rollovers++;
        }
        s.counter = counter;
        const register = formatUnits(counter);
        truth.push({
          meterId: m.meterId,
          group: m.group,
          ts: formatUtc(ts),
          quantity: 'energy_import',
          value,
          register,
        });
        if (outage !== undefined) continue;
        emit(s, { meterId: m.meterId, group: m.group, ts: ts + SLOT_MS, quantity: 'register_import', units: counter });
      }
    }
    const due = late.get(ts);
    if (due !== undefined) {
      late.delete(ts);
      send.push(...due);
    }
    yield { ts, truth, send, faults, events: started };
  }
  const rest = [...late.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, readings]) => readings);
  if (rest.length > 0) yield { ts: options.to, truth: [], send: rest, faults: [], events: [] };
}
