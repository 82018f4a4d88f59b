import type { Zone } from './api-types.ts';
import { h, replace, uid } from './dom.ts';

const LAST_ZONE_KEY = 'gridstream.zone';

function readLastZone(): string | null {
  try {
    return window.localStorage.getItem(LAST_ZONE_KEY);
  } catch {
    return null;
  }
}

/** The zone to open when the address names none: the last one seen here, else one with generation, else the first. */
export function defaultZone(zones: readonly Zone[]): string | null {
  const last = readLastZone();
  if (last !== null && zones.some((z) => z.code === last)) return last;
  return firstZone(zones);
}

/** A zone with generation (the page's main chart), else the first; null for an empty list. */
export function firstZone(zones: readonly Zone[]): string | null {
  return zones.find((z) => z.metrics.includes('generation_actual'))?.code ?? zones[0]?.code ?? null;
}

/**
 * The zone control of the zone page: a labelled select of the zones the key may read (`data-zones`: how many), plus
 * the chosen zone when it has no data yet. Remembers the last zone chosen in this browser.
 */
export class ZonePicker {
  readonly el: HTMLElement;
  readonly #select: HTMLSelectElement;

  constructor(onChoice: (code: string) => void) {
    const id = uid('zone');
    this.#select = h('select', {
      attrs: { id, name: 'zone' },
      on: {
        change: () => {
          onChoice(this.#select.value);
        },
      },
    });
    this.el = h('div', { class: 'field' }, [h('label', { attrs: { for: id }, text: 'Zone' }), this.#select]);
  }

  /** Lists `zones`, `code` selected (and remembered). */
  show(zones: readonly Zone[], code: string | null): void {
    const options = zones.map((z) => h('option', { attrs: { value: z.code }, text: `${z.code} — ${z.name}` }));
    if (code !== null && !zones.some((z) => z.code === code)) {
      options.unshift(h('option', { attrs: { value: code }, text: `${code} (no data yet)` }));
    }
    replace(this.#select, options);
    this.#select.dataset['zones'] = String(zones.length);
    if (code !== null) this.#select.value = code;
  }

  /** Opens `code` next time the address names no zone. */
  remember(code: string): void {
    try {
      window.localStorage.setItem(LAST_ZONE_KEY, code);
    } catch {
      // storage disabled
    }
  }
}
