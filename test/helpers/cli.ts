import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as wait } from 'node:timers/promises';
import type { Command } from '../../src/cli/index.ts';
import { COMMANDS, runCli } from '../../src/cli/index.ts';
import { controlSocketPath } from '../../src/runtime/index.ts';
import { ROOT } from './fixtures.ts';
import { tempDir } from './services.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A writable that keeps what is written (bytes, so that binary output survives). */
export function sink(): { stream: Writable; bytes: () => Buffer; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(parts), text: () => Buffer.concat(parts).toString('utf8') };
}

/**
 * Runs `gridstream <argv>` in this process (the same `runCli` the binary runs), with an injected environment and
 * captured output: no Node start-up per call. `env` replaces the environment entirely, as a fresh shell would.
 */
export async function gridstream(
  argv: readonly string[],
  options: {
    readonly env?: Readonly<Record<string, string | undefined>>;
    readonly cwd?: string;
    readonly signal?: AbortSignal;
    readonly commands?: readonly Command[];
  } = {},
): Promise<CliResult> {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, options.commands ?? COMMANDS, {
    env: { GRIDSTREAM_LOG_LEVEL: 'warn', ...options.env },
    stdout: out.stream,
    stderr: err.stream,
    signal: options.signal ?? new AbortController().signal,
    cwd: options.cwd ?? ROOT,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Runs the real `bin/gridstream.js` in a child process (the smoke tests: Node version check, entry point, exit). */
export function spawnGridstream(
  argv: readonly string[],
  options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'gridstream.js'), ...argv], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** A real `bin/gridstream.js` left running: its process, its exit code when it ends, the tail of its stderr. */
export interface LaunchedGridstream {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/**
 * Starts `bin/gridstream.js` with `args` in a child process and leaves it running (logs at `warn` unless `env` says
 * otherwise; stdout is drained, the last 20 000 characters of stderr kept for assertion messages).
 */
export function launchGridstream(args: readonly string[], env: Readonly<Record<string, string>>): LaunchedGridstream {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'gridstream.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', GRIDSTREAM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  return { child, exited, stderr: () => err };
}

/** An embedded `gridstream start` running in this process, for commands that go through its control socket. */
export interface RunningInstance {
  /** The environment it runs with (pass it to commands meant for it). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops it (idempotent) and gives its result. */
  stop(): Promise<CliResult>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

/** Starts `gridstream start` on a fresh data directory and waits until its control socket answers. */
export async function startInstance(): Promise<RunningInstance> {
  const dir = await tempDir();
  const env = {
    GRIDSTREAM_DATA_DIR: join(dir.path, 'data'),
    GRIDSTREAM_PORT: '0',
    GRIDSTREAM_INGEST_PORT: '0',
    GRIDSTREAM_LOG_LEVEL: 'error',
    GRIDSTREAM_REPLAY_INTERVAL_MS: '60000',
    GRIDSTREAM_ADMIN_KEY: 'gs_test_admin_key_Qm7Xv3Lp9Kz2Wr6Tn4Hy8',
  };
  const stopper = new AbortController();
  const instance = gridstream(['start'], { env, signal: stopper.signal });
  const socket = controlSocketPath(env.GRIDSTREAM_DATA_DIR);
  let ended: CliResult | undefined;
  void instance.then((r) => (ended = r));
  for (let i = 0; i < 600 && !(await socketReachable(socket)); i++) {
    if (ended !== undefined) throw new Error(`gridstream start ended (${ended.code}): ${ended.stderr}`);
    await wait(100);
  }
  const stop = (): Promise<CliResult> => {
    stopper.abort();
    return instance;
  };
  return {
    env,
    stop,
    close: async () => {
      await stop();
      await dir.remove();
    },
  };
}

/** True when something listens on the Unix socket `path`. */
export function socketReachable(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
