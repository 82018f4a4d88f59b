import type { BdewProfile } from './bdew-profile.ts';
import { Prng, seedOf } from './prng.ts';

/** How a simulated meter reports: 15-minute interval energy, or a cumulative register (counter) reading. */
export const METER_MODES = ['interval', 'register'] as const;
export type MeterMode = (typeof METER_MODES)[number];

/** One simulated meter. */
export interface SimulatedMeter {
  readonly meterId: string;
  readonly group: string;
  readonly profile: BdewProfile;
  /** Annual consumption the profile is scaled to, kWh. */
  readonly annualKwh: number;
  readonly mode: MeterMode;
  /** Register meters: the counter in 1e-4 kWh when the simulation starts (0 for interval meters). */
  readonly registerStartUnits: number;
  /** Register meters: the counter wraps to 0 at this value (kWh); `undefined` = never wraps. */
  readonly registerCapacityKwh?: number;
}

/** Options of {@link generateFleet}. */
export interface FleetOptions {
  readonly count: number;
  readonly seed: number;
  /** Number of groups (feeders) the meters are spread over round-robin. @default ceil(count / 100) */
  readonly groups?: number;
  /** Share of meters that send register reads instead of intervals. @default 0.1 */
  readonly registerShare?: number;
  /** Share of register meters that start close to their capacity and wrap during a run. @default 0 */
  readonly rolloverShare?: number;
}

/** Profile mix: mostly households, then commercial, some agriculture (weights sum to 1). */
const PROFILE_MIX: readonly (readonly [BdewProfile, number, number, number])[] = [
  // profile, weight, annual kWh min, max
  ['H0', 0.8, 1_500, 6_000],
  ['G0', 0.05, 5_000, 50_000],
  ['G1', 0.03, 3_000, 30_000],
  ['G2', 0.02, 5_000, 40_000],
  ['G3', 0.01, 10_000, 100_000],
  ['G4', 0.02, 5_000, 40_000],
  ['G5', 0.01, 5_000, 40_000],
  ['G6', 0.01, 3_000, 30_000],
  ['L0', 0.02, 5_000, 30_000],
  ['L1', 0.02, 5_000, 30_000],
  ['L2', 0.01, 5_000, 30_000],
];

/** Register capacity of the simulated counters: 6 integer digits (999 999.9999 kWh wraps to 0). */
export const REGISTER_CAPACITY_KWH = 1_000_000;

/**
 * `count` meters (`sim-000001`…), deterministic for a seed: profile by {@link PROFILE_MIX} weights, annual
 * consumption uniform in the profile's range (whole kWh), groups `sim-feeder-001`… round-robin, a share of
 * register meters with a random starting counter (close below the capacity for the `rolloverShare`).
 */
export function generateFleet(options: FleetOptions): SimulatedMeter[] {
  const groups = Math.max(1, options.groups ?? Math.ceil(options.count / 100));
  const registerShare = options.registerShare ?? 0.1;
  const rolloverShare = options.rolloverShare ?? 0;
  const width = Math.max(6, String(options.count).length);
  const meters: SimulatedMeter[] = [];
  for (let i = 1; i <= options.count; i++) {
    const meterId = `sim-${String(i).padStart(width, '0')}`;
    const rng = new Prng(seedOf(`fleet:${meterId}`, options.seed));
    let pick = rng.next();
    let chosen = PROFILE_MIX[0] ?? (['H0', 1, 1_500, 6_000] as const);
    for (const entry of PROFILE_MIX) {
      chosen = entry;
      pick -= entry[1];
      if (pick < 0) break;
    }
    const [profile, , min, max] = chosen;
    const annualKwh = rng.int(min, max);
    const mode: MeterMode = rng.next() < registerShare ? 'register' : 'interval';
    const wraps = mode === 'register' && rng.next() < rolloverShare;
    // A wrapping counter starts 2–10 % of an average day's consumption below the capacity: a run of a workday wraps.
    const startKwh = wraps
      ? REGISTER_CAPACITY_KWH - rng.between(0.02, 0.1) * (annualKwh / 365)
      : rng.between(0, 50_000);
    const group = `sim-feeder-${String(((i - 1) % groups) + 1).padStart(3, '0')}`;
    meters.push({
      meterId,
      group,
      profile,
      annualKwh,
      mode,
      registerStartUnits: mode === 'register' ? Math.round(startKwh * 10_000) : 0,
      ...(mode === 'register' ? { registerCapacityKwh: REGISTER_CAPACITY_KWH } : {}),
    });
  }
  return meters;
}

/** The fleet as CSV for `gridstream meters import` (time zone and zone as given; register meters with their capacity). */
export function fleetCsv(meters: readonly SimulatedMeter[], zone: string, timeZone: string): string {
  const lines = [
    'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile,register_capacity_kwh',
  ];
  // The largest value a simulated counter shows: one 4-decimal step below the modulus it wraps at.
  const largest = `${REGISTER_CAPACITY_KWH - 1}.9999`;
  for (const m of meters)
    lines.push(
      [
        m.meterId,
        zone,
        m.group,
        timeZone,
        'import',
        'PT15M',
        m.annualKwh,
        m.profile,
        m.mode === 'register' ? largest : '',
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}
