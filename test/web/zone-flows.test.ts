import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netImport } from '../../web/src/zone-flows.ts';

const p = (ts: number, value: number | null) => ({ ts, value });

describe('net import of a neighbour', () => {
  it('is import − export where both directions are published, and a gap where one of them is missing', () => {
    const net = netImport({
      neighbour: 'SE_4',
      imports: [p(0, 100), p(1, 50), p(2, null)],
      exports: [p(0, 30), p(2, 20), p(3, 10)],
    });
    assert.deepEqual(net, [p(0, 70), p(1, null), p(2, null), p(3, null)]);
  });

  it('a direction the source does not publish at all counts as nothing (the other one alone)', () => {
    assert.deepEqual(netImport({ neighbour: 'GB', imports: [], exports: [p(0, 102), p(1, null)] }), [p(0, -102)]);
    assert.deepEqual(netImport({ neighbour: 'GB', imports: [p(5, 8)], exports: [] }), [p(5, 8)]);
  });
});
