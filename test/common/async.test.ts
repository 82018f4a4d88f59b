import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  LockHeldError,
  acquireDirLock,
  backoffDelay,
  isAborted,
  lockHolder,
  settlesWithin,
  sleep,
} from '../../src/common/index.ts';

describe('sleep', () => {
  it('resolves true after the time, false at once on abort, and never rejects', async () => {
    assert.equal(await sleep(5), true);
    const controller = new AbortController();
    // An abort ends a 60 s wait (were it not cut, the test would time out): it resolves false, never rejects.
    const waiting = sleep(60_000, { signal: controller.signal });
    setTimeout(() => {
      controller.abort(new Error('stop'));
    }, 10);
    assert.equal(await waiting, false);
    assert.equal(await sleep(10, { signal: controller.signal }), false, 'an aborted signal returns at once');
    assert.equal(isAborted(controller.signal), true);
  });
  it('an infinite wait ends only on abort (no 32-bit timer overflow firing at once)', async () => {
    const controller = new AbortController();
    let done = false;
    const waiting = sleep(Infinity, { signal: controller.signal }).then((v) => {
      done = true;
      return v;
    });
    await sleep(20);
    assert.equal(done, false);
    controller.abort();
    assert.equal(await waiting, false);
  });
});

describe('backoffDelay', () => {
  it('grows by the factor, caps at the maximum and keeps its random share within bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (retry, baseMs, maxMs, jitter, r) => {
          const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
          const delay = backoffDelay(retry, { baseMs, maxMs, jitter, random: () => r });
          assert.ok(delay <= ceiling, `${delay} > ${ceiling}`);
          assert.ok(delay >= Math.floor(ceiling * (1 - jitter)) - 1, `${delay} below ${ceiling * (1 - jitter)}`);
        },
      ),
    );
    assert.equal(backoffDelay(1, { baseMs: 100, jitter: 0 }), 100);
    assert.equal(backoffDelay(3, { baseMs: 100, jitter: 0 }), 400);
    assert.equal(backoffDelay(30, { baseMs: 100, maxMs: 5_000, jitter: 0 }), 5_000);
    assert.equal(backoffDelay(2, { baseMs: 100, random: () => 0 }), 0, 'full jitter by default');
  });
});

describe('settlesWithin', () => {
  it('says whether a promise settled in time, rejections included, and never rejects itself', async () => {
    assert.equal(await settlesWithin(Promise.resolve(1), 50), true);
    assert.equal(await settlesWithin(Promise.reject(new Error('x')), 50), true);
    assert.equal(await settlesWithin(new Promise(() => undefined), 20), false);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 10);
    assert.equal(await settlesWithin(new Promise(() => undefined), Infinity, { signal: controller.signal }), false);
  });
});

describe('the directory lock', () => {
  it('is taken by exactly one of several processes racing for it, also when they all take over a stale one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-lock-race-'));
    const child = join(import.meta.dirname, 'children', 'lock-child.ts');
    try {
      for (const round of [1, 2, 3, 4]) {
        const path = join(dir, `LOCK-${round}`);
        // Rounds 3 and 4 start from a stale lock of a process that no longer runs.
        if (round > 2) await writeFile(path, JSON.stringify({ pid: 999_999_999, host: hostname(), start: '1' }));
        const outputs = await Promise.all(
          [1, 2, 3, 4].map(
            () =>
              new Promise<string>((resolve, reject) => {
                const p = spawn(process.execPath, [child, path, '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
                let out = '';
                p.stdout.on('data', (d: Buffer) => (out += d.toString()));
                p.once('error', reject);
                p.once('exit', () => {
                  resolve(out.trim());
                });
              }),
          ),
        );
        assert.deepEqual(outputs.sort(), ['got', 'held', 'held', 'held'], `round ${round}: ${outputs.join(',')}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second holder in this process and in a live process, and takes over a dead one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-lock-'));
    try {
      const path = join(dir, 'LOCK');
      const lock = await acquireDirLock(path, { what: 'the test dir' });
      await assert.rejects(acquireDirLock(path), LockHeldError);
      assert.equal((await lockHolder(path))?.pid, process.pid, 'held by this process');
      await lock.release();
      await lock.release(); // idempotent

      // A live process holds it: refused, naming the pid; lockHolder() finds it.
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      try {
        const start = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[19] ?? null;
        await writeFile(path, JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), start }));
        await assert.rejects(acquireDirLock(path), (e: unknown) => {
          assert.ok(e instanceof LockHeldError);
          assert.equal(e.code, 'lock.held');
          assert.match(e.message, new RegExp(`process ${child.pid}`));
          return true;
        });
        assert.equal((await lockHolder(path))?.pid, child.pid);
      } finally {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }

      // The holder is gone (kill -9): taken over, and the take-over is told.
      let stale: number | undefined;
      const again = await acquireDirLock(path, { onTakeOver: (owner) => (stale = owner?.pid) });
      assert.equal(stale, child.pid);
      await again.release();
      assert.equal(await lockHolder(path), undefined, 'released: nobody holds it');

      // An old lock file holding only a pid that no longer runs: taken over too.
      await writeFile(path, '999999999\n');
      await (await acquireDirLock(path)).release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
