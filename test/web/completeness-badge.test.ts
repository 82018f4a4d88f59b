import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCompleteness, decodeConnectors } from '../../web/src/api-types.ts';
import { gapSummary } from '../../web/src/completeness-badge.ts';

const gap = (state: string, tries: number): Record<string, unknown> => ({
  source: 'entsoe',
  metric: 'generation_actual',
  zone: 'FI',
  resolution: 'PT15M',
  start: '2023-05-09T00:00:00.000Z',
  end: '2023-05-09T03:00:00.000Z',
  slots: 12,
  state,
  tries,
  failures: 0,
  next_attempt_at: state === 'backfilling' ? '2023-05-09T10:00:00.000Z' : null,
  last_attempt_at: null,
  last_outcome: tries > 0 ? 'no matching data' : null,
  detected_at: '2023-05-09T09:00:00.000Z',
  closed_at: null,
});

describe('the completeness badge reads gaps', () => {
  it('decodes the answer with and without gaps (older servers)', () => {
    const days = [{ metric: 'load_actual', day: '2023-05-09', expected_values: 96, present_values: 90 }];
    assert.deepEqual(decodeCompleteness({ days }, '$').gaps, []);
    const decoded = decodeCompleteness({ days, gaps: [gap('backfilling', 1)] }, '$');
    const [first] = decoded.gaps;
    assert.ok(first !== undefined);
    assert.deepEqual([first.state, first.start], ['backfilling', Date.parse('2023-05-09T00:00:00.000Z')]);
    assert.throws(() => decodeCompleteness({ days, gaps: [gap('lost', 0)] }, '$'), /gap state/);
  });

  it('summarises the gaps that are not filled, by state', () => {
    const { gaps } = decodeCompleteness(
      {
        days: [],
        gaps: [
          gap('pending', 0),
          gap('backfilling', 2),
          gap('source_has_none', 4),
          gap('filled', 1),
          gap('pending', 0),
        ],
      },
      '$',
    );
    assert.equal(gapSummary(gaps), '4 gaps: 2 pending, 1 backfilling, 1 source has none');
    assert.equal(gapSummary(gaps.filter((g) => g.state === 'filled')), '');
  });

  it('the connectors answer carries the gap counts (zeros from an older server)', () => {
    const base = { jobs: [], rate_limits: [], leases: [], live: null, inputs: [] };
    assert.equal(decodeConnectors(base, '$').gaps.open.length, 0);
    const withGaps = decodeConnectors(
      {
        ...base,
        gaps: {
          states: { pending: 1, backfilling: 0, filled: 3, source_has_none: 0 },
          requests_last_hour: 2,
          open: [gap('pending', 0)],
        },
      },
      '$',
    );
    assert.deepEqual(
      [withGaps.gaps.states.filled, withGaps.gaps.requestsLastHour, withGaps.gaps.open[0]?.zone],
      [3, 2, 'FI'],
    );
  });
});
