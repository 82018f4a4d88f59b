import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignSeries, closeSteps, countPoints, stackSeries } from '../../web/src/series-data.ts';

describe('chart data shaping', () => {
  it('aligns series on the union of their timestamps (epoch seconds), gaps as null', () => {
    const aligned = alignSeries([
      [
        { ts: 2000, value: 1 },
        { ts: 1000, value: 2 },
      ],
      [{ ts: 3000, value: 5 }],
    ]);
    assert.deepEqual(aligned.xs, [1, 2, 3]);
    assert.deepEqual(aligned.ys, [
      [2, 1, null],
      [null, null, 5],
    ]);
    assert.equal(countPoints(aligned.ys), 3);
  });

  it('stacks bottom-up, counts negatives and holes as 0, keeps all-empty slots as gaps', () => {
    const { stacked, bands } = stackSeries([
      [1, null, -4, null],
      [2, 3, 1, null],
      [5, 5, 5, null],
    ]);
    assert.deepEqual(stacked, [
      [1, 0, 0, null],
      [3, 3, 1, null],
      [8, 8, 6, null],
    ]);
    assert.deepEqual(bands, [
      [2, 1],
      [3, 2],
    ]);
  });

  it('re-stacks without hidden series, whose bands skip them', () => {
    const { stacked, bands } = stackSeries(
      [
        [1, 1],
        [2, 2],
        [4, 4],
      ],
      new Set([1]),
    );
    assert.deepEqual(stacked, [
      [1, 1],
      [2, 2],
      [5, 5],
    ]);
    assert.deepEqual(bands, [[3, 1]]);
  });

  it('closes steps: the x after the last value holds it, so that its step covers its slot; inner gaps stay', () => {
    assert.deepEqual(closeSteps([1, 2, null, 3, null, null]), [1, 2, null, 3, 3, null]);
    assert.deepEqual(closeSteps([null, 1]), [null, 1]);
    assert.deepEqual(closeSteps([null, null]), [null, null]);
    assert.deepEqual(closeSteps([]), []);
  });
});
