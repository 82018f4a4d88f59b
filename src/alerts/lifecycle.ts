import type { AlertTransition, Detector, Severity } from '../contracts/index.ts';

/**
 * One detector's verdict on one subject for one event-time window: active (the anomaly is there) or quiet.
 * Detectors emit both, so that an alert can be resolved when its signal has been quiet long enough.
 */
export interface Signal {
  readonly detector: Detector;
  /** What the verdict is about: a group, a meter, a series (`entsoe|load_actual|DE_LU|PT15M`). */
  readonly subject: string;
  readonly active: boolean;
  /** Event time, UTC ms: [from, to). */
  readonly from: number;
  readonly to: number;
  readonly severity: Severity;
  readonly zone: string | null;
  readonly group: string | null;
  readonly meter: string | null;
  readonly message: string;
  readonly values: Readonly<Record<string, number | string | null>>;
}

export const alertKey = (s: Pick<Signal, 'detector' | 'subject'>): string => `${s.detector}|${s.subject}`;

/**
 * A detector's hysteresis: an alert opens only once its signal has been active for `minActiveMs` of event time (a
 * single bad window does not page anyone unless this is 0), and it resolves only after the signal has been quiet
 * for `clearAfterMs`; a signal that returns before that is the same alert again (its `occurrences` counts up).
 */
export interface Timing {
  readonly minActiveMs: number;
  readonly clearAfterMs: number;
}

/** The run state of one key between evaluations (a row of `alert_signals`). */
export interface RunState {
  /** Start of the current active run; null when the key is quiet. */
  activeSince: number | null;
  /** End of the last active window of the run. */
  activeUntil: number | null;
  /** Start of the quiet stretch since the run was last active (null: active now or no run). */
  quietSince: number | null;
  /** End of the last window evaluated: older windows are not looked at again. */
  lastAt: number;
}

/** The unresolved alert of a key, as far as the lifecycle needs it. */
export interface OpenAlert {
  severity: Severity;
  firstSeen: number;
  lastSeen: number;
  occurrences: number;
  /** The signal of the last active window (message, evidence, zone…). */
  signal: Signal;
}

export interface Step {
  readonly transition: Exclude<AlertTransition, 'acknowledged'> | 'updated' | 'returned';
  readonly alert: OpenAlert;
}

const RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/**
 * Runs one key's signals (in event-time order) through its run state and unresolved alert. Returns the new state
 * (kept even when nothing is in play: its `lastAt` keeps older windows — a backfill, a replay — from being judged
 * again), the alert after the signals (null: none unresolved) and what
 * happened to it: `opened`, `escalated` (severity went up), `returned` (a flap within the hysteresis), `updated`
 * (last seen or evidence moved), `resolved` (quiet for `clearAfterMs`). Windows ending before `lastAt` are
 * skipped (event time only moves forward per key); the last window may be judged again (a restated value).
 */
export function advance(
  timing: Timing,
  state: RunState | null,
  alert: OpenAlert | null,
  signals: readonly Signal[],
): { state: RunState; alert: OpenAlert | null; steps: Step[] } {
  const s: RunState =
    state === null ? { activeSince: null, activeUntil: null, quietSince: null, lastAt: -Infinity } : { ...state };
  let a: OpenAlert | null = alert === null ? null : { ...alert };
  const steps: Step[] = [];
  for (const sig of [...signals].sort((x, y) => x.from - y.from || x.to - y.to)) {
    if (sig.to < s.lastAt) continue;
    s.lastAt = sig.to;
    if (sig.active) {
      const returned = s.quietSince !== null;
      // Windows without any verdict (a value missing, a group not judged) do not count towards the minimum
      // duration: a run that has not opened an alert starts again after such a gap.
      if (a === null && s.activeUntil !== null && sig.from > s.activeUntil) s.activeSince = null;
      if (s.activeSince === null) s.activeSince = sig.from;
      s.activeUntil = sig.to;
      s.quietSince = null;
      if (a === null) {
        if (s.activeUntil - s.activeSince >= timing.minActiveMs) {
          a = { severity: sig.severity, firstSeen: s.activeSince, lastSeen: sig.to, occurrences: 1, signal: sig };
          steps.push({ transition: 'opened', alert: { ...a } });
        }
      } else {
        const escalated = RANK[sig.severity] > RANK[a.severity];
        a = {
          severity: escalated ? sig.severity : a.severity,
          firstSeen: a.firstSeen,
          lastSeen: Math.max(a.lastSeen, sig.to),
          occurrences: a.occurrences + (returned ? 1 : 0),
          signal: sig,
        };
        steps.push({ transition: escalated ? 'escalated' : returned ? 'returned' : 'updated', alert: { ...a } });
      }
    } else if (s.activeSince !== null) {
      if (s.quietSince === null) s.quietSince = sig.from;
      if (sig.to - s.quietSince >= timing.clearAfterMs) {
        if (a !== null) steps.push({ transition: 'resolved', alert: { ...a } });
        a = null;
        s.activeSince = null;
        s.activeUntil = null;
        s.quietSince = null;
      }
    }
  }
  return { state: s, alert: a, steps };
}
