import type { ApiClient } from './api-client.ts';
import type { Series, Zone } from './api-types.ts';
import { decodeSeriesList } from './api-types.ts';
import { h, table } from './dom.ts';
import { formatDateTime, formatValue } from './format.ts';
import { mapLimited } from './map-data.ts';
import type { Point } from './series-data.ts';
import { alignSeries } from './series-data.ts';
import type { ChartLine, ChartSpec } from './time-chart.ts';
import type { TimeRange } from './time-range.ts';
import { rangeParams } from './time-range.ts';

/** The physical flows between a zone and one neighbour: into the zone and out of it, as stored. */
export interface NeighbourFlows {
  readonly neighbour: string;
  readonly imports: readonly Point[];
  readonly exports: readonly Point[];
}

/**
 * The zone's physical flows per neighbour in the range: its exports are its own `flow_physical` series (zone →
 * counterpart), its imports the series of the other zones with flows whose counterpart is this zone.
 */
export async function fetchNeighbourFlows(
  client: ApiClient,
  zone: Zone,
  zones: readonly Zone[],
  range: TimeRange,
  signal: AbortSignal,
): Promise<NeighbourFlows[]> {
  const params = { metric: 'flow_physical', ...rangeParams(range) };
  const own: Promise<Series[]> = zone.metrics.includes('flow_physical')
    ? client.get('/api/v1/series', { zone: zone.code, ...params }, decodeSeriesList, signal)
    : Promise.resolve([]);
  const others = zones.filter(
    (z) =>
      z.code !== zone.code && z.metrics.includes('flow_physical') && z.firstSlot < range.to && z.lastSlot >= range.from,
  );
  const incoming = mapLimited(others, 6, async (z) => {
    const series = await client.get(
      '/api/v1/series',
      { zone: z.code, counterpart_zone: zone.code, ...params },
      decodeSeriesList,
      signal,
    );
    return series.map((s) => ({ from: z.code, points: s.points }));
  });
  const [exports, imports] = await Promise.all([own, incoming]);
  const byNeighbour = new Map<string, { imports: Point[]; exports: Point[] }>();
  const entry = (code: string): { imports: Point[]; exports: Point[] } => {
    let e = byNeighbour.get(code);
    if (e === undefined) {
      e = { imports: [], exports: [] };
      byNeighbour.set(code, e);
    }
    return e;
  };
  for (const s of exports) if (s.counterpartZone !== null) entry(s.counterpartZone).exports.push(...s.points);
  for (const s of imports.flat()) entry(s.from).imports.push(...s.points);
  return [...byNeighbour]
    .map(([neighbour, e]) => ({ neighbour, imports: e.imports, exports: e.exports }))
    .filter((n) => n.imports.some((p) => p.value !== null) || n.exports.some((p) => p.value !== null))
    .sort((a, b) => a.neighbour.localeCompare(b.neighbour));
}

/**
 * Net import per timestamp (import − export). A direction the source does not publish at all counts as nothing
 * (the table says "not published"); where both directions are published, a timestamp missing one of them is a gap,
 * not a net flow computed with 0 for the missing side.
 */
export function netImport(flows: NeighbourFlows): Point[] {
  const known = (points: readonly Point[]) => {
    const m = new Map<number, number>();
    for (const p of points) if (p.value !== null) m.set(p.ts, p.value);
    return m;
  };
  const imports = known(flows.imports);
  const exports = known(flows.exports);
  const both = imports.size > 0 && exports.size > 0;
  const times = [...new Set([...imports.keys(), ...exports.keys()])].sort((a, b) => a - b);
  return times.map((ts) => {
    const i = imports.get(ts);
    const e = exports.get(ts);
    if (both && (i === undefined || e === undefined)) return { ts, value: null };
    return { ts, value: (i ?? 0) - (e ?? 0) };
  });
}

const COLORS = ['#1d4ed8', '#b45309', '#0f766e', '#be185d', '#6d28d9', '#4d7c0f', '#9a3412', '#0e7490'];

/** One line per neighbour: the net import (positive: into the zone, negative: out of it). */
export function flowsSpec(zone: Zone, flows: readonly NeighbourFlows[]): ChartSpec | null {
  if (flows.length === 0) return null;
  const aligned = alignSeries(flows.map(netImport));
  const lines: ChartLine[] = flows.map((f, i) => ({
    label: `${f.neighbour} (net import)`,
    color: COLORS[i % COLORS.length] ?? '#1d4ed8',
    values: aligned.ys[i] ?? [],
  }));
  return {
    description: `Net physical imports of ${zone.name} per neighbour (${flows.map((f) => f.neighbour).join(', ')}), in MW; positive values flow into ${zone.code}, negative values out of it.`,
    unit: 'MW',
    timeZone: zone.timeZone,
    xs: aligned.xs,
    lines,
  };
}

function mean(points: readonly Point[]): number | null {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The per-neighbour numbers, written out (no hovering): mean import, mean export, mean net, the latest net. */
export function flowsTable(zone: Zone, flows: readonly NeighbourFlows[]): HTMLElement {
  const rows = flows.map((f) => {
    const net = netImport(f);
    const last = [...net].reverse().find((p) => p.value !== null);
    const mw = (v: number | null): string => formatValue(v, 'MW');
    const netMean = mean(net);
    return [
      h('span', { text: f.neighbour, data: { neighbour: f.neighbour } }),
      f.imports.length === 0 ? 'not published' : mw(mean(f.imports)),
      f.exports.length === 0 ? 'not published' : mw(mean(f.exports)),
      netMean === null ? '–' : `${mw(Math.abs(netMean))} ${netMean >= 0 ? 'in' : 'out'}`,
      last === undefined || last.value === null
        ? '–'
        : `${mw(Math.abs(last.value))} ${last.value >= 0 ? 'in' : 'out'} (${formatDateTime(last.ts, zone.timeZone)})`,
    ];
  });
  const el = table(
    `Physical flows of ${zone.code} by neighbour`,
    ['Neighbour', `Imports into ${zone.code} (mean)`, `Exports from ${zone.code} (mean)`, 'Net (mean)', 'Net (latest)'],
    rows,
  );
  el.classList.add('flow-table');
  return el;
}
