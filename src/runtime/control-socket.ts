import { chmod, mkdir, unlink } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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

/** How long a connection may stay silent before its request line. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_REQUEST_BYTES = 1_000_000;

export const ControlRequestSchema = z.object({
  v: z.literal(CONTROL_PROTOCOL_VERSION),
  argv: z.array(z.string().max(10_000)).max(1_000),
  /** The client's working directory: relative paths (`--out file`) mean the same as when the command runs alone. */
  cwd: z.string().min(1).max(4_096),
  /**
   * The client's gridstream variables (tokens for a backfill, the log level), and its data directory, database, log
   * and namespace, which must be the instance's (see {@link instanceMismatch}).
   */
  env: z.record(z.string().max(200), z.string().max(100_000)).default({}),
});

/** Variables that name the instance's own state: a command must mean the same ones, or it is refused. */
export const INSTANCE_VARIABLES = [
  'GRIDSTREAM_DATA_DIR',
  'DATABASE_URL',
  'DATABASE_URL_FILE',
  'KAFKA_BROKERS',
  'GRIDSTREAM_NAMESPACE',
];

/** gridstream's own variables (by prefix, plus the database and log): the only ones that travel either way. */
function forwardable(name: string): boolean {
  return /^(GRIDSTREAM_|ENTSOE_|ELECTRICITYMAPS_)/.test(name) || INSTANCE_VARIABLES.includes(name);
}

/** The environment a forwarded command runs with: the client's gridstream variables over the instance's. */
export function forwardedEnv(
  instance: Readonly<Record<string, string | undefined>>,
  client: Readonly<Record<string, string>>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...instance };
  for (const [name, value] of Object.entries(client))
    if (forwardable(name) && !INSTANCE_VARIABLES.includes(name)) env[name] = value;
  return env;
}

/** The variables a client sends along: gridstream's own, never anything else of its environment. */
export function clientEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && forwardable(name)) out[name] = value;
  return out;
}

/**
 * Why a request must not run in this instance: its data directory, database, log or namespace are not the
 * instance's (a `DATABASE_URL` meant for another database must never quietly write to the local one). `undefined`
 * when they are the same.
 */
export function instanceMismatch(
  instance: { readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string },
  request: ControlRequest,
): string | undefined {
  const value = (env: Readonly<Record<string, string | undefined>>, name: string): string => env[name]?.trim() ?? '';
  const dir = (env: Readonly<Record<string, string | undefined>>, cwd: string): string =>
    resolve(cwd, value(env, 'GRIDSTREAM_DATA_DIR') || './.gridstream');
  for (const name of INSTANCE_VARIABLES) {
    const same =
      name === 'GRIDSTREAM_DATA_DIR'
        ? dir(instance.env, instance.cwd) === dir(request.env, request.cwd)
        : value(instance.env, name) === value(request.env, name);
    if (!same)
      return `${name} differs from the running instance's (process ${process.pid}): it runs on its own data directory, database and log; unset ${name} or stop the instance`;
  }
  return undefined;
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
  /** Refuses a request whose environment names another instance (its data directory, database, log). */
  readonly check?: (request: ControlRequest) => string | undefined;
}): Component {
  const path = controlSocketPath(options.dataDir);
  const { logger } = options;
  let server: Server | undefined;
  /** Every connection, from the moment it opens: an idle one must not hold the stop up. */
  const sockets = new Set<Socket>();
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
    sockets.add(socket);
    const abort = new AbortController();
    const decoder = new StringDecoder('utf8');
    let buffered = '';
    let started = false;
    // A client that opens a connection and says nothing is dropped, not waited for.
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (!started) socket.destroy();
    });
    const send = (frame: ControlFrame, callback?: (error?: Error | null) => void): void => {
      if (socket.writable && !socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`, callback);
      else callback?.(null);
    };
    /**
     * The command's stdout or stderr. A client that hung up (Ctrl-C, `| head`) makes a write fail: the command is
     * cancelled through its signal, never by an 'error' event that nobody listens to (it would crash the instance).
     */
    const stream = (t: 'out' | 'err'): Writable => {
      const w = new Writable({
        write(chunk: Buffer, _encoding, done) {
          send({ t, b64: Buffer.from(chunk).toString('base64') }, (error) => {
            if (error !== null && error !== undefined) abort.abort(new Error('the command line client went away'));
            done();
          });
        },
      });
      w.on('error', () => undefined);
      return w;
    };
    socket.on('close', () => {
      sockets.delete(socket);
      abort.abort(new Error('the command line client went away'));
    });
    socket.on('error', () => undefined); // a client that hangs up mid-answer is not an instance failure
    socket.on('data', (data: Buffer) => {
      if (started) return;
      buffered += decoder.write(data);
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
        return;
      }
      started = true;
      let request: ControlRequest;
      try {
        request = ControlRequestSchema.parse(JSON.parse(buffered.slice(0, end)));
      } catch (error) {
        refuse(`gridstream: bad control request: ${errorMessage(error)}`);
        return;
      }
      const mismatch = options.check?.(request);
      if (mismatch !== undefined) {
        refuse(`gridstream: ${mismatch}`);
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
    function refuse(message: string): void {
      send({ t: 'err', b64: Buffer.from(`${message}\n`).toString('base64') });
      send({ t: 'exit', code: 2 });
      socket.end();
    }
  }

  async function stop(graceMs: number): Promise<void> {
    const s = server;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) =>
      s.close(() => {
        resolve();
      }),
    );
    // Commands in flight are cancelled (a backfill keeps its progress) and get the grace time to wind down; every
    // other connection (idle, or done but not yet closed by its client) is cut at once.
    for (const { abort } of running.values()) abort.abort(new Error('the instance is stopping'));
    for (const socket of sockets) if (!running.has(socket)) socket.destroy();
    await settlesWithin(Promise.all([...running.values()].map((r) => r.done)), graceMs);
    for (const socket of sockets) socket.destroy();
    await closed;
    await unlink(path).catch(() => undefined);
  }

  return new Lifecycle(
    'control-socket',
    { start, stop: ({ graceMs }) => stop(graceMs) },
    { graceMs: 10_000, onProblem: problemLogger(logger) },
  );
}
