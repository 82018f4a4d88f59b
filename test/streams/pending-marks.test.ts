import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingMarks } from '../../src/streams/index.ts';

describe('PendingMarks', () => {
  it('knows a committed mark only while the watermark is below the window end, and for the same end', () => {
    const marks = new PendingMarks();
    assert.equal(marks.has('a', 100, undefined), false);
    marks.add([{ id: 'a', endMs: 100 }], undefined);
    assert.equal(marks.has('a', 100, undefined), true);
    assert.equal(marks.has('a', 100, 99), true);
    assert.equal(marks.has('a', 100, 100), false, 'the watermark reached the end: it may be emitted');
    assert.equal(marks.has('a', 200, 50), false, 'another end: another window');
    marks.clear();
    assert.equal(marks.has('a', 100, undefined), false);
  });

  it('past its size, drops the windows the watermark passed, then everything', () => {
    const marks = new PendingMarks(2);
    marks.add(
      [
        { id: 'a', endMs: 100 },
        { id: 'b', endMs: 300 },
      ],
      undefined,
    );
    marks.add([{ id: 'c', endMs: 400 }], 200);
    assert.equal(marks.size, 2);
    assert.equal(marks.has('b', 300, 200), true);
    assert.equal(marks.has('c', 400, 200), true);
    marks.add([{ id: 'd', endMs: 500 }], 200);
    assert.equal(marks.size, 0, 'nothing passed: all forgotten (they are marked again)');
  });
});
