import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { GridstreamError } from './errors.ts';
import { sleep } from './async.ts';
import { hasErrno, syncDir } from './fs.ts';

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
 * second). The file holds the owner's pid, host and process start time. It is written whole to a temporary file and
 * then hard-linked into place, which fails atomically when the lock exists: a reader never sees it half-written. A
 * lock left by a process that is gone (`kill -9`), or by an earlier pid now reused by another program, is taken
 * over: the stale file is renamed away (atomic: of two processes taking over at once, one moves it, the other finds
 * nothing), then the link is tried again. A live owner gives a {@link LockHeldError} naming its pid.
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
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(JSON.stringify(me));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        await syncDir(dirname(path));
        break;
      } catch (error) {
        if (!hasErrno(error, 'EEXIST')) throw error;
      }
      const owner = await readLockOwner(path);
      if (owner !== undefined && (await isAlive(owner))) {
        throw new LockHeldError(`${what} is in use by process ${owner.pid} on ${owner.host}`, owner, path);
      }
      // Unreadable and recent: a writer of an older release may be filling it in right now. Give it a moment.
      if (owner === undefined && (await ageMs(path)) < UNREADABLE_GRACE_MS && attempt < MAX_ATTEMPTS) {
        await sleep(100);
        continue;
      }
      if (attempt >= MAX_ATTEMPTS) throw new LockHeldError(`could not take ${what} (${path})`, owner, path);
      await takeOverStale(path, owner);
      options.onTakeOver?.(owner);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
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
      if (owner !== undefined && sameOwner(owner, me)) await unlink(path).catch(() => undefined);
    },
  };
}

/** Attempts at taking a lock (stale take-overs, waits for a file being written) before giving up. */
const MAX_ATTEMPTS = 20;
/** How long an unreadable lock file is taken for one being written, not a stale one. */
const UNREADABLE_GRACE_MS = 5_000;

/**
 * Moves the stale lock `path` (held by `stale`) out of the way. If what was moved is not that stale lock (another
 * process took over and linked its own meanwhile), it is put back.
 */
async function takeOverStale(path: string, stale: LockOwner | undefined): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return; // someone else moved it: try the link again
    throw error;
  }
  const moved = await readLockOwner(aside);
  const wasStale = stale === undefined ? moved === undefined : moved !== undefined && sameOwner(moved, stale);
  if (!wasStale) await link(aside, path).catch(() => undefined); // a live lock: put it back
  await unlink(aside).catch(() => undefined);
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.host === b.host && a.start === b.start;
}

async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
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
