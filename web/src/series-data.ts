/** Shaping API series for uPlot: one shared time axis and stacked sums. */

export interface Point {
  readonly ts: number;
  readonly value: number | null;
}

/** Series aligned on the union of their timestamps: `xs` in epoch seconds (uPlot's unit), gaps as null. */
export interface Aligned {
  readonly xs: number[];
  readonly ys: (number | null)[][];
}

export function alignSeries(series: readonly (readonly Point[])[]): Aligned {
  const stamps = new Set<number>();
  for (const points of series) for (const p of points) stamps.add(p.ts);
  const ms = [...stamps].sort((a, b) => a - b);
  const index = new Map(ms.map((t, i) => [t, i]));
  const ys = series.map((points) => {
    const values = new Array<number | null>(ms.length).fill(null);
    for (const p of points) {
      const i = index.get(p.ts);
      if (i !== undefined) values[i] = p.value;
    }
    return values;
  });
  return { xs: ms.map((t) => t / 1000), ys };
}

/**
 * Cumulative sums for a stacked area chart, bottom series first. Negative values (pumped storage pumping) count
 * as 0; a slot where no visible series has a value stays a gap. `bands` are uPlot band pairs (1-based series
 * indexes, `[upper, lower]`) that confine each area to the space above the visible series under it.
 */
export function stackSeries(
  ys: readonly (readonly (number | null)[])[],
  hidden: ReadonlySet<number> = new Set(),
): { stacked: (number | null)[][]; bands: [number, number][] } {
  const length = ys[0]?.length ?? 0;
  const accum = new Array<number>(length).fill(0);
  const present = new Array<boolean>(length).fill(false);
  ys.forEach((values, s) => {
    if (hidden.has(s)) return;
    values.forEach((v, i) => {
      if (v !== null) present[i] = true;
    });
  });
  const stacked = ys.map((values, s) =>
    values.map((v, i) => {
      if (!present[i]) return null;
      if (hidden.has(s)) return v;
      accum[i] = (accum[i] ?? 0) + Math.max(0, v ?? 0);
      return accum[i] ?? null;
    }),
  );
  const visible = ys.map((_, s) => s).filter((s) => !hidden.has(s));
  const bands: [number, number][] = [];
  for (let k = 1; k < visible.length; k++) bands.push([(visible[k] ?? 0) + 1, (visible[k - 1] ?? 0) + 1]);
  return { stacked, bands };
}

/** Number of non-null values. */
export function countPoints(ys: readonly (readonly (number | null)[])[]): number {
  let n = 0;
  for (const values of ys) for (const v of values) if (v !== null) n++;
  return n;
}

/**
 * Values of a stepped line whose last value holds until the next x: the x after it gets that value too, so that its
 * step is drawn over its whole slot (uPlot ends a stepped line at the last value's x; the legend keeps reading the
 * original values). Gaps inside the line are left to uPlot (`alignGaps: 1`).
 */
export function closeSteps(values: readonly (number | null)[]): (number | null)[] {
  const closed = [...values];
  let last = closed.length - 1;
  while (last >= 0 && closed[last] === null) last--;
  if (last >= 0 && last + 1 < closed.length) closed[last + 1] = closed[last] ?? null;
  return closed;
}
