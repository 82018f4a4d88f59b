import { userInfo } from 'node:os';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Env } from '../config/index.ts';
import type { Infrastructure } from '../runtime/index.ts';

/** What a command gets from the entry point: the environment (read only there), streams and a stop signal. */
export interface CommandContext {
  readonly env: Env;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop gracefully when it fires. */
  readonly signal: AbortSignal;
  readonly cwd: string;
  /**
   * Set when the command runs inside a running instance (through its control socket): use its open log and
   * database instead of opening the data directory, which that instance holds.
   */
  readonly instance?: { readonly infra: Infrastructure };
  /** Every command of the program (set by `runCli`), for commands that run others (`start` serves them). */
  readonly commands?: readonly Command[];
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/** A `gridstream` sub-command. */
export interface Command {
  /** Words after `gridstream`, e.g. `entsoe parse`. */
  readonly name: string;
  readonly summary: string;
  /** One usage line without the program name, e.g. `entsoe parse <file> [--format csv|ndjson]`. */
  readonly usage: string;
  /** Longer help: options, behaviour, exit codes. */
  readonly details?: string;
  readonly options?: ParseArgsOptionsConfig;
  /** Allowed number of positional arguments. @default [0, 0] */
  readonly positionals?: readonly [min: number, max: number];
  /**
   * The command needs the database or the event log. While an embedded instance holds the data directory, it runs
   * inside that instance (through its control socket), with the same output.
   */
  readonly usesData?: boolean;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

/** Exit codes shared by all commands. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A mistake in how a command was called: exit 2 with the message and the usage line. */
export class UsageError extends Error {}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got "${v}")`);
}

export function listOption(args: ParsedArgs, name: string): string[] | undefined {
  const v = stringOption(args, name);
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

/** The reason the entry point aborts `CommandContext.signal` with: which signal asked the command to stop. */
export class StopSignal extends Error {
  readonly signalName: 'SIGINT' | 'SIGTERM';
  constructor(signalName: 'SIGINT' | 'SIGTERM') {
    super(`received ${signalName}`);
    this.name = 'StopSignal';
    this.signalName = signalName;
  }
}

/** Exit code of a command stopped by a signal: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
export function stopExitCode(reason: unknown): number {
  return reason instanceof StopSignal && reason.signalName === 'SIGTERM' ? 143 : 130;
}

/** How a stop request is named in messages (`SIGTERM`, or `a stop request` when not from a signal). */
export function stopName(reason: unknown): string {
  return reason instanceof StopSignal ? reason.signalName : 'a stop request';
}

/**
 * Lets a long loop (printing millions of rows, reading a big document) give the event loop a turn every `sliceMs`
 * of work — writes to a pipe are synchronous on Linux, so `await out.line()` alone never lets a signal in — and
 * stop once `signal` is aborted (throwing its reason).
 */
export class Checkpoint {
  readonly #signal: AbortSignal;
  readonly #sliceMs: number;
  #sliceStart = performance.now();

  constructor(signal: AbortSignal, sliceMs = 20) {
    this.#signal = signal;
    this.#sliceMs = sliceMs;
  }

  async pass(): Promise<void> {
    if (performance.now() - this.#sliceStart < this.#sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#signal.throwIfAborted();
    this.#sliceStart = performance.now();
  }
}

/**
 * Who reads, for the audit log of meter reads: the OS user running the command (the control socket of a running
 * instance only serves that user), as `cli:<user>`.
 */
export function cliPrincipal(ctx: { readonly env: Env }): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = undefined;
  }
  return `cli:${user ?? ctx.env['USER'] ?? ctx.env['LOGNAME'] ?? 'unknown'}`;
}
