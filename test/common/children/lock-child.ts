/**
 * Tries to take the lock at argv[2], prints `got` or `held`, keeps it for argv[3] ms (so that the others try while it
 * is held), then releases it. Used by the lock race test: several of these start at the same instant.
 */
import { LockHeldError, acquireDirLock } from '../../../src/common/index.ts';

const [path = '', holdMs = '1000'] = process.argv.slice(2);
try {
  const lock = await acquireDirLock(path);
  process.stdout.write('got\n');
  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
  await lock.release();
} catch (error) {
  process.stdout.write(error instanceof LockHeldError ? 'held\n' : `error ${String(error)}\n`);
}
