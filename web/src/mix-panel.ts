import type { Mix, Zone } from './api-types.ts';
import { h, replace, uid } from './dom.ts';
import { formatDateTime, formatShare, formatValue } from './format.ts';
import type { Category } from './production-types.ts';
import { CATEGORY_LABELS, isCategory, productionType } from './production-types.ts';

/** The latest generation mix as a list of shares (`data-card="mix"`, `data-entries`). */
export class MixPanel {
  readonly el: HTMLElement;
  readonly #body: HTMLElement;
  readonly #subtitle: HTMLElement;

  constructor() {
    const titleId = uid('mix-title');
    this.#body = h('div', { class: 'card-body' }, [h('div', { class: 'placeholder', text: 'Loading…' })]);
    this.#subtitle = h('p', { class: 'card-subtitle' });
    this.el = h(
      'section',
      {
        class: 'card card-mix',
        attrs: { 'aria-labelledby': titleId },
        data: { card: 'mix', state: 'loading', entries: 0 },
      },
      [
        h('header', { class: 'card-header' }, [
          h('h2', { text: 'Latest generation mix', attrs: { id: titleId } }),
          this.#subtitle,
        ]),
        this.#body,
      ],
    );
  }

  setLoading(): void {
    if (this.el.dataset['state'] === 'ready') return;
    this.el.dataset['state'] = 'loading';
    replace(this.#body, [h('div', { class: 'placeholder', text: 'Loading…' })]);
  }

  /** Nothing to list; `absent` when the zone has no generation data at all (a smaller box). */
  setEmpty(message: string, absent = false): void {
    this.el.dataset['state'] = 'empty';
    this.el.dataset['entries'] = '0';
    this.#subtitle.textContent = '';
    replace(this.#body, [h('div', { class: absent ? 'empty empty-absent' : 'empty' }, [h('p', { text: message })])]);
  }

  setError(message: string): void {
    this.el.dataset['state'] = 'error';
    this.#subtitle.textContent = '';
    replace(this.#body, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: message })]);
  }

  setMix(zone: Zone, mix: Mix): void {
    this.el.dataset['state'] = 'ready';
    this.el.dataset['entries'] = String(mix.entries.length);
    this.el.dataset['slot'] = new Date(mix.slot).toISOString();
    this.#subtitle.textContent = `${formatDateTime(mix.slot, zone.timeZone)} · total ${formatValue(mix.total, mix.unit)}`;
    const byCategory = new Map<Category, number>();
    for (const e of mix.entries) {
      const category = isCategory(e.category) ? e.category : productionType(e.productionType).category;
      byCategory.set(category, (byCategory.get(category) ?? 0) + e.share);
    }
    const summary = h(
      'ul',
      { class: 'mix-summary', attrs: { 'aria-label': 'Shares by category' } },
      [...byCategory]
        .filter(([, share]) => share > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([category, share]) =>
          h('li', { class: `cat cat-${category}` }, [
            h('strong', { text: formatShare(share) }),
            ` ${CATEGORY_LABELS[category]}`,
          ]),
        ),
    );
    const rows = mix.entries.map((e) => {
      const type = productionType(e.productionType, e.name);
      return h('li', { class: 'mix-row' }, [
        h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true', style: `background:${type.color}` } }),
        h('span', { class: 'mix-name', text: type.name, attrs: { title: e.name } }),
        h('span', { class: 'mix-value', text: formatValue(e.value, mix.unit) }),
        h('span', { class: 'mix-share', text: formatShare(e.share) }),
        h('span', { class: 'mix-bar', attrs: { 'aria-hidden': 'true' } }, [
          h('span', { attrs: { style: `width:${(e.share * 100).toFixed(1)}%;background:${type.color}` } }),
        ]),
      ]);
    });
    const missing =
      mix.missing.length === 0
        ? null
        : h('p', {
            class: 'note',
            text: `No value at this slot for: ${mix.missing.map((c) => productionType(c).name).join(', ')}.`,
          });
    replace(this.#body, [summary, h('ol', { class: 'mix-list' }, rows), missing]);
  }
}
