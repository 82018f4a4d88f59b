import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { GridstreamError } from './errors.ts';
import { hasErrno, syncDir, writeFileAtomic } from './fs.ts';

/** Who holds a lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Start time of the process (Linux `/proc/<pid>/stat` field 22): tells a live owner from a reused pid. */
  readonly start: string | null;
}

/** A held lock; `release()` is idempotent. */
export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** A live process (or this one) holds the lock. */
export class LockHeldError extends GridstreamError<'lock.held'> {
  readonly owner: LockOwner | undefined;

  constructor(message: string, owner: LockOwner | undefined, path: string) {
    super('lock.held', message, {
      retryable: false,
      details: { path, pid: owner?.pid ?? null, host: owner?.host ?? null },
    });
    this.owner = owner;
  }
}

/** Lock files held by this process: a second open of the same directory in one process is refused too. */
const heldHere = new Set<string>();

/**
 * Takes the lock file `path` for this process: the one lock of gridstream's embedded state (the embedded log and
 * PGlite each keep one; two processes on one PGlite directory corrupt it, and PGlite has no postmaster to refuse the
 * second). The file holds the owner's pid, host and process start time, written before it appears (created with
 * `wx` and fsynced). A lock left by a process that is gone (`kill -9`), or by an earlier pid now reused by another
 * program, is taken over; a live owner gives a {@link LockHeldError} naming its pid.
 *
 * @param onTakeOver told when a stale lock is taken over (log it)
 */
export async function acquireDirLock(
  path: string,
  options: { readonly what?: string; readonly onTakeOver?: (stale: LockOwner | undefined) => void } = {},
): Promise<DirLock> {
  const key = resolve(path);
  const what = options.what ?? dirname(path);
  if (heldHere.has(key)) {
    throw new LockHeldError(`${what} is already open in this process`, undefined, path);
  }
  const me: LockOwner = { pid: process.pid, host: hostname(), start: await processStart(process.pid) };
  const text = JSON.stringify(me);
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncDir(dirname(path));
  } catch (error) {
    if (!hasErrno(error, 'EEXIST')) throw error;
    const owner = await readLockOwner(path);
    if (owner !== undefined && (await isAlive(owner))) {
      throw new LockHeldError(`${what} is in use by process ${owner.pid} on ${owner.host}`, owner, path);
    }
    options.onTakeOver?.(owner);
    await writeFileAtomic(path, text);
    // Two processes taking over the same stale lock at once: the rename of only one of them stays.
    const after = await readLockOwner(path);
    if (after?.pid !== me.pid || after.start !== me.start) {
      throw new LockHeldError(`${what} was taken by process ${after?.pid ?? 'unknown'}`, after, path);
    }
  }
  heldHere.add(key);
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(key);
      const owner = await readLockOwner(path);
      if (owner?.pid === me.pid) await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * The live owner of a lock file, or `undefined` when nobody holds it (no file, a half-written one, or a process
 * that is gone). Lets a command find the running instance that holds the data directory.
 */
export async function lockHolder(path: string): Promise<LockOwner | undefined> {
  const owner = await readLockOwner(path);
  if (owner !== undefined && heldHere.has(resolve(path))) return owner; // this process holds it
  return owner !== undefined && (await isAlive(owner)) ? owner : undefined;
}

async function readLockOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  // Older lock files hold only the pid.
  if (/^\d+\s*$/.test(text)) return { pid: Number.parseInt(text, 10), host: hostname(), start: null };
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { pid, host, start } = parsed as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string') return undefined;
    return { pid, host, start: typeof start === 'string' ? start : null };
  } catch {
    // Empty or half-written (a crash while creating it): nobody holds it.
    return undefined;
  }
}

async function isAlive(owner: LockOwner): Promise<boolean> {
  // Another host shares the directory (network file system): its pids mean nothing here, so assume it is alive.
  if (owner.host !== hostname()) return true;
  // Ours, but not in heldHere: left by an earlier, unclosed open in this process.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (hasErrno(error, 'ESRCH')) return false;
  }
  const fields = await procStat(owner.pid);
  if (fields?.[0] === 'Z') return false; // killed, not yet reaped by its parent
  const start = fields?.[19] ?? null;
  return owner.start === null || start === null || start === owner.start;
}

async function processStart(pid: number): Promise<string | null> {
  return (await procStat(pid))?.[19] ?? null;
}

/** Fields 3… of `/proc/<pid>/stat` (state, ppid, …; index 19 is the start time), or undefined off Linux. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
