import type { BackfillProgress, BackfillSummary } from './backfill-runner.ts';

/** A stream the display writes to; `isTTY` and `columns` come from `process.stderr` on a terminal. */
export interface DisplayStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface DisplayOptions {
  /** Points the pipeline has stored, when known (embedded mode); shown next to points fetched. */
  readonly pointsStored?: () => number | undefined;
  /** Non-TTY: shortest time between two progress lines. @default 10 000 ms */
  readonly lineEveryMs?: number;
  /** TTY: shortest time between two redraws. @default 100 ms */
  readonly redrawEveryMs?: number;
  readonly now?: () => number;
}

/** `95s` → `1m35s`, `3725s` → `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** 1234567 → `1.23M`. */
export function formatCount(n: number): string {
  if (n < 10_000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/**
 * Shows backfill progress: on a terminal a single redrawn bar (requests done/total, points, rate, ETA); otherwise
 * plain lines at most every `lineEveryMs` (and at 25 %, 50 %, 75 %), which read well in CI logs and files.
 */
export class BackfillDisplay {
  readonly #stream: DisplayStream;
  readonly #options: DisplayOptions;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #quarter = 0;
  #drawn = false;

  constructor(stream: DisplayStream, options: DisplayOptions = {}) {
    this.#stream = stream;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get isTTY(): boolean {
    return this.#stream.isTTY === true;
  }

  update(p: BackfillProgress): void {
    const now = this.#now();
    const finished = p.done + p.failed;
    const fraction = p.total === 0 ? 1 : finished / p.total;
    if (this.isTTY) {
      if (now - this.#last < (this.#options.redrawEveryMs ?? 100) && finished < p.total) return;
      this.#last = now;
      const text = this.#line(p, fraction);
      const width = Math.max(20, (this.#stream.columns ?? 100) - 1);
      const barWidth = Math.max(10, Math.min(30, width - text.length - 3));
      const filled = Math.round(barWidth * fraction);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text}`.slice(0, width);
      this.#stream.write(`\r\x1b[2K${line}`);
      this.#drawn = true;
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (now - this.#last < (this.#options.lineEveryMs ?? 10_000) && quarter === this.#quarter) return;
    this.#last = now;
    this.#quarter = quarter;
    this.#stream.write(`backfill: ${this.#line(p, fraction)}\n`);
  }

  /** Ends the bar (a newline on a terminal). */
  finish(): void {
    if (this.isTTY && this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }

  #line(p: BackfillProgress, fraction: number): string {
    const stored = this.#options.pointsStored?.();
    const points =
      stored === undefined
        ? `${formatCount(p.points)} points`
        : `${formatCount(p.points)} points fetched, ${formatCount(stored)} stored`;
    const failed = p.failed > 0 ? `, ${p.failed} failed` : '';
    const eta = p.etaMs === null ? 'ETA --' : `ETA ${formatDuration(p.etaMs)}`;
    return `${p.done}/${p.total} requests (${Math.floor(fraction * 100)}%)${failed} | ${points} | ${p.chunksPerMinute.toFixed(0)} req/min | ${eta}`;
  }
}

/** The closing summary lines of a backfill. */
export function summaryLines(s: BackfillSummary): string[] {
  const lines = [
    `backfill ${s.backfillId}: ${s.done}/${s.total} requests done (${s.skipped} already done before), ${s.failed} failed`,
    `${s.documents} documents, ${s.points} points fetched in ${formatDuration(s.elapsedMs)} (${s.exchanges} HTTP requests, ${s.chunksPerMinute.toFixed(1)} requests/min)`,
  ];
  if (s.failed > 0)
    lines.push(`${s.deadLetters} failed request(s) are in dlq-ingestion: gridstream dlq replay dlq-ingestion`);
  if (s.interrupted)
    lines.push('interrupted: run the same command again to resume (finished requests are not fetched again)');
  return lines;
}
