/** Pure helpers of the map page: the colour scale of carbon intensity, net flows per border, the map's slot. */

export const SLOT_MS = 15 * 60 * 1000;

/** The colour scale's stops (gCO2eq/kWh → colour), low to high; above the last stop stays the last colour. */
export const SCALE_STOPS: readonly { readonly value: number; readonly color: string }[] = [
  { value: 0, color: '#1a9850' },
  { value: 150, color: '#91cf60' },
  { value: 300, color: '#fee08b' },
  { value: 450, color: '#fc8d59' },
  { value: 600, color: '#d73027' },
  { value: 800, color: '#67001f' },
];

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toHex([r, g, b]: readonly [number, number, number]): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** The fill of a tile with `value` gCO2eq/kWh (linear between the stops), and a readable text colour on it. */
export function intensityColor(value: number): { readonly fill: string; readonly text: string } {
  const stops = SCALE_STOPS;
  const first = stops[0] ?? { value: 0, color: '#000000' };
  let fill = stops[stops.length - 1]?.color ?? first.color;
  if (value <= first.value) fill = first.color;
  else {
    for (let i = 1; i < stops.length; i++) {
      const lo = stops[i - 1] ?? first;
      const hi = stops[i] ?? first;
      if (value <= hi.value) {
        const t = (value - lo.value) / (hi.value - lo.value);
        const a = rgb(lo.color);
        const b = rgb(hi.color);
        fill = toHex([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]);
        break;
      }
    }
  }
  const [r, g, b] = rgb(fill);
  // Relative luminance (sRGB approximation): dark text on light fills.
  const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  return { fill, text: luminance > 0.55 ? '#111827' : '#ffffff' };
}

/** A physical flow of one slot, `from` → `to`, in MW (as stored: zone → counterpart). */
export interface DirectedFlow {
  readonly from: string;
  readonly to: string;
  readonly mw: number;
}

/** The net flow over one border: from the net exporter to the net importer; `gross` are both directions as stored. */
export interface NetFlow {
  readonly from: string;
  readonly to: string;
  readonly mw: number;
  readonly gross: readonly DirectedFlow[];
}

/**
 * Net flows per border: the two directions of a border (A → B and B → A, each as published) netted, the arrow
 * pointing from the net exporter to the net importer. A negative stored value counts as a flow the other way. A
 * border whose net is exactly 0 keeps the direction of its first stored flow. Sorted by MW, largest first.
 */
export function netFlows(flows: readonly DirectedFlow[]): NetFlow[] {
  const borders = new Map<string, { a: string; b: string; net: number; gross: DirectedFlow[] }>();
  for (const f of flows) {
    if (f.from === f.to || !Number.isFinite(f.mw)) continue;
    const [a, b] = f.from < f.to ? [f.from, f.to] : [f.to, f.from];
    const key = `${a}|${b}`;
    const border = borders.get(key) ?? { a, b, net: 0, gross: [] };
    border.net += f.from === a ? f.mw : -f.mw;
    border.gross.push(f);
    borders.set(key, border);
  }
  return [...borders.values()]
    .map((x) => {
      const first = x.gross[0];
      const aExports = x.net > 0 || (x.net === 0 && first !== undefined && (first.from === x.a) === first.mw >= 0);
      return { from: aExports ? x.a : x.b, to: aExports ? x.b : x.a, mw: Math.abs(x.net), gross: x.gross };
    })
    .sort((p, q) => q.mw - p.mw || p.from.localeCompare(q.from));
}

/** The 15-minute slot that contains `ms`. */
export function slotOf(ms: number): number {
  return Math.floor(ms / SLOT_MS) * SLOT_MS;
}

/** The slot the data clock's `now` closes (`now` is the end of the newest complete slot). */
export function slotEndingAt(now: number): number {
  return slotOf(now - 1);
}

/** `?at=` of the address: an ISO 8601 instant (a bare `YYYY-MM-DDTHH:MM` is UTC); null when absent or invalid. */
export function parseAt(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** `2023-12-20T18:00Z` — the short UTC form used in addresses. */
export function atParam(ms: number): string {
  return new Date(ms).toISOString().replace(/:00\.000Z$/, 'Z');
}

/** The value for `<input type="datetime-local">` of an instant, in UTC. */
export function utcInputValue(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** Runs `work` over `items`, at most `limit` at a time, results in input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
