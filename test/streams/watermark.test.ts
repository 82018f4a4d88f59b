import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_STREAM_JOB_SETTINGS, WatermarkTracker } from '../../src/streams/index.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-10-25T10:00Z');
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
const tracker = (): WatermarkTracker =>
  new WatermarkTracker({ boundMs: 15 * MIN, idleTimeoutMs: 10 * MIN, clockToleranceMs: 5 * MIN });

describe('WatermarkTracker: one partition', () => {
  it('has no watermark before the first record, then the greatest event time minus the bound', () => {
    const w = tracker();
    assert.equal(w.watermark(T0), undefined);
    assert.equal(w.lagMs(T0), undefined);
    w.observe('raw.meters:0', T0, T0, T0);
    assert.equal(w.partitionWatermark('raw.meters:0'), T0 - 15 * MIN);
    assert.equal(w.watermark(T0), T0 - 15 * MIN);
    assert.equal(w.lagMs(T0 + MIN), 16 * MIN);
  });
  it('never goes back when an older record arrives', () => {
    const w = tracker();
    w.observe('p', T0 + 30 * MIN, T0 + 30 * MIN, T0 + 30 * MIN);
    w.observe('p', T0, T0 + 31 * MIN, T0 + 31 * MIN);
    assert.equal(w.partitionWatermark('p'), T0 + 15 * MIN);
    assert.equal(w.watermark(T0 + 31 * MIN), T0 + 15 * MIN);
  });
  it('clamps a clock running ahead to receipt + tolerance, and says so', () => {
    const w = tracker();
    const ahead = w.observe('p', T0 + 6 * 60 * MIN, T0, T0); // a meter six hours ahead
    assert.deepEqual(ahead, { clamped: true, eventMs: T0 + 5 * MIN });
    assert.equal(w.watermark(T0), T0 + 5 * MIN - 15 * MIN);
    // Exactly at the tolerance is not clamped.
    assert.deepEqual(w.observe('p', T0 + 5 * MIN, T0, T0), { clamped: false, eventMs: T0 + 5 * MIN });
    assert.deepEqual(w.observe('p', T0 - MIN, T0, T0), { clamped: false, eventMs: T0 - MIN });
  });
});

describe('WatermarkTracker: several partitions, idleness, rebalances', () => {
  it('takes the minimum over partitions that are not idle', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    w.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    assert.equal(w.watermark(T0), T0 + 5 * MIN);
  });
  it('lets a partition without records for the idle timeout stop holding the watermark back (boundary exact)', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0 + 5 * MIN);
    w.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    assert.equal(w.watermark(T0 + 10 * MIN - 1), T0 + 5 * MIN, 'b is active until 10 min have passed');
    assert.equal(w.watermark(T0 + 10 * MIN), T0 + 45 * MIN, 'b is idle after exactly 10 min');
  });
  it('when every partition is idle, takes the greatest partition watermark and does not move with the clock', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    w.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    assert.equal(w.watermark(T0 + 11 * MIN), T0 + 45 * MIN);
    assert.equal(w.watermark(T0 + 24 * 60 * MIN), T0 + 45 * MIN);
  });
  it('keeps the combined watermark when an idle partition wakes up behind the others', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0 + 11 * MIN);
    w.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    assert.equal(w.watermark(T0 + 11 * MIN), T0 + 45 * MIN);
    w.observe('b', T0 + 21 * MIN, T0 + 21 * MIN, T0 + 12 * MIN);
    assert.equal(w.partitionWatermark('b'), T0 + 6 * MIN);
    assert.equal(w.watermark(T0 + 12 * MIN), T0 + 45 * MIN, 'not back to b');
    w.observe('b', T0 + 90 * MIN, T0 + 90 * MIN, T0 + 13 * MIN);
    assert.equal(w.watermark(T0 + 13 * MIN), T0 + 45 * MIN, 'b passed a, but a is still the slowest');
    w.observe('a', T0 + 100 * MIN, T0 + 100 * MIN, T0 + 14 * MIN);
    assert.equal(w.watermark(T0 + 14 * MIN), T0 + 75 * MIN);
  });
  it('never returns less than before (property over random records, clocks and rebalances)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            partition: fc.constantFrom('a', 'b', 'c'),
            op: fc.constantFrom('observe', 'observe', 'observe', 'assign', 'revoke'),
            event: fc.integer({ min: -120, max: 120 }),
            skew: fc.integer({ min: -30, max: 600 }),
            tick: fc.integer({ min: 0, max: 15 }),
          }),
          { maxLength: 60 },
        ),
        (steps) => {
          const w = tracker();
          let now = T0;
          let last = -Infinity;
          for (const s of steps) {
            now += s.tick * MIN;
            if (s.op === 'observe') w.observe(s.partition, now + (s.event + s.skew) * MIN, now, now);
            else if (s.op === 'assign') w.assign(s.partition, now);
            else w.revoke(s.partition);
            const wm = w.watermark(now) ?? -Infinity;
            assert.ok(wm >= last, `${wm} < ${last}`);
            // A clamped clock cannot put the watermark past the latest receipt + tolerance − bound.
            if (wm !== -Infinity) assert.ok(wm <= now + 5 * MIN - 15 * MIN);
            last = wm;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
  it('holds the watermark where it is for a newly assigned partition until it delivers or goes idle', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    assert.equal(w.watermark(T0), T0 + 45 * MIN);
    w.assign('b', T0 + MIN);
    w.observe('a', T0 + 90 * MIN, T0 + 90 * MIN, T0 + 2 * MIN);
    assert.equal(w.watermark(T0 + 2 * MIN), T0 + 45 * MIN, 'b may still hold older data');
    assert.equal(w.partitionWatermark('b'), undefined);
    assert.equal(w.watermark(T0 + 11 * MIN), T0 + 75 * MIN, 'b went idle without a record');
    w.assign('a', T0 + 12 * MIN);
    assert.equal(w.partitionWatermark('a'), T0 + 75 * MIN, 'assigning a known partition changes nothing');
  });
  it('lets a revoked partition stop holding the watermark back', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    w.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    assert.equal(w.watermark(T0), T0 + 5 * MIN);
    w.revoke('b');
    assert.deepEqual(w.partitions(), ['a']);
    assert.equal(w.watermark(T0), T0 + 45 * MIN);
    assert.deepEqual(
      w.snapshot().map((r) => r.partitionKey),
      ['a'],
    );
  });
});

describe('WatermarkTracker: restart', () => {
  it('gives the same watermark after a restore from its snapshot', () => {
    const before = tracker();
    before.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    before.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0 + 3 * MIN);
    before.observe('c', T0 + 5 * MIN, T0 + 5 * MIN, T0 - 20 * MIN); // idle
    const now = T0 + 4 * MIN;
    const wm = before.watermark(now);
    before.assign('d', T0); // nothing delivered: not persisted
    const rows = before.snapshot();
    assert.deepEqual(rows, [
      { partitionKey: 'a', maxEventMs: T0 + 60 * MIN, seenAtMs: T0 },
      { partitionKey: 'b', maxEventMs: T0 + 20 * MIN, seenAtMs: T0 + 3 * MIN },
      { partitionKey: 'c', maxEventMs: T0 + 5 * MIN, seenAtMs: T0 - 20 * MIN },
    ]);
    const after = tracker();
    after.restore(JSON.parse(JSON.stringify(rows)) as typeof rows);
    assert.equal(after.watermark(now), wm);
    assert.equal(wm, T0 + 5 * MIN);
    for (const key of ['a', 'b', 'c']) assert.equal(after.partitionWatermark(key), before.partitionWatermark(key));
  });
  it('keeps the combined watermark monotonic across a restart with the stored job watermark', () => {
    const before = tracker();
    before.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0 + 11 * MIN);
    before.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    const wm = before.watermark(T0 + 11 * MIN); // b idle: a's 45
    before.observe('b', T0 + 21 * MIN, T0 + 21 * MIN, T0 + 12 * MIN); // b wakes up behind
    assert.equal(before.watermark(T0 + 12 * MIN), wm);
    const withoutJob = tracker();
    withoutJob.restore(before.snapshot());
    assert.equal(withoutJob.watermark(T0 + 12 * MIN), T0 + 6 * MIN, 'the partitions alone say less');
    const withJob = tracker();
    withJob.restore(before.snapshot(), { watermarkMs: before.lastWatermark() ?? 0 });
    assert.equal(withJob.watermark(T0 + 12 * MIN), wm);
  });
  it('with nowMs, does not take downtime for idleness: a partition with a backlog still holds the watermark', () => {
    const before = tracker();
    before.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0);
    before.observe('b', T0 + 20 * MIN, T0 + 20 * MIN, T0);
    const restartAt = T0 + 3 * 60 * MIN; // three hours down
    const naive = tracker();
    naive.restore(before.snapshot());
    assert.equal(naive.watermark(restartAt), T0 + 45 * MIN, 'all idle by their old sightings');
    const fresh = tracker();
    fresh.restore(before.snapshot(), { nowMs: restartAt });
    assert.equal(fresh.watermark(restartAt), T0 + 5 * MIN);
    assert.equal(fresh.watermark(restartAt + 10 * MIN), T0 + 45 * MIN, 'after the idle timeout they count as idle');
  });
  it('merges restored rows into what it tracks: nothing moves back', () => {
    const w = tracker();
    w.observe('a', T0 + 60 * MIN, T0 + 60 * MIN, T0 + 5 * MIN);
    w.restore([
      { partitionKey: 'a', maxEventMs: T0, seenAtMs: T0 },
      { partitionKey: 'b', maxEventMs: T0 + 90 * MIN, seenAtMs: T0 + 5 * MIN },
    ]);
    assert.equal(w.partitionWatermark('a'), T0 + 45 * MIN);
    assert.equal(w.watermark(T0 + 5 * MIN), T0 + 45 * MIN);
  });
});

describe('WatermarkTracker: bad input', () => {
  it('refuses times that are not finite and options out of range, with codes', () => {
    assert.throws(
      () => new WatermarkTracker({ boundMs: -1, idleTimeoutMs: 1, clockToleranceMs: 0 }),
      code('streams.invalid_argument'),
    );
    assert.throws(
      () => new WatermarkTracker({ boundMs: 0, idleTimeoutMs: 0, clockToleranceMs: 0 }),
      code('streams.invalid_argument'),
    );
    assert.doesNotThrow(() => new WatermarkTracker(DEFAULT_STREAM_JOB_SETTINGS), 'a job settings object will do');
    const w = tracker();
    assert.throws(() => w.observe('p', Number.NaN, T0, T0), code('streams.invalid_argument'));
    assert.throws(() => w.observe('p', T0, T0, Infinity), code('streams.invalid_argument'));
    assert.throws(() => {
      w.restore([{ partitionKey: 'p', maxEventMs: Number.NaN, seenAtMs: T0 }]);
    }, code('streams.invalid_argument'));
    assert.deepEqual(w.partitions(), [], 'nothing half-applied');
  });
});
