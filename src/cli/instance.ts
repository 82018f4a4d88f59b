import { lstat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Socket } from 'node:net';
import { hasErrno } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { ControlRequest } from '../runtime/index.ts';
import { CONTROL_PROTOCOL_VERSION, ControlFrameSchema, clientEnv, controlSocketPath } from '../runtime/index.ts';
import type { CommandContext } from './command.ts';

/** True when this configuration keeps state in the data directory (embedded log or PGlite): one process owns it. */
export function ownsDataDir(config: Config): boolean {
  return config.kafkaBrokers === null || config.databaseUrl === null;
}

/**
 * Runs `argv` inside the running instance that holds `config.dataDir`, through its control socket, copying the
 * command's output to `ctx.stdout`/`ctx.stderr`. Resolves with the command's exit code, or `undefined` when no
 * instance listens there (the caller then runs the command itself). Aborting `ctx.signal` (Ctrl-C) hangs up, which
 * cancels the command in the instance.
 */
export async function runInInstance(
  config: Config,
  argv: readonly string[],
  ctx: CommandContext,
): Promise<number | undefined> {
  const path = controlSocketPath(config.dataDir);
  if (!(await ownedByMe(dirname(path)))) return undefined;
  const socket = await connectTo(path);
  if (socket === undefined) return undefined;
  const request: ControlRequest = {
    v: CONTROL_PROTOCOL_VERSION,
    argv: [...argv],
    cwd: ctx.cwd,
    env: clientEnv(ctx.env),
  };
  socket.write(`${JSON.stringify(request)}\n`);
  const hangUp = (): void => {
    socket.destroy();
  };
  ctx.signal.addEventListener('abort', hangUp, { once: true });
  try {
    return await new Promise<number>((resolve) => {
      const decoder = new StringDecoder('utf8');
      let buffered = '';
      let code: number | undefined;
      socket.on('data', (data: Buffer) => {
        buffered += decoder.write(data);
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          const frame = ControlFrameSchema.safeParse(parseJson(line));
          if (!frame.success) continue;
          const f = frame.data;
          if (f.t === 'exit') code = f.code;
          else (f.t === 'out' ? ctx.stdout : ctx.stderr).write(Buffer.from(f.b64, 'base64'));
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (code === undefined)
          ctx.stderr.write(
            ctx.signal.aborted
              ? 'gridstream: interrupted\n'
              : 'gridstream: the running instance closed the connection before the command finished\n',
          );
        resolve(code ?? 1);
      });
    });
  } finally {
    ctx.signal.removeEventListener('abort', hangUp);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * True when `dir` (the socket's directory) is this user's and closed to everyone else. The client sends its tokens
 * along; with a data directory anyone can write to (under /tmp), another user's socket must not receive them.
 */
async function ownedByMe(dir: string): Promise<boolean> {
  try {
    const s = await lstat(dir);
    const uid = process.getuid?.();
    return s.isDirectory() && (uid === undefined || s.uid === uid) && (s.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** A connection to the control socket, or `undefined` when nothing listens there. */
function connectTo(path: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (error: Error): void => {
      socket.destroy();
      if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENOTDIR'].some((code) => hasErrno(error, code))) resolve(undefined);
      else reject(error);
    };
    socket.once('error', onError);
  });
}
