import type { MeterReading } from '../src/contracts/index.ts';
import { DEFAULT_FAULTS, generateFleet, loadBdewProfiles, simulate, toWireReading } from '../src/simulator/index.ts';
import type { Benchmark } from './figure.ts';
import { figure, interleavedMedians } from './figure.ts';

const METERS = 2_000;
const FROM = Date.parse('2026-10-24T22:00:00Z');
const TO = Date.parse('2026-10-25T23:00:00Z'); // 25 October 2026 in Europe/Berlin: 100 quarter hours

/**
 * `gridstream simulate meters` without the network: readings generated per second (profile, noise, default faults,
 * the wire mapping, one NDJSON line each, and the ground truth line). Baseline: `JSON.stringify` of as many prebuilt
 * wire readings, the least any generator that prints NDJSON has to do.
 */
export const simulatorBenchmark: Benchmark = {
  name: 'simulator',
  description: `fleet simulator: ${METERS} meters × 100 quarter hours to NDJSON lines (with truth and default faults)`,
  run: async (emit) => {
    const profiles = loadBdewProfiles();
    const meters = generateFleet({ count: METERS, seed: 1, rolloverShare: 1 });
    let readings = 0;
    let bytes = 0;
    const generate = (): void => {
      readings = 0;
      bytes = 0;
      for (const step of simulate({ meters, profiles, from: FROM, to: TO, seed: 1, faults: DEFAULT_FAULTS })) {
        for (const t of step.truth) bytes += JSON.stringify(t).length;
        for (const r of step.send) {
          bytes += JSON.stringify(toWireReading(r)).length;
          readings++;
        }
      }
    };
    generate();
    const prebuilt: MeterReading[] = [];
    for (const step of simulate({ meters, profiles, from: FROM, to: TO, seed: 1, faults: DEFAULT_FAULTS }))
      for (const r of step.send) prebuilt.push(toWireReading(r));
    const stringify = (): void => {
      let n = 0;
      for (const r of prebuilt) n += JSON.stringify(r).length;
      if (n === 0) throw new Error('nothing stringified');
    };
    const [simMs, baseMs] = await interleavedMedians(generate, stringify, 5);
    emit(
      figure(
        'simulator',
        'readings_per_second',
        readings / (simMs / 1000),
        'readings/s',
        { name: 'JSON.stringify of the same prebuilt readings', value: prebuilt.length / (baseMs / 1000) },
        `${readings} readings, ${METERS} meters, ${(bytes / 1e6).toFixed(1)} MB of NDJSON incl. truth`,
      ),
    );
  },
};
