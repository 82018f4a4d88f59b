import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from '../../src/cli/index.ts';
import { COMMANDS, runCli } from '../../src/cli/index.ts';
import { ROOT } from './fixtures.ts';

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
