import { chmod, mkdir, unlink } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import type { Component } from '../common/index.ts';
import { Lifecycle, errorMessage, hasErrno, problemLogger, settlesWithin } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';

/**
 * The control socket of a running embedded instance: `gridstream keys …`, `dlq …`, `export`, `migrate`, `backfill`
 * run inside the instance that holds the data directory (PGlite and the embedded log admit one process), through a
 * Unix socket in `<dataDir>/run/` that only the owner can open (the directory is 0700, the socket 0600).
 *
 * Protocol, one connection per command: the client sends one JSON line {@link ControlRequest}; the server answers
 * with JSON lines `{"t":"out"|"err","b64":…}` (the command's stdout and stderr, base64 so that binary output passes)
 * and a last `{"t":"exit","code":n}`. A client that hangs up aborts its command.
 */
export const CONTROL_PROTOCOL_VERSION = 1;

/** Where the control socket of the instance holding `dataDir` listens. */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'run', 'control.sock');
}

/** Unix socket paths are limited to 107 bytes (sun_path) on Linux. */
export const MAX_SOCKET_PATH = 107;

export const ControlRequestSchema = z.object({
  v: z.literal(CONTROL_PROTOCOL_VERSION),
  argv: z.array(z.string().max(10_000)).max(1_000),
  /** The client's working directory: relative paths (`--out file`) mean the same as when the command runs alone. */
  cwd: z.string().min(1).max(4_096),
  /**
   * The client's gridstream variables (tokens for a backfill, the log level). The instance's own data directory,
   * database, log and namespace always win: they are what the command runs on.
   */
  env: z.record(z.string().max(200), z.string().max(100_000)).default({}),
});

/** Variables that name the instance's own state: a command run inside it keeps the instance's values. */
export const INSTANCE_VARIABLES = ['GRIDSTREAM_DATA_DIR', 'DATABASE_URL', 'KAFKA_BROKERS', 'GRIDSTREAM_NAMESPACE'];

/** The environment a forwarded command runs with: the client's gridstream variables over the instance's. */
export function forwardedEnv(
  instance: Readonly<Record<string, string | undefined>>,
  client: Readonly<Record<string, string>>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...instance };
  for (const [name, value] of Object.entries(client)) if (!INSTANCE_VARIABLES.includes(name)) env[name] = value;
  return env;
}

/** The variables a client sends along: gridstream's own (by prefix), never anything else of its environment. */
export function clientEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (
      value !== undefined &&
      /^(GRIDSTREAM_|ENTSOE_|ELECTRICITYMAPS_)/.test(name) &&
      !INSTANCE_VARIABLES.includes(name)
    )
      out[name] = value;
  }
  return out;
}
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

export const ControlFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('out'), b64: z.string() }),
  z.object({ t: z.literal('err'), b64: z.string() }),
  z.object({ t: z.literal('exit'), code: z.number().int() }),
]);
export type ControlFrame = z.infer<typeof ControlFrameSchema>;

/** Runs one command line inside the instance, writing to `io`; resolves with its exit code. */
export type ControlHandler = (
  request: ControlRequest,
  io: { readonly stdout: Writable; readonly stderr: Writable; readonly signal: AbortSignal },
) => Promise<number>;

/** The instance's side: listens on the control socket and runs each command with the handler. */
export function controlServer(options: {
  readonly dataDir: string;
  readonly handler: ControlHandler;
  readonly logger: Logger;
}): Component {
  const path = controlSocketPath(options.dataDir);
  const { logger } = options;
  let server: Server | undefined;
  const running = new Map<Socket, { abort: AbortController; done: Promise<void> }>();

  async function start(): Promise<void> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      logger.warn(
        { path },
        'data directory path too long for a control socket: commands cannot run while this instance runs',
      );
      return;
    }
    const dir = join(options.dataDir, 'run');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    // This process holds the data directory's locks, so a socket file here is left over from a crash.
    await unlink(path).catch((error: unknown) => {
      if (!hasErrno(error, 'ENOENT')) throw error;
    });
    const s = createServer((socket) => {
      serve(socket);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(path, () => {
        s.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    server = s;
    logger.debug({ path }, 'control socket listening');
  }

  function serve(socket: Socket): void {
    const abort = new AbortController();
    let buffered = '';
    let started = false;
    const send = (frame: ControlFrame, callback?: (error?: Error | null) => void): void => {
      if (socket.writable) socket.write(`${JSON.stringify(frame)}\n`, callback);
      else callback?.(null);
    };
    const stream = (t: 'out' | 'err'): Writable =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          send({ t, b64: Buffer.from(chunk).toString('base64') }, (error) => {
            done(error ?? null);
          });
        },
      });
    socket.on('close', () => {
      abort.abort(new Error('the command line client went away'));
    });
    socket.on('error', () => undefined); // a client that hangs up mid-answer is not an instance failure
    socket.on('data', (data: Buffer) => {
      if (started) return;
      buffered += data.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > 1_000_000) socket.destroy();
        return;
      }
      started = true;
      let request: ControlRequest;
      try {
        request = ControlRequestSchema.parse(JSON.parse(buffered.slice(0, end)));
      } catch (error) {
        send({
          t: 'err',
          b64: Buffer.from(`gridstream: bad control request: ${errorMessage(error)}\n`).toString('base64'),
        });
        send({ t: 'exit', code: 2 });
        socket.end();
        return;
      }
      const stdout = stream('out');
      const stderr = stream('err');
      const done = (async () => {
        let code = 1;
        try {
          code = await options.handler(request, { stdout, stderr, signal: abort.signal });
        } catch (error) {
          stderr.write(`gridstream: unexpected error: ${errorMessage(error)}\n`);
        }
        // The command's output is queued on the socket before the exit frame.
        await new Promise<void>((resolve) => {
          stdout.end(() => {
            stderr.end(resolve);
          });
        });
        send({ t: 'exit', code });
        socket.end();
      })();
      running.set(socket, { abort, done });
      void done.finally(() => running.delete(socket));
    });
  }

  async function stop(graceMs: number): Promise<void> {
    const s = server;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) =>
      s.close(() => {
        resolve();
      }),
    );
    // Commands in flight are cancelled (a backfill keeps its progress) and get the grace time to wind down.
    for (const { abort } of running.values()) abort.abort(new Error('the instance is stopping'));
    await settlesWithin(Promise.all([...running.values()].map((r) => r.done)), graceMs);
    for (const socket of running.keys()) socket.destroy();
    await closed;
    await unlink(path).catch(() => undefined);
  }

  return new Lifecycle(
    'control-socket',
    { start, stop: ({ graceMs }) => stop(graceMs) },
    { graceMs: 10_000, onProblem: problemLogger(logger) },
  );
}
