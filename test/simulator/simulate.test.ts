import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRates, SimReading, SimulationOptions, TruthInterval } from '../../src/simulator/index.ts';
import {
  DEFAULT_FAULTS,
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

function run(options: Partial<SimulationOptions> & { count?: number; seed?: number }): {
  truth: TruthInterval[];
  send: SimReading[];
  stats: ReturnType<typeof emptyStats>;
} {
  const seed = options.seed ?? 7;
  const stats = emptyStats();
  const truth: TruthInterval[] = [];
  const send: SimReading[] = [];
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
  }
  return { truth, send, stats };
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
    const { send, stats } = run({ count, faults: DEFAULT_FAULTS });
    const readings = count * 100 + generateFleet({ count, seed: 7 }).filter((m) => m.mode === 'register').length;
    for (const fault of READING_FAULTS) {
      const p = DEFAULT_FAULTS.reading[fault];
      const expected = readings * p;
      const sd = Math.sqrt(readings * p * (1 - p));
      assert.ok(Math.abs(stats.faults[fault] - expected) < 5 * sd, `${fault}: ${stats.faults[fault]} vs ${expected}`);
      assert.ok(stats.faults[fault] > 0, fault);
    }
    // Sent = generated − gaps + duplicates; late ones are sent too (after their time or at the end).
    assert.equal(send.length, readings - stats.faults.gaps + stats.faults.duplicates);
    assert.equal(stats.emitted, send.length);
    assert.ok(send.some((r) => r.units < 0));
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
