import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RefreshStep } from '../../web/src/refresh-schedule.ts';
import { RefreshSchedule } from '../../web/src/refresh-schedule.ts';

const CARDS = ['generation', 'carbon', 'load', 'price', 'mix'] as const;
type Card = (typeof CARDS)[number];
const IDLE: RefreshStep<Card> = { refresh: null, wakeAt: null };

function schedule(): RefreshSchedule<Card> {
  return new RefreshSchedule<Card>(CARDS, { debounceMs: 1_000, maxWaitMs: 4_000 });
}

describe('the zone page refresh schedule', () => {
  it('has nothing to do without changes', () => {
    assert.deepEqual(schedule().poll(0), IDLE);
  });

  it('reloads a changed card one debounce after the change, then forgets it', () => {
    const s = schedule();
    s.changed(10_000, ['load']);
    assert.deepEqual(s.poll(10_000), { refresh: null, wakeAt: 11_000 });
    assert.deepEqual(s.poll(10_999), { refresh: null, wakeAt: 11_000 });
    assert.deepEqual(s.poll(11_000), {
      refresh: { cards: ['load'], anchor: null, everything: false },
      wakeAt: null,
    });
    assert.equal(s.refreshedAt('load'), 11_000, 'the reload counts as the card’s last refresh');
    assert.deepEqual(s.poll(20_000), IDLE);
  });

  it('waits for the end of a burst, but no longer than the maximum wait after its first change', () => {
    const s = schedule();
    s.changed(0, ['generation']);
    s.changed(500, ['carbon']);
    assert.deepEqual(s.poll(500), { refresh: null, wakeAt: 1_500 }, 'a change in the burst postpones it');
    for (const at of [1_200, 1_900, 2_600, 3_300]) s.changed(at, ['carbon']);
    assert.deepEqual(s.poll(3_300), { refresh: null, wakeAt: 4_000 }, 'capped at first change + 4 s, not 4.3 s');
    assert.deepEqual(s.poll(4_000).refresh, { cards: ['generation', 'carbon'], anchor: null, everything: false });
  });

  it('lists each card once, in the order it was given the cards', () => {
    const s = schedule();
    s.changed(0, ['mix', 'price', 'generation', 'price']);
    assert.deepEqual(s.poll(1_000).refresh?.cards, ['generation', 'price', 'mix']);
  });

  it('drops a change that a load started after it already shows', () => {
    const s = schedule();
    s.changed(0, ['load', 'price']);
    s.refreshed(300, ['load']);
    assert.equal(s.refreshedAt('load'), 300);
    assert.equal(s.refreshedAt('price'), undefined);
    assert.deepEqual(s.poll(1_000).refresh?.cards, ['price'], 'price was not part of that load');

    s.changed(2_000, ['carbon']);
    s.refreshed(2_500);
    assert.deepEqual(s.poll(10_000), IDLE, 'a full load shows every change before it');
  });

  it('keeps a change that arrived after the card’s last load', () => {
    const s = schedule();
    s.refreshed(1_000);
    s.changed(1_200, ['generation']);
    assert.deepEqual(s.poll(2_200).refresh?.cards, ['generation']);
  });

  it('keeps the newest anchor, and a load does not apply it (the range moves only on the reload it asks for)', () => {
    const s = schedule();
    s.changed(0, ['generation', 'mix'], 5_000);
    s.changed(100, ['generation'], 4_000);
    s.refreshed(200);
    assert.deepEqual(s.poll(1_100), {
      refresh: { cards: [], anchor: 5_000, everything: false },
      wakeAt: null,
    });
  });

  it('reloads everything after a reconnection, unless a full load started since', () => {
    const s = schedule();
    s.resumed(0);
    assert.deepEqual(s.poll(1_000).refresh, { cards: [...CARDS], anchor: null, everything: true });

    s.resumed(2_000);
    s.refreshed(2_100, ['load']);
    assert.equal(s.poll(3_000).refresh?.everything, true, 'a partial load is not enough');

    s.resumed(4_000);
    s.refreshed(4_100);
    assert.deepEqual(s.poll(6_000), IDLE);
  });

  it('reloads nothing while the tab is hidden, and catches up at once when it is shown', () => {
    const s = schedule();
    s.changed(0, ['price']);
    s.setVisible(false);
    assert.deepEqual(s.poll(500), IDLE, 'no timer to arm while hidden');
    s.changed(60_000, ['load']);
    assert.deepEqual(s.poll(120_000), IDLE);
    s.setVisible(true);
    assert.deepEqual(s.poll(120_000).refresh?.cards, ['load', 'price'], 'overdue: reloaded now');
  });

  it('forgets pending changes on clear (another zone)', () => {
    const s = schedule();
    s.changed(0, ['load'], 9_000);
    s.resumed(0);
    s.clear();
    assert.deepEqual(s.poll(10_000), IDLE);
  });

  it('shows every change exactly once, no sooner than the debounce and no later than the maximum wait', () => {
    const debounceMs = 1_000;
    const maxWaitMs = 4_000;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.constantFrom(...CARDS)), { maxLength: 40 }),
        (gaps) => {
          // A driver like the page's: one timer, armed at wakeAt, fired before the next change when it is due.
          const s = new RefreshSchedule<Card>(CARDS, { debounceMs, maxWaitMs });
          const pending: { at: number; card: Card }[] = [];
          let now = 0;
          const timer: { wakeAt: number | null } = { wakeAt: null };
          const fire = (at: number): void => {
            const step = s.poll(at);
            timer.wakeAt = step.wakeAt;
            if (step.refresh === null) return;
            assert.ok(pending.length > 0, 'a reload without a change');
            const first = Math.min(...pending.map((p) => p.at));
            const last = Math.max(...pending.map((p) => p.at));
            assert.ok(at - first <= maxWaitMs, `waited ${at - first} ms after the first change`);
            assert.ok(at - last >= debounceMs || at - first === maxWaitMs, 'reloaded inside a burst');
            assert.deepEqual(
              [...step.refresh.cards],
              CARDS.filter((c) => pending.some((p) => p.card === c)),
            );
            pending.length = 0;
          };
          for (const [gap, card] of gaps) {
            now += gap;
            while (timer.wakeAt !== null && timer.wakeAt <= now) fire(timer.wakeAt);
            s.changed(now, [card]);
            pending.push({ at: now, card });
            fire(now);
          }
          while (timer.wakeAt !== null) fire(timer.wakeAt);
          assert.deepEqual(pending, [], 'a change was never shown');
        },
      ),
    );
  });
});
