import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PublicationExpectation } from '../../src/alerts/index.ts';
import { DEFAULT_ALERT_RULES, alertRulesOf } from '../../src/alerts/index.ts';
import type { Gap, GapState, Range } from '../../src/completeness/index.ts';
import { dueWindow, expectedByRules, gapRequest, reconcile, subtract } from '../../src/completeness/index.ts';
import { loadReference } from '../../src/reference/index.ts';

const H = 3_600_000;
const Q = 900_000;
const T0 = Date.parse('2024-05-22T00:00:00Z');
const r = (from: number, to: number): Range => ({ start: T0 + from * H, end: T0 + to * H });

function gap(id: number, range: Range, state: GapState): Gap {
  return {
    id,
    source: 'entsoe',
    metric: 'load_actual',
    zone: 'FI',
    resolution: 'PT15M',
    ...range,
    state,
    tries: 0,
    failures: 0,
    nextAttemptAt: 0,
    lastAttemptAt: null,
    lastOutcome: null,
    detectedAt: 0,
    updatedAt: 0,
    closedAt: null,
  };
}

const expectation = (over: Partial<PublicationExpectation> = {}): PublicationExpectation => ({
  source: 'entsoe',
  metric: 'load_actual',
  zone: 'FI',
  resolution: 'PT15M',
  samples: 20,
  delayMs: H,
  medianDelayMs: H,
  marginMs: H,
  expected: true,
  lastSlot: null,
  overridden: false,
  ...over,
});

describe('gap detection', () => {
  it('the due window ends where slot end + usual delay + margin has passed, and starts at the lookback or the first slot', () => {
    const now = T0 + 10 * H + 7 * 60_000;
    // now − 24 h is 13:53 before T0: the window starts at the next quarter hour.
    assert.deepEqual(dueWindow(expectation(), T0 - 100 * H, now, 24 * H), {
      start: T0 - 13 * H - 45 * 60_000,
      end: T0 + 8 * H,
    });
    assert.deepEqual(dueWindow(expectation(), T0 + 5 * H, now, 24 * H), r(5, 8));
    // Published ahead (day-ahead prices): due into the future.
    assert.deepEqual(dueWindow(expectation({ delayMs: -11 * H, marginMs: 2 * H }), T0, now, 24 * H), r(0, 19));
    // Hourly series: whole hours only.
    assert.deepEqual(dueWindow(expectation({ resolution: 'PT60M' }), T0 + Q, now, 24 * H), r(1, 8));
    assert.equal(dueWindow(expectation({ delayMs: null }), T0, now, 24 * H), null, 'no usual delay known');
    assert.equal(dueWindow(expectation({ expected: false }), T0, now, 24 * H), null, 'not expected on a schedule');
    assert.equal(dueWindow(expectation(), null, now, 24 * H), null, 'nothing stored');
  });

  it('reconcile: new, grown, partly filled, filled, and "source has none" ranges', () => {
    const window = r(0, 24);
    const stored = [gap(1, r(2, 4), 'backfilling'), gap(2, r(10, 12), 'pending'), gap(3, r(20, 22), 'source_has_none')];
    const decided = reconcile(stored, [r(3, 4), r(15, 16), r(20, 24)], window);
    assert.deepEqual(decided.filled, [2]);
    assert.deepEqual(decided.moved, [{ id: 1, range: r(3, 4) }]);
    // What "source has none" covers is not asked again; what is missing past it is a new gap.
    assert.deepEqual(decided.added, [r(15, 16), r(22, 24)]);
    // A "source has none" range published after all is filled; a gap before the window is left alone.
    const later = reconcile([gap(3, r(20, 22), 'source_has_none'), gap(4, r(-30, -28), 'pending')], [], window);
    assert.deepEqual(later, { filled: [3], moved: [], added: [] });
    // Nor is a "source has none" range the window did not look at (nothing missing there says nothing of it).
    const outside = reconcile(
      [gap(6, r(-30, -28), 'source_has_none'), gap(7, r(30, 32), 'source_has_none')],
      [],
      window,
    );
    assert.deepEqual(outside, { filled: [], moved: [], added: [] });
    // A growing trailing gap stays one gap.
    assert.deepEqual(reconcile([gap(5, r(20, 22), 'backfilling')], [r(20, 23)], window).moved, [
      { id: 5, range: r(20, 23) },
    ]);
    assert.deepEqual(subtract([r(0, 10)], [r(2, 3), r(5, 6)]), [r(0, 2), r(3, 5), r(6, 10)]);
  });

  it('the targeted request is the series’ item for exactly the gap', () => {
    const reference = loadReference();
    const request = gapRequest({ source: 'entsoe', metric: 'load_actual', zone: 'FI', ...r(3, 5) }, reference);
    assert.deepEqual(
      [request.documentType, request.processType, request.domains, request.periodStart, request.periodEnd],
      [
        'A65',
        'A16',
        { outBiddingZone_Domain: reference.zone('FI').eic },
        '2024-05-22T03:00:00Z',
        '2024-05-22T05:00:00Z',
      ],
    );
    assert.throws(() => gapRequest({ source: 'entsoe', metric: 'flow_physical', zone: 'FI', ...r(3, 5) }, reference));
  });

  it('rule-file entries naming a series expect it even when nothing of it was ever stored', () => {
    const rules = alertRulesOf({
      publication: [
        { source: 'entsoe', metric: 'load_actual', zone: 'LU', delay: 'PT2H' },
        { source: 'entsoe', metric: 'price_day_ahead', delay: '-PT11H' },
        { source: 'entsoe', metric: 'load_actual', zone: 'FI', delay: 'PT1H' },
      ],
    });
    const extra = expectedByRules(rules, [expectation()]);
    assert.deepEqual(
      extra.map((e) => [e.metric, e.zone, e.delayMs, e.marginMs, e.lastSlot]),
      [['load_actual', 'LU', 2 * H, DEFAULT_ALERT_RULES.detectors.idle_source.margin, null]],
    );
  });
});
