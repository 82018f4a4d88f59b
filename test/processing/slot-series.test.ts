import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SlotSeries } from '../../src/processing/index.ts';
import type { ValueKind } from '../../src/processing/index.ts';
import { SLOT_MS, addLocalDays, startOfLocalDay } from '../../src/time/index.ts';

/** Re-aggregates slot values back to the source steps: averages (intensive) or sums (extensive). */
function reaggregate(series: SlotSeries, steps: readonly [number, number][], kind: ValueKind): number[] {
  return steps.map(([start, end]) => {
    let sum = 0;
    let n = 0;
    for (let t = start; t < end; t += SLOT_MS) {
      sum += series.values[(t - series.firstSlot) / SLOT_MS] ?? Number.NaN;
      n++;
    }
    return kind === 'intensive' ? sum / n : sum;
  });
}

describe('round-trip law: standardise, re-aggregate to the source resolution, get the source values back', () => {
  const kinds = fc.constantFrom<ValueKind>('intensive', 'extensive');
  const value = fc.double({ min: -5000, max: 50000, noNaN: true, noDefaultInfinity: true });
  it('for PT30M and PT60M steps', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.constantFrom(30, 60),
        fc.array(value, { minLength: 1, maxLength: 48 }),
        (kind, minutes, values) => {
          const start = Date.UTC(2024, 2, 30, 22);
          const ms = minutes * 60_000;
          const steps = values.map((_, i) => [start + i * ms, start + (i + 1) * ms] as [number, number]);
          const s = new SlotSeries(start, (values.length * ms) / SLOT_MS);
          values.forEach((v, i) => s.addStep(steps[i]![0], steps[i]![1], v, kind, 0, 1));
          s.finish(kind);
          reaggregate(s, steps, kind).forEach((back, i) => {
            assert.ok(
              Math.abs(back - values[i]!) <= 1e-9 * Math.max(1, Math.abs(values[i]!)),
              `${back} vs ${values[i]}`,
            );
          });
        },
      ),
    );
  });
  it('for P1D steps of local days across DST changes (92, 96 or 100 quarters)', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.integer({ min: 0, max: 3000 }),
        fc.array(value, { minLength: 1, maxLength: 10 }),
        (kind, dayOffset, values) => {
          const tz = 'Europe/Berlin';
          const start = startOfLocalDay(Date.UTC(2018, 0, 1) + dayOffset * 86_400_000, tz);
          const steps = values.map(
            (_, i) => [addLocalDays(start, tz, i), addLocalDays(start, tz, i + 1)] as [number, number],
          );
          const end = steps.at(-1)![1];
          const s = new SlotSeries(start, (end - start) / SLOT_MS);
          values.forEach((v, i) => s.addStep(steps[i]![0], steps[i]![1], v, kind, 0, 1));
          s.finish(kind);
          reaggregate(s, steps, kind).forEach((back, i) => {
            assert.ok(Math.abs(back - values[i]!) <= 1e-9 * Math.max(1, Math.abs(values[i]!)));
          });
        },
      ),
    );
  });
  it('for PT5M steps aggregated into quarters, then compared to their own averages/sums', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.array(value, { minLength: 3, maxLength: 30 }).filter((v) => v.length % 3 === 0),
        (kind, values) => {
          const start = Date.UTC(2024, 0, 1);
          const s = new SlotSeries(start, values.length / 3);
          values.forEach((v, i) => s.addStep(start + i * 300_000, start + (i + 1) * 300_000, v, kind, 0, 1));
          s.finish(kind);
          for (let q = 0; q < values.length / 3; q++) {
            const part = values.slice(q * 3, q * 3 + 3);
            const expected =
              kind === 'intensive' ? (part[0]! + part[1]! + part[2]!) / 3 : part[0]! + part[1]! + part[2]!;
            assert.ok(Math.abs((s.values[q] ?? Number.NaN) - expected) <= 1e-6 * Math.max(1, Math.abs(expected)));
          }
        },
      ),
    );
  });
  it('refuses a step outside its range', () => {
    const s = new SlotSeries(0, 4);
    assert.equal(s.addStep(-SLOT_MS, 0, 1, 'intensive', 0, 1), false);
    assert.equal(s.addStep(0, 5 * SLOT_MS, 1, 'intensive', 0, 1), false);
  });
});
