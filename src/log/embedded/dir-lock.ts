import { readFile, open, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../observability/index.ts';
import { LogError, ioError } from '../errors.ts';
import { hasErrno, syncDir, writeFileAtomic } from './fs-util.ts';

const LOCK_FILE = 'LOCK';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Start time of the process (Linux `/proc/<pid>/stat` field 22): tells a live owner from a reused pid. */
  readonly start: string | null;
}

/** Directories locked by this process: a second log on the same directory in one process is refused too. */
const heldHere = new Set<string>();

/** A held data-directory lock. */
export interface DirLock {
  release(): Promise<void>;
}

/**
 * Takes the data directory for this process: one process owns a directory at a time. A lock left by a process
 * that is gone (killed with `kill -9`) is taken over; a live owner gives a `locked` error naming its pid.
 */
export async function acquireDirLock(dir: string, logger: Logger): Promise<DirLock> {
  const key = resolve(dir);
  if (heldHere.has(key)) {
    throw new LogError('locked', `${dir} is already open in this process`, { details: { dir, pid: process.pid } });
  }
  const path = join(dir, LOCK_FILE);
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
    await syncDir(dir);
  } catch (error) {
    if (!hasErrno(error, 'EEXIST')) throw ioError(`could not create ${path}`, error);
    const owner = await readOwner(path);
    if (owner !== undefined && (await isAlive(owner))) {
      throw new LogError('locked', `${dir} is in use by process ${owner.pid} on ${owner.host}`, {
        details: { dir, pid: owner.pid, host: owner.host },
      });
    }
    logger.warn({ dir, stalePid: owner?.pid ?? null }, 'taking over the lock of a process that is gone');
    await writeFileAtomic(path, text);
    // Two processes taking over the same stale lock at once: the rename of only one of them stays.
    const after = await readOwner(path);
    if (after?.pid !== me.pid || after.start !== me.start) {
      throw new LogError('locked', `${dir} was taken by process ${after?.pid ?? 'unknown'}`, { details: { dir } });
    }
  }
  heldHere.add(key);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(key);
      const owner = await readOwner(path);
      if (owner?.pid === me.pid) await unlink(path).catch(() => undefined);
    },
  };
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { pid, host, start } = parsed as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string') return undefined;
    return { pid, host, start: typeof start === 'string' ? start : null };
  } catch {
    // Missing, empty or half-written (crash while creating it): nobody holds it.
    return undefined;
  }
}

async function isAlive(owner: LockOwner): Promise<boolean> {
  // Another host shares the directory (network file system): its pids mean nothing here, so assume it is alive.
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return false; // ours, but not in heldHere: left by an earlier, unclosed log
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
