import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  FaultRates,
  InjectedFault,
  ReadingFault,
  SimReading,
  SimulatedMeter,
  SimulationOptions,
  TruthInterval,
} from '../../src/simulator/index.ts';
import {
  DEFAULT_FAULTS,
  FROZEN_RUN_MAX,
  FROZEN_RUN_MIN,
  FaultSpecError,
  NO_FAULTS,
  READING_FAULTS,
  REGISTER_CAPACITY_KWH,
  emptyStats,
  generateFleet,
  loadBdewProfiles,
  parseFaults,
  simulate,
  toWireReading,
} from '../../src/simulator/index.ts';
import { MeterReadingSchema } from '../../src/contracts/index.ts';

const profiles = loadBdewProfiles();

const SLOT = 900_000;

/** A sent reading with the ts of the step that sent it. */
interface Sent extends SimReading {
  readonly step: number;
}

function run(options: Partial<SimulationOptions> & { count?: number; seed?: number }): {
  truth: TruthInterval[];
  send: SimReading[];
  sent: Sent[];
  ledger: InjectedFault[];
  stats: ReturnType<typeof emptyStats>;
} {
  const seed = options.seed ?? 7;
  const stats = emptyStats();
  const truth: TruthInterval[] = [];
  const send: SimReading[] = [];
  const sent: Sent[] = [];
  const ledger: InjectedFault[] = [];
  for (const step of simulate({
    meters: options.meters ?? generateFleet({ count: options.count ?? 50, seed }),
    profiles,
    from: options.from ?? Date.parse('2026-10-24T22:00:00Z'),
    to: options.to ?? Date.parse('2026-10-25T23:00:00Z'),
    seed,
    faults: options.faults ?? NO_FAULTS,
    stats,
  })) {
    truth.push(...step.truth);
    send.push(...step.send);
    sent.push(...step.send.map((r) => ({ ...r, step: step.ts })));
    ledger.push(...step.faults);
  }
  return { truth, send, sent, ledger, stats };
}

function rates(reading: Partial<Record<ReadingFault, number>>): FaultRates {
  return { ...NO_FAULTS, reading: { ...NO_FAULTS.reading, ...reading } };
}

/** The key of a reading by the interval it concerns (a register read: the interval ending at it). */
function keyOf(meterId: string, quantity: string, intervalStart: number): string {
  return `${meterId} ${quantity} ${new Date(intervalStart).toISOString().replace('.000Z', 'Z')}`;
}

function readingKey(r: SimReading): string {
  return keyOf(r.meterId, r.quantity, r.quantity === 'register_import' ? r.ts - SLOT : r.ts);
}

/** The true value of every reading a run generates, by {@link keyOf} (register reads: the true counter). */
function trueUnits(
  truth: readonly TruthInterval[],
  meters: readonly SimulatedMeter[],
  from: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of meters)
    if (m.mode === 'register') out.set(keyOf(m.meterId, 'register_import', from - SLOT), m.registerStartUnits);
  for (const t of truth) {
    const start = Date.parse(t.ts);
    if (t.register === undefined) out.set(keyOf(t.meterId, 'energy_import', start), Math.round(Number(t.value) * 1e4));
    else out.set(keyOf(t.meterId, 'register_import', start), Math.round(Number(t.register) * 1e4));
  }
  return out;
}

/** The maximal runs of consecutive `frozen` ledger entries of a meter and quantity, as lists of interval starts. */
function frozenRuns(ledger: readonly InjectedFault[]): { meterId: string; quantity: string; starts: number[] }[] {
  const runs: { meterId: string; quantity: string; starts: number[] }[] = [];
  const open = new Map<string, { meterId: string; quantity: string; starts: number[] }>();
  for (const f of ledger) {
    if (f.fault !== 'frozen') continue;
    const ts = Date.parse(f.ts);
    const id = `${f.meterId} ${f.quantity}`;
    const current = open.get(id);
    if (current !== undefined && current.starts.at(-1) === ts - SLOT) current.starts.push(ts);
    else {
      const next = { meterId: f.meterId, quantity: f.quantity, starts: [ts] };
      runs.push(next);
      open.set(id, next);
    }
  }
  return runs;
}

describe('fleet simulator', () => {
  it('is deterministic per seed; a (meter, interval) has the same truth whatever range is simulated', () => {
    const a = run({ faults: DEFAULT_FAULTS });
    const b = run({ faults: DEFAULT_FAULTS });
    assert.deepEqual(a.truth, b.truth);
    assert.deepEqual(a.send, b.send);
    const other = run({ faults: DEFAULT_FAULTS, seed: 8 });
    assert.notDeepEqual(other.truth, a.truth);
    // The 25 October alone (from its 02:00 local) gives the same truth for those intervals.
    const later = run({ from: Date.parse('2026-10-25T00:00:00Z') });
    const byKey = new Map(a.truth.map((t) => [`${t.meterId} ${t.ts}`, t.value]));
    const interval = later.truth.filter((t) => t.register === undefined);
    assert.ok(interval.length > 1000);
    for (const t of interval) assert.equal(t.value, byKey.get(`${t.meterId} ${t.ts}`));
    // Faults never touch the truth.
    assert.deepEqual(run({}).truth, a.truth);
  });

  it('builds a realistic fleet: mostly H0 (1,500–6,000 kWh), some G*/L*, groups, register meters', () => {
    const fleet = generateFleet({ count: 2000, seed: 3 });
    const h0 = fleet.filter((m) => m.profile === 'H0');
    assert.ok(h0.length > 1500 && h0.length < 1700, `${h0.length} H0 of 2000`);
    assert.ok(h0.every((m) => m.annualKwh >= 1500 && m.annualKwh <= 6000));
    assert.ok(fleet.some((m) => m.profile.startsWith('G')) && fleet.some((m) => m.profile.startsWith('L')));
    assert.equal(new Set(fleet.map((m) => m.group)).size, 20);
    const registers = fleet.filter((m) => m.mode === 'register').length;
    assert.ok(registers > 150 && registers < 250, `${registers} register meters of 2000`);
    assert.equal(new Set(fleet.map((m) => m.meterId)).size, 2000);
  });

  it('sends what the truth holds, in the wire schema, 4 decimals exactly, when there are no faults', () => {
    const { truth, send, stats } = run({ count: 30 });
    const meters = generateFleet({ count: 30, seed: 7 });
    const registers = meters.filter((m) => m.mode === 'register').length;
    assert.ok(registers > 0);
    // 100 quarters on 25 October; a register meter also sends its counter at the start.
    assert.equal(truth.length, 30 * 100);
    assert.equal(send.length, 30 * 100 + registers);
    assert.equal(stats.emitted, send.length);
    const wanted = new Map(truth.map((t) => [`${t.meterId} ${t.ts}`, t]));
    for (const r of send) {
      const wire = MeterReadingSchema.parse(toWireReading(r));
      assert.ok(/^-?\d+(\.\d{1,4})?$/.test(JSON.stringify(wire.value)), JSON.stringify(wire.value));
      if (r.quantity === 'energy_import')
        assert.equal(String(wire.value), String(Number(wanted.get(`${r.meterId} ${wire.ts}`)?.value)));
    }
    // A register meter's counter read at an interval's end is the truth's counter for that interval.
    const reg = send.filter((r) => r.quantity === 'register_import');
    for (const r of reg.slice(0, 50)) {
      const t = truth.find((x) => x.meterId === r.meterId && Date.parse(x.ts) + 900_000 === r.ts);
      if (t !== undefined) assert.equal(Number(t.register), r.units / 10_000);
    }
  });

  it('register meters with rollover wrap at the capacity (counter read goes down, truth energy stays positive)', () => {
    const meters = generateFleet({ count: 200, seed: 5, registerShare: 1, rolloverShare: 1 });
    // Monday and Tuesday 26–27 October 2026.
    const { truth, send, stats } = run({
      meters,
      faults: { ...NO_FAULTS, rollover: 1 },
      from: Date.parse('2026-10-25T23:00:00Z'),
      to: Date.parse('2026-10-27T23:00:00Z'),
    });
    assert.equal(stats.rollovers, 200);
    const capacity = REGISTER_CAPACITY_KWH * 10_000;
    assert.ok(send.every((r) => r.quantity === 'register_import' && r.units >= 0 && r.units < capacity));
    assert.ok(truth.every((t) => Number(t.value) >= 0));
    const first = send.filter((r) => r.meterId === meters[0]?.meterId).map((r) => r.units);
    assert.equal(first.filter((u, i) => i > 0 && u < (first[i - 1] ?? 0)).length, 1);
  });

  it('puts faults in at their rates (2,000 meters × 100 quarters; within 5 standard deviations)', () => {
    const count = 2000;
    const { send, stats, ledger } = run({ count, faults: DEFAULT_FAULTS });
    const readings = count * 100 + generateFleet({ count, seed: 7 }).filter((m) => m.mode === 'register').length;
    // `frozen` counts the readings of its runs; the rate is that of a run starting at a reading whose draw is free
    // (the readings of a run after its first spend their draws on it). Runs back to back count as one here.
    const runs = frozenRuns(ledger).length;
    const drawn = readings - stats.faults.frozen + runs;
    for (const fault of READING_FAULTS) {
      const p = DEFAULT_FAULTS.reading[fault];
      const expected = drawn * p;
      const sd = Math.sqrt(drawn * p * (1 - p));
      const got = fault === 'frozen' ? runs : stats.faults[fault];
      assert.ok(Math.abs(got - expected) < 5 * sd, `${fault}: ${got} vs ${expected}`);
      assert.ok(stats.faults[fault] > 0, fault);
    }
    assert.ok(stats.faults.frozen >= runs * FROZEN_RUN_MIN && stats.faults.frozen <= runs * 2 * FROZEN_RUN_MAX);
    // Sent = generated − gaps + duplicates; late ones are sent too (after their time or at the end).
    assert.equal(send.length, readings - stats.faults.gaps + stats.faults.duplicates);
    assert.equal(stats.emitted, send.length);
    assert.ok(send.some((r) => r.units < 0));
  });

  it('frozen: runs of 8–16 readings repeating the last non-zero value sent (a register counter stays put)', () => {
    const meters = generateFleet({ count: 300, seed: 11, registerShare: 0.3 });
    const from = Date.parse('2026-10-25T23:00:00Z');
    const to = Date.parse('2026-10-28T23:00:00Z');
    const { sent, ledger, stats, truth } = run({ meters, seed: 11, from, to, faults: rates({ frozen: 0.005 }) });
    const runs = frozenRuns(ledger);
    assert.equal(stats.faults.frozen, ledger.length);
    assert.ok(runs.length > 100, `${runs.length} runs`);
    assert.ok(runs.some((r) => r.quantity === 'register_import') && runs.some((r) => r.quantity === 'energy_import'));
    const byKey = new Map(sent.map((r) => [readingKey(r), r]));
    const truthOf = trueUnits(truth, meters, from);
    const lastInterval = to - SLOT;
    let lengths = 0;
    for (const r of runs) {
      const cut = r.starts.at(-1) === lastInterval;
      const length = r.starts.length;
      // Runs drawn back to back (the next draw after a run is free) read as one run of 16–32.
      if (!cut) assert.ok(length >= FROZEN_RUN_MIN && length <= 2 * FROZEN_RUN_MAX, `run of ${length}`);
      if (length <= FROZEN_RUN_MAX) lengths++;
      const values = r.starts.map((ts) => byKey.get(keyOf(r.meterId, r.quantity, ts))?.units);
      const first = values[0];
      assert.ok(first !== undefined && first !== 0, `run value ${first}`);
      assert.ok(values.every((v) => v === first));
      // The value repeated is the one sent just before the run (the only faults are frozen ones, so it is true).
      const before = byKey.get(keyOf(r.meterId, r.quantity, (r.starts[0] ?? 0) - SLOT));
      if (before !== undefined && before.units !== 0) assert.equal(first, before.units);
      else assert.equal(first, truthOf.get(keyOf(r.meterId, r.quantity, r.starts[0] ?? 0)));
    }
    assert.ok(lengths >= runs.length * 0.95, `${lengths} of ${runs.length} runs within 8–16`);
    const seen = new Set(runs.filter((r) => r.starts.at(-1) !== lastInterval).map((r) => r.starts.length));
    assert.ok(seen.has(FROZEN_RUN_MIN) && seen.has(FROZEN_RUN_MAX), [...seen].join(' '));
  });

  it('the fault ledger lists exactly the readings sent differently from the truth', () => {
    const meters = generateFleet({ count: 300, seed: 12, registerShare: 0.3 });
    const from = Date.parse('2026-10-25T23:00:00Z');
    const to = Date.parse('2026-10-27T23:00:00Z');
    const faults = rates({ gaps: 0.01, late: 0.02, duplicates: 0.01, spikes: 0.01, frozen: 0.003, negative: 0.01 });
    const { sent, ledger, stats, truth } = run({ meters, seed: 12, from, to, faults });
    const truthOf = trueUnits(truth, meters, from);
    const entries = new Map<string, ReadingFault>();
    for (const f of ledger) {
      const key = keyOf(f.meterId, f.quantity, Date.parse(f.ts));
      assert.ok(truthOf.has(key), `ledger entry for no reading: ${key}`);
      assert.equal(entries.get(key), undefined, `two faults for ${key}`);
      entries.set(key, f.fault);
    }
    for (const fault of READING_FAULTS)
      assert.equal(ledger.filter((f) => f.fault === fault).length, stats.faults[fault], fault);
    assert.ok(READING_FAULTS.every((f) => f === 'clock-skew' || stats.faults[f] > 0));
    const sentBy = new Map<string, Sent[]>();
    for (const r of sent) sentBy.set(readingKey(r), [...(sentBy.get(readingKey(r)) ?? []), r]);
    let coincidences = 0;
    for (const [key, units] of truthOf) {
      const got = sentBy.get(key) ?? [];
      const fault = entries.get(key);
      const [r] = got;
      if (fault === 'gaps') {
        assert.equal(got.length, 0, key);
        continue;
      }
      assert.ok(r !== undefined, `not sent and no gap: ${key}`);
      assert.equal(got.length, fault === 'duplicates' ? 2 : 1, key);
      // A reading is sent in its own step (a register read: the step whose interval it ends), unless late.
      const own = r.quantity === 'register_import' ? Math.max(from, r.ts - SLOT) : r.ts;
      assert.equal(r.step > own, fault === 'late', key);
      if (fault === 'spikes') {
        assert.notEqual(units, 0);
        const k = r.units / units;
        assert.ok(Number.isInteger(k) && k >= 10 && k <= 100, `${key}: ×${k}`);
      } else if (fault === 'negative') {
        assert.ok(units > 0 && r.units === -units, key);
      } else if (fault === 'frozen') {
        assert.ok(r.units > 0, key);
        if (r.units === units) coincidences++;
      } else assert.equal(r.units, units, `${key} sent ${r.units} for ${units} (${fault ?? 'no fault'})`);
    }
    assert.ok(coincidences < stats.faults.frozen * 0.05, `${coincidences} frozen values equal to the truth`);
  });

  it('never spikes, negates or freezes a value of 0', () => {
    const zero = (meterId: string, mode: SimulatedMeter['mode']): SimulatedMeter => ({
      meterId,
      group: 'g',
      profile: 'H0',
      annualKwh: 0,
      mode,
      registerStartUnits: 0,
    });
    const meters = [zero('zero-interval', 'interval'), zero('zero-register', 'register')];
    const { send, ledger, stats } = run({ meters, faults: rates({ spikes: 0.3, negative: 0.3, frozen: 0.3 }) });
    assert.equal(send.length, 100 + 101);
    assert.ok(send.every((r) => r.units === 0));
    assert.deepEqual(ledger, []);
    assert.ok(READING_FAULTS.every((f) => stats.faults[f] === 0));
  });

  it('the ledger is deterministic per seed', () => {
    const faults = rates({ gaps: 0.01, late: 0.01, spikes: 0.01, frozen: 0.005, negative: 0.01, 'clock-skew': 0.01 });
    const a = run({ count: 200, faults });
    const b = run({ count: 200, faults });
    assert.ok(a.ledger.length > 100);
    assert.deepEqual(a.ledger, b.ledger);
    assert.deepEqual(a.sent, b.sent);
    assert.notDeepEqual(run({ count: 200, faults, seed: 8 }).ledger, a.ledger);
    // No faults, no ledger.
    assert.deepEqual(run({ count: 50 }).ledger, []);
  });

  it('parses --faults specs and refuses bad ones', () => {
    const f: FaultRates = parseFaults('gaps=0.5%,late=2%,duplicates=0.01,rollover');
    assert.equal(f.reading.gaps, 0.005);
    assert.equal(f.reading.late, 0.02);
    assert.equal(f.reading.duplicates, 0.01);
    assert.equal(f.reading.spikes, 0);
    assert.equal(f.rollover, 1);
    assert.equal(parseFaults('rollover=25%').rollover, 0.25);
    assert.deepEqual(parseFaults('default'), DEFAULT_FAULTS);
    for (const bad of ['gaps', 'gaps=lots', 'typo=1%', 'gaps=60%,late=60%', 'gaps=101%'])
      assert.throws(() => parseFaults(bad), FaultSpecError, bad);
  });
});
