import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { StorageError } from './errors.ts';

/** A held lock file; `release()` is idempotent. */
export interface DirLock {
  release(): Promise<void>;
}

/**
 * Takes an exclusive lock file holding this process's pid. Two PGlite instances on one directory corrupt it, and
 * PGlite does not prevent it (it has no postmaster to refuse a second one), so gridstream does. A lock left by a
 * process that no longer runs (killed with SIGKILL) is taken over (two processes taking over the same stale lock
 * at the same instant could both succeed: a narrow window, accepted for a single-machine embedded mode).
 * @throws StorageError `db_locked` when a running process holds it.
 */
export async function acquireDirLock(path: string): Promise<DirLock> {
  // Written aside and hard-linked into place, so the lock file never exists without its pid in it.
  const aside = `${path}.${process.pid}`;
  await writeFile(aside, `${process.pid}\n`);
  try {
    return await takeOver(path, aside);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

async function takeOver(path: string, aside: string): Promise<DirLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await link(aside, path);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new StorageError('db_locked', `the embedded database is in use by process ${holder} (${path})`, {
        retryable: false,
        details: { pid: holder },
      });
    }
    // A stale lock: remove it and try again; link() fails if another process won the race meanwhile.
    await unlink(path).catch(() => undefined);
  }
  throw new StorageError('db_locked', `could not take the lock file ${path}`, { retryable: false });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
