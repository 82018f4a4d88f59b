import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalReading } from '../../src/contracts/index.ts';
import type { ReceivedReading } from '../../src/readings/index.ts';
import { decideValue, resolveValues } from '../../src/readings/index.ts';

const at = (position: number, value: string, recorded_at?: string): ReceivedReading => ({
  position: BigInt(position),
  reading: {
    v: 2,
    meter_id: 'm-1',
    kind: 'smart_meter',
    quantity: 'energy_import',
    ts: '2026-10-25T01:00:00Z',
    value,
    interval: 'PT15M',
    ...(recorded_at === undefined ? {} : { recorded_at }),
  } satisfies CanonicalReading,
});
const values = (r: { winner: ReceivedReading | undefined; revisions: ReceivedReading[] }): string[] => [
  r.winner?.reading.value ?? '-',
  ...r.revisions.map((x) => x.reading.value),
];

describe('which value wins for one (meter, quantity, interval)', () => {
  it('without recorded_at: the last received in log order; the replaced value is a revision', () => {
    assert.deepEqual(values(resolveValues([at(1, '0.5'), at(2, '0.7')])), ['0.7', '0.5']);
    // The same readings in the other log order: the other one wins.
    assert.deepEqual(values(resolveValues([at(1, '0.7'), at(2, '0.5')])), ['0.5', '0.7']);
  });
  it('with recorded_at: the latest recorded_at, whichever order they were received in', () => {
    const early = '2026-10-25T01:20:00Z';
    const late = '2026-10-26T08:00:00Z';
    assert.deepEqual(values(resolveValues([at(1, '0.5', early), at(2, '0.7', late)])), ['0.7', '0.5']);
    assert.deepEqual(values(resolveValues([at(1, '0.7', late), at(2, '0.5', early)])), ['0.7', '0.5']);
    const d = decideValue(at(1, '0.7', late), at(2, '0.5', early));
    assert.equal(d.outcome, 'kept');
  });
  it('equal recorded_at, or only one reading carrying it: the last received wins', () => {
    const t = '2026-10-25T01:20:00Z';
    assert.deepEqual(values(resolveValues([at(1, '0.5', t), at(2, '0.7', t)])), ['0.7', '0.5']);
    assert.deepEqual(values(resolveValues([at(1, '0.5', t), at(2, '0.7')])), ['0.7', '0.5']);
  });
  it('a duplicate is a no-op: no revision, the first kept', () => {
    const d = decideValue(at(1, '0.5'), at(7, '0.5'));
    assert.deepEqual(d, { outcome: 'duplicate', winner: at(1, '0.5') });
    assert.deepEqual(values(resolveValues([at(1, '0.5'), at(2, '0.5'), at(3, '0.5')])), ['0.5']);
    assert.equal(decideValue(undefined, at(1, '0.5')).outcome, 'first');
  });
});
