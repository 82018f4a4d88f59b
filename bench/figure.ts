/** One benchmark figure, printed as one JSON line. */
export interface Figure {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** What the figure is compared with, measured in the same run; `null` where nothing applies. */
  readonly baseline: string | null;
  readonly baseline_value: number | null;
  /** value ÷ baseline_value (for times where lower is better: baseline_value ÷ value, so > 1 is always better). */
  readonly ratio: number | null;
  readonly notes?: string;
  /** The run's parameters and further figures of the same measurement (percentiles, counts), where a bench has them. */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  /** Services the benchmark needs (`kafka`, `postgres`); it fails loudly when they are missing. */
  readonly needs?: readonly ('kafka' | 'postgres')[];
  run(emit: (figure: Figure) => void): Promise<void> | void;
}

export function figure(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number; lowerIsBetter?: boolean },
  notes?: string,
): Figure {
  const ratio =
    baseline === undefined || baseline.value === 0 || value === 0
      ? null
      : baseline.lowerIsBetter === true
        ? baseline.value / value
        : value / baseline.value;
  return {
    bench,
    metric,
    value: round(value),
    unit,
    baseline: baseline?.name ?? null,
    baseline_value: baseline === undefined ? null : round(baseline.value),
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    ...(notes === undefined ? {} : { notes }),
  };
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000;
}

/** Median wall time in milliseconds of `runs` calls of `fn` after `warmup` calls. */
export async function medianMs(fn: () => unknown, runs = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/**
 * Runs `a` and `b` alternately (a, b, a, b, …) and returns the median time of each, so that noise from the
 * machine (another process, thermal state) hits both sides of a ratio alike.
 */
export async function interleavedMedians(a: () => unknown, b: () => unknown, runs = 5): Promise<[number, number]> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    await a();
    ta.push(performance.now() - start);
    start = performance.now();
    await b();
    tb.push(performance.now() - start);
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return [median(ta), median(tb)];
}
