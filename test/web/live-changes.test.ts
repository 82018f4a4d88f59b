import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SlotEvent, Zone } from '../../web/src/api-types.ts';
import type { ShownZone } from '../../web/src/live-changes.ts';
import { slotChanges } from '../../web/src/live-changes.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 4, 24, 0, 0);

function zone(code: string, metrics: string[]): Zone {
  return { code, name: code, country: null, timeZone: 'Europe/Berlin', firstSlot: T0 - 24 * H, lastSlot: T0, metrics };
}

function slot(zoneCode: string, metric: string, at: number, productionType: string | null = null): SlotEvent {
  return { zone: zoneCode, metric, productionType, qualifier: null, unit: 'MW', slot: at, value: 1, updatedAt: at };
}

const LU = zone('LU', ['generation_actual', 'load_actual', 'renewable_share']);
const BE = zone('BE', ['load_actual']);
const shown: ShownZone = { zones: [LU, BE], code: 'LU', anchor: T0, followsData: true };

describe('what live slot events change on the zone page', () => {
  it('widens the zones’ coverage; a new metric or an unknown zone makes the list stale', () => {
    const quiet = slotChanges(shown, [slot('LU', 'load_actual', T0 + H), slot('BE', 'load_actual', T0 - 48 * H)]);
    assert.equal(quiet.stale, false);
    assert.equal(quiet.zones.find((z) => z.code === 'LU')?.lastSlot, T0 + H);
    assert.equal(quiet.zones.find((z) => z.code === 'BE')?.firstSlot, T0 - 48 * H);

    const metric = slotChanges(shown, [slot('BE', 'price_day_ahead', T0)]);
    assert.equal(metric.stale, true);
    assert.deepEqual(metric.zones.find((z) => z.code === 'BE')?.metrics, ['load_actual', 'price_day_ahead']);

    assert.equal(slotChanges(shown, [slot('FR', 'load_actual', T0)]).stale, true);
    assert.deepEqual(shown.zones, [LU, BE], 'the given list is left as it was');
  });

  it('reloads the cards of the zone on screen whose metrics changed (and the mix with generation)', () => {
    const changes = slotChanges(shown, [
      slot('LU', 'generation_actual', T0, 'B16'),
      slot('LU', 'renewable_share', T0),
      slot('BE', 'load_actual', T0),
    ]);
    assert.deepEqual([...changes.changed].sort(), ['generation', 'mix']);
    assert.equal(changes.count, 2, 'BE’s event is not counted on LU’s page');
    assert.deepEqual(slotChanges(shown, [slot('BE', 'load_actual', T0)]).changed, new Set());
    assert.equal(slotChanges(shown, [slot('BE', 'load_actual', T0)]).newest, undefined);
  });

  it('shows the newest charted value rather than a derived share', () => {
    const load = slot('LU', 'load_actual', T0);
    const share = slot('LU', 'renewable_share', T0 + H);
    assert.equal(slotChanges(shown, [load, share]).newest, load);
    const later = slot('LU', 'generation_actual', T0 + H, 'B16');
    assert.equal(slotChanges(shown, [load, share, later]).newest, later);
  });

  it('moves a preset range with a newer generation slot only, when the zone has generation', () => {
    assert.equal(slotChanges(shown, [slot('LU', 'load_actual', T0 + H)]).anchor, null);
    assert.equal(slotChanges(shown, [slot('LU', 'generation_actual', T0, 'B16')]).anchor, null, 'not newer');
    assert.equal(
      slotChanges(shown, [
        slot('LU', 'generation_actual', T0 + 2 * H, 'B16'),
        slot('LU', 'generation_actual', T0 + H, 'B19'),
      ]).anchor,
      T0 + 2 * H,
    );
    assert.equal(
      slotChanges({ ...shown, followsData: false }, [slot('LU', 'generation_actual', T0 + H, 'B16')]).anchor,
      null,
      'custom dates do not move',
    );
  });

  it('moves it with any charted metric when the zone has no generation', () => {
    const onBe: ShownZone = { ...shown, code: 'BE', anchor: null };
    assert.equal(slotChanges(onBe, [slot('BE', 'load_actual', T0 + H)]).anchor, T0 + H);
    assert.equal(slotChanges(onBe, [slot('BE', 'renewable_share', T0 + 2 * H)]).anchor, null, 'not charted');
  });
});
