import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GridstreamError, Lifecycle, LIFECYCLE_STATES, periodic, sleep } from '../../src/common/index.ts';
import type { LifecycleState } from '../../src/common/index.ts';
import { captureLogger } from '../helpers/fake-entsoe.ts';

describe('Lifecycle', () => {
  it('goes idle → starting → running → stopping → stopped, with an idempotent stop and `finished`', async () => {
    const seen: LifecycleState[] = [];
    let stopCalls = 0;
    const gate = Promise.withResolvers<undefined>();
    const life: Lifecycle = new Lifecycle('t', {
      start: async () => {
        seen.push(life.state);
        await gate.promise;
      },
      stop: async () => {
        stopCalls++;
        seen.push(life.state);
        await sleep(5);
      },
    });
    assert.equal(life.state, 'idle');
    const starting = life.start();
    assert.equal(life.start(), starting, 'start() while starting returns the same promise');
    gate.resolve(undefined);
    await starting;
    assert.equal(life.state, 'running');
    let finished = false;
    void life.finished.then(() => (finished = true));
    const stops = [life.stop(), life.stop(), life.stop({ graceMs: 1 })];
    assert.ok(
      stops.every((s) => s === stops[0]),
      'every stop() returns the same promise',
    );
    await Promise.all(stops);
    assert.deepEqual(seen, ['starting', 'stopping']);
    assert.equal(life.state, 'stopped');
    assert.equal(stopCalls, 1);
    await life.finished;
    assert.ok(finished);
    await assert.rejects(life.start(), /cannot start t: it is stopped/);
    assert.deepEqual([...LIFECYCLE_STATES], ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed']);
  });

  it('a start that throws leaves it failed with the cause; stopping an idle one stops it without hooks', async () => {
    const cause = new Error('no broker');
    const life = new Lifecycle('t', { start: () => Promise.reject(cause) });
    await assert.rejects(life.start(), cause);
    assert.equal(life.state, 'failed');
    assert.equal(life.error, cause);
    let hooked = false;
    const idle = new Lifecycle('idle', {
      stop: () => {
        hooked = true;
        return Promise.resolve();
      },
    });
    await idle.stop();
    assert.equal(idle.state, 'stopped');
    assert.equal(hooked, false);
  });

  it('fail() while running settles `finished` with the cause; a later stop() still releases, state stays failed', async () => {
    let released = false;
    const life = new Lifecycle('t', {
      stop: () => {
        released = true;
        return Promise.resolve();
      },
    });
    await life.start();
    const cause = new Error('disk gone');
    life.fail(cause);
    await life.finished;
    assert.equal(life.state, 'failed');
    assert.equal(life.error, cause);
    await life.stop();
    assert.equal(released, true);
    assert.equal(life.state, 'failed');
    assert.equal(life.error, cause);
  });

  it('the stop hook gets a deadline at the grace time; a hook that ignores it is left behind', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const problems: string[] = [];
    let deadlineAborted = false;
    const life = new Lifecycle(
      'stubborn',
      {
        stop: ({ deadline }) => {
          deadline.addEventListener('abort', () => (deadlineAborted = true));
          return new Promise(() => undefined); // never settles
        },
      },
      { onProblem: (message) => problems.push(message) },
    );
    await life.start();
    const stopping = life.stop({ graceMs: 50 });
    await Promise.resolve();
    t.mock.timers.tick(49);
    assert.equal(deadlineAborted, false, 'not before the grace is over');
    t.mock.timers.tick(1);
    assert.equal(deadlineAborted, true, 'at the grace');
    t.mock.timers.tick(2_000); // the overrun a hook is allowed
    await stopping;
    assert.equal(life.state, 'stopped');
    assert.ok(problems.some((p) => p.includes('did not stop within its grace time')));
  });

  it('a stop during the start tells the start to give up, waits for it, then stops', async () => {
    let gaveUp = false;
    let stopHook = false;
    const life = new Lifecycle('slow', {
      start: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            gaveUp = true;
            resolve();
          });
        }),
      stop: () => {
        stopHook = true;
        return Promise.resolve();
      },
    });
    const starting = life.start();
    await Promise.resolve();
    assert.equal(life.state, 'starting');
    await life.stop();
    await starting;
    assert.deepEqual([gaveUp, stopHook, life.state], [true, true, 'stopped']);
  });

  it('a start that fails releases what it acquired (its stop hook runs); a stop hook that fails ends failed', async () => {
    let released = false;
    const cause = new Error('port in use');
    const life = new Lifecycle('server', {
      start: () => Promise.reject(cause),
      stop: () => {
        released = true;
        return Promise.resolve();
      },
    });
    await assert.rejects(life.start(), cause);
    assert.deepEqual([released, life.state, life.error], [true, 'failed', cause]);

    const flushFailed = new Error('last commit failed');
    const flushing = new Lifecycle('sink', {
      stop: () => {
        throw flushFailed; // synchronously, even
      },
    });
    await flushing.start();
    await flushing.stop();
    assert.deepEqual([flushing.state, flushing.error], ['failed', flushFailed]);
  });

  it('degraded is reported only while running, and is cleared by recover()', async () => {
    const life = new Lifecycle('t', {}, { degradedBy: () => undefined });
    life.degrade('broker unreachable');
    assert.equal(life.degraded, undefined, 'not running yet');
    await life.start();
    assert.equal(life.degraded, 'broker unreachable');
    life.recover();
    assert.equal(life.degraded, undefined);
    let part: string | undefined = 'log damaged';
    const composite = new Lifecycle('c', {}, { degradedBy: () => part });
    await composite.start();
    assert.equal(composite.degraded, 'log damaged');
    part = undefined;
    assert.equal(composite.degraded, undefined);
  });
});

describe('periodic task', () => {
  it('never spins, backs off after failures, recovers, and stops idempotently', async () => {
    let calls = 0;
    const { logger, lines } = captureLogger();
    const task = periodic({
      name: 't',
      logger,
      intervalMs: 20,
      run: () => {
        calls++;
        return calls <= 3 ? Promise.reject(new Error('down')) : Promise.resolve(0);
      },
      minDelayMs: 20,
      backoff: { baseMs: 30, maxMs: 60 },
    });
    assert.equal(task.state, 'idle');
    const started = Date.now();
    await Promise.all([task.start(), task.start()]);
    while (calls < 6) await sleep(10);
    await Promise.all([task.stop(), task.stop()]);
    const elapsed = Date.now() - started;
    assert.equal(task.state, 'stopped');
    // Never spins: at least the minimum delay between iterations, however fast or slow the machine is.
    assert.ok(calls <= elapsed / 20 + 1, `${calls} iterations in ${elapsed} ms with a minimum delay of 20 ms`);
    assert.equal(task.iterations, calls);
    assert.equal(task.degraded, undefined);
    assert.equal(lines.filter((l) => l.includes('iteration failed')).length, 3);
  });

  it('stop() ends a long wait at once (an iteration is not left running past the grace)', async () => {
    const { logger, lines } = captureLogger();
    let calls = 0;
    const task = periodic({
      name: 't',
      logger,
      intervalMs: 60_000,
      graceMs: 5_000,
      run: () => Promise.resolve(++calls && undefined),
    });
    await task.start();
    while (calls < 1) await sleep(5);
    await task.stop();
    assert.equal(task.state, 'stopped');
    assert.equal(calls, 1);
    assert.ok(!lines.some((l) => l.includes('did not stop within its grace time')), 'the 60 s wait was cut');
  });

  it('reports degraded after the configured failures in a row', async () => {
    const task = periodic({
      name: 't',
      intervalMs: 10,
      degradeAfter: 2,
      backoff: { baseMs: 10, maxMs: 10 },
      run: () => Promise.reject(new GridstreamError('db.unavailable', 'connection refused by db.internal:5432')),
    });
    await task.start();
    try {
      while (task.iterations < 2) await sleep(5);
      // The code only: /readyz answers anyone, and a message may name hosts.
      assert.equal(task.degraded, 't: db.unavailable');
    } finally {
      await task.stop();
    }
  });

  it('wakes early when asked', async () => {
    let calls = 0;
    const task = periodic({ name: 't', intervalMs: 60_000, run: () => Promise.resolve(++calls && 60_000) });
    await task.start();
    await sleep(20);
    task.wake();
    await sleep(20);
    await task.stop();
    assert.equal(calls, 2, 'the first iteration at start, the second when woken instead of after 60 s');
  });

  it('runs the first iteration in start() when asked, and stop() waits for an iteration in progress', async () => {
    let inProgress = false;
    let completed = 0;
    const task = periodic({
      name: 't',
      intervalMs: 10,
      firstRunInStart: true,
      run: async () => {
        inProgress = true;
        await sleep(100);
        inProgress = false;
        completed++;
        return 0;
      },
    });
    await task.start();
    assert.equal(completed, 1, 'start() resolved after the first iteration');
    await sleep(20);
    assert.equal(inProgress, true);
    await task.stop({ graceMs: 5_000 });
    assert.equal(inProgress, false, 'stop() returned only after the iteration in progress ended');
    assert.equal(completed, 2);
  });
});
