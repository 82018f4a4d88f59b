/**
 * Where one unit of work's time goes, phase by phase, for a debug log line: `lap('write')` records the milliseconds
 * since the previous lap (or the start) under that name.
 */
export interface PhaseTimer {
  readonly lap: (name: string) => void;
  /** Milliseconds per phase, in the order the laps were taken. */
  readonly phases: Readonly<Record<string, number>>;
}

export function phaseTimer(now: () => number = () => performance.now()): PhaseTimer {
  const phases: Record<string, number> = {};
  let mark = now();
  return {
    phases,
    lap(name) {
      const t = now();
      phases[name] = Math.round(t - mark);
      mark = t;
    },
  };
}
