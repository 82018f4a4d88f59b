import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccuracyPair } from '../../src/forecast/index.ts';
import { accuracyRows, errorFigures, sameSlotYesterday } from '../../src/forecast/index.ts';
import { DAY_MS, HOUR_MS } from '../../src/time/index.ts';
import { chunksOf } from '../helpers/api.ts';

// Real intensities: the FI generation of 8–10 May 2023 as MW values, paired with themselves a day later.
const wind = chunksOf('A75_FI_PT60M_A01_2023-05-08.xml').find((c) => c.productionType === 'B19');
const points = wind?.points.map((p) => ({ t: Date.parse(p.t), v: p.v })) ?? [];

describe('forecast accuracy (pure)', () => {
  it('MAE and sMAPE as defined, over real values', () => {
    assert.ok(points.length > 100);
    const pairs = points.slice(96).map((p, i) => [points[i]?.v ?? 0, p.v] as const);
    const f = errorFigures(pairs);
    let abs = 0;
    let sym = 0;
    for (const [p, a] of pairs) {
      abs += Math.abs(p - a);
      sym += Math.abs(p - a) / ((Math.abs(p) + Math.abs(a)) / 2);
    }
    assert.ok(Math.abs(f.mae - abs / pairs.length) < 1e-9);
    assert.ok(Math.abs(f.smape - (100 * sym) / pairs.length) < 1e-9);
    assert.deepEqual(errorFigures([[0, 0]]), { mae: 0, smape: 0 });
    assert.equal(errorFigures([[1, -1]]).smape, 200);
  });

  it('groups by horizon, scoring forecast and baseline on the same slots', () => {
    const pairs: AccuracyPair[] = points.slice(0, 192).map((p, i) => ({
      horizonMinutes: 15 * (i + 1),
      forecast: p.v,
      actual: points[i + 1]?.v ?? p.v,
      baseline: points[i + 2]?.v ?? p.v,
    }));
    const rows = accuracyRows(pairs);
    assert.deepEqual(
      rows.map((r) => [r.horizon, r.n]),
      [
        ['0-6h', 24],
        ['6-12h', 24],
        ['12-24h', 48],
        ['24-48h', 96],
      ],
    );
    const first = pairs.slice(0, 24);
    const row = rows[0];
    assert.ok(row !== undefined);
    assert.equal(row.mae, errorFigures(first.map((p) => [p.forecast, p.actual])).mae);
    assert.equal(row.baseline.mae, errorFigures(first.map((p) => [p.baseline, p.actual])).mae);
  });

  it('the baseline is the same local quarter hour yesterday, or the day before when yesterday is not over', () => {
    const actual = new Map(points.map((p) => [p.t, p.v]));
    const madeAt = Date.parse('2023-05-09T21:00:00Z');
    const soon = madeAt + HOUR_MS;
    assert.equal(sameSlotYesterday(soon, madeAt, 'Europe/Helsinki', actual), actual.get(soon - DAY_MS));
    const later = madeAt + 26 * HOUR_MS; // yesterday's slot is after the issue time: two days back
    assert.notEqual(actual.get(later - 2 * DAY_MS), undefined);
    assert.equal(sameSlotYesterday(later, madeAt, 'Europe/Helsinki', actual), actual.get(later - 2 * DAY_MS));
    assert.equal(sameSlotYesterday(madeAt + 60 * HOUR_MS, madeAt, 'Europe/Helsinki', actual), undefined);
  });
});
