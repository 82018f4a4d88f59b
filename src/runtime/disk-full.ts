import type { ReadinessCheck } from '../api/index.ts';
import { GridstreamError, findError } from '../common/index.ts';
import type { Metrics } from '../observability/index.ts';

/** Which store a write went to. */
export type DiskFullSystem = 'log' | 'db';

const DISK_FULL_CODES: ReadonlySet<string> = new Set(['log.disk_full', 'db.disk_full']);

/** The disk-full error anywhere in a cause chain (`log.disk_full`, `db.disk_full`). */
export const diskFullError = (error: unknown): GridstreamError | undefined =>
  findError(error, (e): e is GridstreamError => e instanceof GridstreamError && DISK_FULL_CODES.has(String(e.code)));

/**
 * Watches the log and the database for writes refused because their disk is full: counts each refused call
 * (`gridstream_disk_full_errors_total{system}`) and holds readiness (`/readyz` 503, `checks.disk` names the code)
 * until `holdMs` have passed without another. Nothing else changes: the failed call still throws its retryable error,
 * so processors retry the same batch, the ingest gateway answers 503 (nothing acknowledged), and work resumes by
 * itself once there is space.
 */
export class DiskFullMonitor {
  readonly #metrics: Metrics;
  readonly #holdMs: number;
  readonly #now: () => number;
  readonly #last = new Map<DiskFullSystem, { at: number; code: string }>();

  constructor(metrics: Metrics, options: { readonly holdMs?: number; readonly now?: () => number } = {}) {
    this.#metrics = metrics;
    this.#holdMs = options.holdMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records `error` when it is a disk-full error of `system`. */
  seen(system: DiskFullSystem, error: unknown): void {
    const full = diskFullError(error);
    if (full === undefined) return;
    this.#metrics.diskFull(system);
    this.#last.set(system, { at: this.#now(), code: full.code });
  }

  /** `full (<code>)` per system that refused a write within the hold time. */
  current(): Partial<Record<DiskFullSystem, string>> {
    const out: Partial<Record<DiskFullSystem, string>> = {};
    for (const [system, last] of this.#last) {
      if (this.#now() - last.at < this.#holdMs) out[system] = `full (${last.code})`;
    }
    return out;
  }

  /**
   * `target` (the Log or the Db) with every method observed: a call that throws, or whose promise rejects, with a
   * disk-full error is recorded, then the error goes on unchanged.
   */
  observe<T extends object>(system: DiskFullSystem, target: T): T {
    const seen = (error: unknown): never => {
      this.seen(system, error);
      throw error;
    };
    return new Proxy(target, {
      get(t, key) {
        const value: unknown = Reflect.get(t, key, t);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          let result: unknown;
          try {
            result = Reflect.apply(value, t, args);
          } catch (error) {
            return seen(error);
          }
          return result instanceof Promise ? result.catch(seen) : result;
        };
      },
    });
  }

  /** Readiness that is also `false` while a disk refused writes within the hold time (`checks.disk`). */
  readiness(check: ReadinessCheck): ReadinessCheck {
    return async (options) => {
      const report = await check(options);
      const full = Object.entries(this.current()).map(([system, state]) => `${system} ${state}`);
      if (full.length === 0) return report;
      return { ...report, ready: false, checks: { ...report.checks, disk: full.join(', ') } };
    };
  }
}
