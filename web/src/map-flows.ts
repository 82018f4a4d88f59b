import { formatNumber } from './format.ts';
import type { NetFlow } from './map-data.ts';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string | number>> = {},
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/** Where a segment from the centre of a box (half sizes `hw`, `hh`) along (`dx`, `dy`) leaves it, as a fraction. */
function exitFraction(hw: number, hh: number, dx: number, dy: number): number {
  const fx = dx === 0 ? Infinity : hw / Math.abs(dx);
  const fy = dy === 0 ? Infinity : hh / Math.abs(dy);
  return Math.min(fx, fy, 0.45);
}

/**
 * The arrows of the map: one per border with a net flow, from the net exporter's tile to the net importer's, its
 * MW written on it (no hovering needed). Drawn in an SVG over the tiles, in the pixels of the container, and drawn
 * again when the container's size changes. The arrows are decoration for sighted users (`aria-hidden`): the page
 * lists the same flows as text.
 */
export class FlowLayer {
  readonly el: SVGSVGElement;
  readonly #container: HTMLElement;
  readonly #observer: ResizeObserver;
  #flows: readonly NetFlow[] = [];
  #tiles: ReadonlyMap<string, HTMLElement> = new Map();

  constructor(container: HTMLElement) {
    this.#container = container;
    this.el = svg('svg', { class: 'flow-layer', 'aria-hidden': 'true', focusable: 'false' });
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'flow-head',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'flow-head' }));
    defs.append(marker);
    this.el.append(defs);
    this.#observer = new ResizeObserver(() => {
      this.#draw();
    });
    this.#observer.observe(container);
  }

  /** Draws `flows` between the `tiles` (by zone code); a flow whose zones have no tile is left out. */
  show(flows: readonly NetFlow[], tiles: ReadonlyMap<string, HTMLElement>): void {
    this.#flows = flows;
    this.#tiles = tiles;
    this.#draw();
  }

  /** How many arrows are drawn. */
  get drawn(): number {
    return this.el.querySelectorAll('g.flow').length;
  }

  destroy(): void {
    this.#observer.disconnect();
  }

  #draw(): void {
    for (const old of this.el.querySelectorAll('g.flow')) old.remove();
    const box = this.#container.getBoundingClientRect();
    if (box.width === 0) return;
    this.el.setAttribute('viewBox', `0 0 ${box.width.toFixed(0)} ${box.height.toFixed(0)}`);
    this.el.setAttribute('width', box.width.toFixed(0));
    this.el.setAttribute('height', box.height.toFixed(0));
    for (const flow of this.#flows) {
      const a = this.#tiles.get(flow.from)?.getBoundingClientRect();
      const b = this.#tiles.get(flow.to)?.getBoundingClientRect();
      if (a === undefined || b === undefined) continue;
      const ax = a.left - box.left + a.width / 2;
      const ay = a.top - box.top + a.height / 2;
      const bx = b.left - box.left + b.width / 2;
      const by = b.top - box.top + b.height / 2;
      const dx = bx - ax;
      const dy = by - ay;
      const s0 = exitFraction(a.width / 2, a.height / 2, dx, dy) * 0.7;
      const s1 = exitFraction(b.width / 2, b.height / 2, dx, dy) * 0.7;
      const x1 = ax + dx * s0;
      const y1 = ay + dy * s0;
      const x2 = bx - dx * s1;
      const y2 = by - dy * s1;
      const mw = `${formatNumber(flow.mw)} MW`;
      const g = svg('g', { class: 'flow', 'data-flow': `${flow.from}>${flow.to}`, 'data-mw': flow.mw });
      const width = Math.min(7, 2 + Math.sqrt(flow.mw) / 12);
      // Tiles that are not neighbours on the grid: bow the arrow so that it does not run over the tiles between.
      const length = Math.hypot(x2 - x1, y2 - y1);
      const far = Math.abs(dx) > 1.5 * a.width || Math.abs(dy) > 1.5 * a.height;
      const bow = far ? 0.9 * Math.hypot(dx, dy) : 0;
      // The perpendicular that points up (or left for vertical arrows), whichever way the arrow goes.
      let px = length === 0 ? 0 : -(y2 - y1) / length;
      let py = length === 0 ? 0 : (x2 - x1) / length;
      if (py > 0 || (py === 0 && px > 0)) {
        px = -px;
        py = -py;
      }
      const cx = (x1 + x2) / 2 + px * bow;
      const cy = (y1 + y2) / 2 + py * bow;
      g.append(
        svg('path', {
          d: `M ${x1.toFixed(1)} ${y1.toFixed(1)} Q ${cx.toFixed(1)} ${cy.toFixed(1)} ${x2.toFixed(1)} ${y2.toFixed(1)}`,
          class: 'flow-line',
          fill: 'none',
          'stroke-width': width.toFixed(1),
          'marker-end': 'url(#flow-head)',
        }),
      );
      // The curve's midpoint.
      const mx = 0.25 * x1 + 0.5 * cx + 0.25 * x2;
      const my = 0.25 * y1 + 0.5 * cy + 0.25 * y2;
      const labelWidth = mw.length * 7 + 10;
      g.append(
        svg('rect', {
          x: mx - labelWidth / 2,
          y: my - 10,
          width: labelWidth,
          height: 20,
          rx: 4,
          class: 'flow-label-bg',
        }),
      );
      const text = svg('text', { x: mx, y: my + 4, 'text-anchor': 'middle', class: 'flow-label' });
      text.textContent = mw;
      g.append(text);
      this.el.append(g);
    }
  }
}
