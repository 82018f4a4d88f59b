/**
 * A long-running part of a process (a stream processor, the HTTP server, the scheduler). States:
 * `idle → starting → running → stopping → stopped`, or `failed` when it cannot go on. `stop()` is idempotent and
 * awaited: it stops taking new work, finishes what is in flight within `graceMs`, flushes and releases resources.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(options?: { readonly graceMs?: number }): Promise<void>;
  /** Settles when the component ends on its own (it failed); never for a normal stop. */
  readonly finished?: Promise<void>;
  /** Why the component failed, if it did. */
  readonly error?: unknown;
}

export const COMPONENT_STATES = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

/** A component made of plain start/stop functions (for small things: a lag monitor, a timer). */
export function component(name: string, start: () => Promise<void>, stop: () => Promise<void>): Component {
  let stopping: Promise<void> | undefined;
  return {
    name,
    start,
    stop: () => (stopping ??= stop()),
  };
}
