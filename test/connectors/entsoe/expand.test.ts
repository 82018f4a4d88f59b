import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Decimal } from '../../../src/common/index.ts';
import type { ExpandedPeriod, PeriodShape } from '../../../src/connectors/entsoe/index.ts';
import { expandPeriod, periodSteps } from '../../../src/connectors/entsoe/index.ts';
import { HOUR_MS, parseResolution } from '../../../src/time/index.ts';
import type { Resolution } from '../../../src/time/index.ts';

const res = (text: string): Resolution => {
  const r = parseResolution(text);
  assert.ok(r);
  return r;
};

/** Expands and returns the steps as objects, through the same accessor consumers use. */
function expand(shape: PeriodShape): ExpandedPeriod & { steps: ReturnType<typeof stepObjects> } {
  const e = expandPeriod(shape);
  return { ...e, steps: stepObjects(shape, e) };
}
function stepObjects(shape: PeriodShape, e: ExpandedPeriod) {
  return [
    ...periodSteps({
      index: 0,
      start: shape.start,
      end: shape.end,
      resolution: shape.resolution.text,
      pointCount: shape.positions.length,
      ...e,
    }),
  ];
}

const columns = (points: readonly { position: number; value: Decimal }[]) => ({
  positions: points.map((p) => p.position),
  values: points.map((p) => p.value),
});

/** Sorted unique positions in 1..n with arbitrary decimal values. */
const pointsIn = (n: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: n })
    .chain((positions) =>
      fc.tuple(
        ...positions
          .sort((a, b) => a - b)
          .map((position) =>
            fc.integer({ min: -5000, max: 5000 }).map((v) => ({ position, value: String(v) as Decimal })),
          ),
      ),
    );

describe('expandPeriod properties', () => {
  const start = Date.UTC(2024, 0, 1);
  it('A03 never changes a given point, fills every later position and is contiguous to the Period end', () => {
    fc.assert(
      fc.property(fc.constantFrom('PT15M', 'PT30M', 'PT60M'), fc.integer({ min: 1, max: 200 }), (r, n) => {
        const resolution = res(r);
        const end = start + n * (resolution.kind === 'fixed' ? resolution.ms : 0);
        fc.assert(
          fc.property(pointsIn(n), (points) => {
            const { steps } = expand({
              start,
              end,
              resolution,
              curveType: 'A03',
              timeZone: 'Europe/Berlin',
              ...columns(points),
              maxSteps: 1e6,
            });
            const first = points[0]!.position;
            assert.equal(steps.length, n - first + 1);
            for (const p of points) {
              const step = steps.find((s) => s.position === p.position);
              assert.equal(step?.value, p.value);
              assert.equal(step.filled, false);
            }
            for (let i = 1; i < steps.length; i++) assert.equal(steps[i]!.start, steps[i - 1]!.end);
            assert.equal(steps.at(-1)?.end, end);
            for (const s of steps.filter((x) => x.filled)) {
              const previous = points.filter((p) => p.position < s.position).at(-1);
              assert.equal(s.value, previous?.value);
            }
          }),
          { numRuns: 10 },
        );
      }),
      { numRuns: 30 },
    );
  });

  it('A01 gives exactly one step per given position and leaves gaps as gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), pointsIn(n))),
        ([n, points]) => {
          const resolution = res('PT15M');
          const end = start + n * 15 * 60_000;
          const { steps, outOfRange } = expand({
            start,
            end,
            resolution,
            curveType: 'A01',
            timeZone: 'UTC',
            ...columns(points),
            maxSteps: 1e6,
          });
          assert.equal(outOfRange.length, 0);
          assert.deepEqual(
            steps.map((s) => [s.position, s.start, s.value]),
            points.map((p) => [p.position, start + (p.position - 1) * 15 * 60_000, p.value]),
          );
        },
      ),
    );
  });

  it('P1D steps are local calendar days: each starts at local midnight and lasts 23, 24 or 25 hours', () => {
    const zones = ['Europe/Berlin', 'Europe/Madrid', 'Europe/London', 'Europe/Helsinki', 'Europe/Lisbon'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 3650 }),
        fc.integer({ min: 1, max: 120 }),
        (tz, dayOffset, days) => {
          // local midnight of a random day, found independently with Intl (hour 0 in that zone)
          let t = Date.UTC(2016, 0, 1) + dayOffset * 86_400_000 - 2 * HOUR_MS;
          const hourIn = (x: number) =>
            Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(x));
          while (hourIn(t) !== 0) t += HOUR_MS;
          const resolution = res('P1D');
          const end = t + days * 86_400_000 + 3 * 86_400_000; // generous; only whole days are kept
          const { steps } = expand({
            start: t,
            end,
            resolution,
            curveType: 'A03',
            timeZone: tz,
            positions: [1],
            values: ['1' as Decimal],
            maxSteps: 1e6,
          });
          for (const s of steps) {
            assert.equal(hourIn(s.start), 0, `${tz} step starts at local midnight`);
            assert.ok([23, 24, 25].includes((s.end - s.start) / HOUR_MS));
          }
          for (let i = 1; i < steps.length; i++) assert.equal(steps[i]!.start, steps[i - 1]!.end);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses to expand a Period into more steps than allowed', () => {
    const r = expand({
      start: 0,
      end: 366 * 86_400_000,
      resolution: res('PT1M'),
      curveType: 'A03',
      timeZone: 'UTC',
      positions: [1],
      values: ['1' as Decimal],
      maxSteps: 100_000,
    });
    assert.equal(r.tooLong, true);
    assert.equal(r.steps.length, 0);
  });
});
