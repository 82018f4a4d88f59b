import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { DeadLetterSchema, GridSeriesChunkSchema } from '../../src/contracts/index.ts';
import type { ObservationReject } from '../../src/storage/index.ts';
import { rejectionsByChunk, storageDeadLetter } from '../../src/storage/index.ts';
import { prepareObservationRows } from '../../src/storage/observation-rows.ts';
import { chunk } from './helpers.ts';

const one = (t: string, v: number): GridSeriesChunk => ({ ...chunk({ start: t, points: 1 }), points: [{ t, v }] });

describe('observation rows and dead letters (no database)', () => {
  it('validates before the database: slots that do not exist, non-finite values, unknown flags and units', () => {
    const good = chunk({ start: '2024-02-29T23:45:00Z', points: 1 });
    const { rows, rejected } = prepareObservationRows([
      good,
      one('2023-02-29T00:00:00Z', 1),
      one('2024-04-31T00:00:00Z', 1),
      one('2024-01-01T24:00:00Z', 1),
      one('2024-01-01T10:10:00Z', 1),
      one('2024-01-01T10:15:00Z', Number.POSITIVE_INFINITY),
      { ...one('2024-01-01T10:15:00Z', 1), points: [{ t: '2024-01-01T10:15:00Z', v: 1, f: ['bogus' as 'filled'] }] },
      { ...good, zone: 'fi' },
    ]);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      rejected.map((r) => `${r.chunk}:${r.reason}`),
      [
        '1:store.invalid_slot',
        '2:store.invalid_slot',
        '3:store.invalid_slot',
        '4:store.invalid_slot',
        '5:store.invalid_value',
        '6:store.invalid_value',
        '7:store.invalid_key',
      ],
    );
  });

  it('builds a valid dlq-storage envelope whose base64 payload is the refused point as a chunk', () => {
    const reject: ObservationReject = {
      chunk: 0,
      point: 3,
      reason: 'store.constraint_violation',
      message: 'value out of bounds',
      sqlState: '23514',
      payload: one('2025-10-21T00:45:00Z', 999),
    };
    const source = { topic: 'grid.observations', partition: 2, offset: 41, key: 'FI' };
    const letter = DeadLetterSchema.parse(storageDeadLetter(reject, source, new Date('2025-10-22T00:00:00Z')));
    assert.equal(letter.payloadEncoding, 'base64');
    const payload = GridSeriesChunkSchema.parse(JSON.parse(Buffer.from(letter.payload, 'base64').toString('utf8')));
    assert.deepEqual(payload.points, [{ t: '2025-10-21T00:45:00Z', v: 999 }]);
    assert.deepEqual(letter.position, { point: 3, slot: '2025-10-21T00:45:00Z', sqlState: '23514' });
    assert.equal(storageDeadLetter(reject, source).id, letter.id, 'a redelivery gives the same id');
  });

  it('summarises refused points per chunk for record-level rejects', () => {
    const base = {
      reason: 'store.constraint_violation',
      message: 'no',
      payload: one('2025-10-21T00:00:00Z', 1),
    } as const;
    const summary = rejectionsByChunk([
      { ...base, chunk: 2, point: 5 },
      { ...base, chunk: 0, point: null, reason: 'store.unknown_unit', message: 'unknown unit "x"' },
      { ...base, chunk: 2, point: 9 },
    ]);
    assert.deepEqual(
      summary.map((s) => [s.chunk, s.reason, s.position['points'], s.position['count']]),
      [
        [0, 'store.unknown_unit', 'all', 1],
        [2, 'store.constraint_violation', '5,9', 2],
      ],
    );
  });
});
