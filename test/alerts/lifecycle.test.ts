import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signal } from '../../src/alerts/index.ts';
import { advance, alertRulesOf, AlertRulesError } from '../../src/alerts/index.ts';

const Q = 900_000;
const T0 = Date.parse('2026-11-09T00:00:00Z');
const sig = (i: number, active: boolean, severity: Signal['severity'] = 'warning'): Signal => ({
  detector: 'meter_outage',
  subject: 'feeder-1',
  active,
  from: T0 + i * Q,
  to: T0 + (i + 1) * Q,
  severity,
  zone: 'DE_LU',
  group: 'feeder-1',
  meter: null,
  message: active ? 'dark' : 'back',
  values: {},
});
/** A pattern of windows: `x` active, `.` quiet, `W`/`C` active at warning/critical. */
const run = (pattern: string): Signal[] =>
  Array.from(pattern, (c, i) => sig(i, c !== '.', c === 'C' ? 'critical' : 'warning'));
const timing = { minActiveMs: 2 * Q, clearAfterMs: 3 * Q };

describe('the alert lifecycle (hysteresis, minimum duration, flapping)', () => {
  it('opens only after the minimum duration of activity, with first seen at the start of the run', () => {
    assert.deepEqual(advance(timing, null, null, run('x.')).steps, []);
    const r = advance(timing, null, null, run('xx'));
    assert.deepEqual(
      r.steps.map((s) => s.transition),
      ['opened'],
    );
    assert.equal(r.alert?.firstSeen, T0);
    assert.equal(r.alert.lastSeen, T0 + 2 * Q);
  });

  it('a flapping signal stays one alert (occurrences count the returns) and resolves after the quiet time', () => {
    const r = advance(timing, null, null, run('xxx.x..x.x...'));
    assert.deepEqual(
      r.steps.map((s) => s.transition),
      ['opened', 'updated', 'returned', 'returned', 'returned', 'resolved'],
    );
    const resolved = r.steps.at(-1)?.alert;
    assert.equal(resolved?.occurrences, 4);
    assert.equal(resolved.lastSeen, T0 + 10 * Q);
    assert.equal(r.alert, null);
    assert.equal(r.state.activeSince, null, 'nothing left in play');
    assert.equal(r.state.lastAt, T0 + 13 * Q, 'the last judged window is kept');
  });

  it('a hundred flaps within the hysteresis open one alert, not a hundred', () => {
    const r = advance(timing, null, null, run('xx' + 'x.'.repeat(100)));
    assert.equal(r.steps.filter((s) => s.transition === 'opened').length, 1);
    assert.equal(r.alert?.occurrences, 100, 'the run and its 99 returns');
  });

  it('escalates when the severity rises and never lowers it', () => {
    const r = advance(timing, null, null, run('xxCx'));
    assert.deepEqual(
      r.steps.map((s) => s.transition),
      ['opened', 'escalated', 'updated'],
    );
    assert.equal(r.alert?.severity, 'critical');
  });

  it('carries state across calls and skips windows older than the last judged one', () => {
    const first = advance(timing, null, null, run('xx'));
    const again = advance(timing, first.state, first.alert, run('xx'));
    assert.deepEqual(
      again.steps.map((s) => s.transition),
      ['updated'],
      'only the last window may be judged again',
    );
    const later = advance(timing, first.state, first.alert, [sig(2, false), sig(3, false), sig(4, false)]);
    assert.deepEqual(
      later.steps.map((s) => s.transition),
      ['resolved'],
    );
  });

  it('a run that never reaches the minimum duration is forgotten after the quiet time', () => {
    const r = advance(timing, null, null, run('x...'));
    assert.deepEqual(r.steps, []);
    assert.equal(r.state.activeSince, null);
  });

  it('windows without a verdict do not count towards the minimum duration', () => {
    // Active at 00:00 and again at 04:00 with nothing judged between (a group not judged, a value missing).
    const r = advance({ minActiveMs: 4 * 4 * Q, clearAfterMs: 4 * Q }, null, null, [sig(0, true), sig(16, true)]);
    assert.deepEqual(r.steps, []);
    assert.equal(r.state.activeSince, T0 + 16 * Q);
  });

  it('an old window (a backfill, a replay) is not judged again once a later one was', () => {
    const first = advance(timing, null, null, run('xx...'));
    assert.deepEqual(
      first.steps.map((s) => s.transition),
      ['opened', 'resolved'],
    );
    const replay = advance(timing, first.state, null, run('xx'));
    assert.deepEqual(replay.steps, []);
  });
});

describe('alert rule files', () => {
  it('merge over the documented defaults and name what is wrong', () => {
    const rules = alertRulesOf({
      deliveryLatency: 'PT30M',
      groups: { 'feeder-7': { deliveryLatency: 'PT2H' } },
      detectors: { price_extreme: { above: 300 } },
      publication: [{ metric: 'price_day_ahead', delay: '-PT11H' }],
    });
    assert.equal(rules.detectors.price_extreme.above, 300);
    assert.equal(rules.detectors.price_extreme.severity, 'warning');
    assert.equal(rules.deliveryLatencyMs, 30 * 60_000);
    assert.equal(rules.groups.get('feeder-7')?.deliveryLatencyMs, 2 * 3_600_000);
    assert.equal(rules.publication[0]?.delay, -11 * 3_600_000);
    assert.throws(() => alertRulesOf({ detectors: { meter_outage: { darkShare: 2 } } }), AlertRulesError);
    assert.throws(() => alertRulesOf({ detectors: { meter_outage: { typo: 1 } } }), /meter_outage: Unrecognized key/);
    assert.throws(() => alertRulesOf({ deliveryLatency: 'soon' }), /ISO 8601 duration/);
    assert.throws(() => alertRulesOf({ detectors: { nope: {} } }), AlertRulesError);
  });
});
