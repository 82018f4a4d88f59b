import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lifecycle, LIFECYCLE_STATES, periodic, sleep } from '../../src/common/index.ts';
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

  it('the stop hook gets a deadline at the grace time; a hook that ignores it is left behind', async () => {
    const problems: string[] = [];
    let deadlineAbortedAt = 0;
    const started = Date.now();
    const life = new Lifecycle(
      'stubborn',
      {
        stop: ({ deadline }) => {
          deadline.addEventListener('abort', () => (deadlineAbortedAt = Date.now() - started));
          return new Promise(() => undefined); // never settles
        },
      },
      { onProblem: (message) => problems.push(message) },
    );
    await life.start();
    await life.stop({ graceMs: 50 });
    const took = Date.now() - started;
    assert.ok(deadlineAbortedAt >= 45 && deadlineAbortedAt < 1000, `deadline at ${deadlineAbortedAt} ms`);
    assert.ok(took >= 2000 && took < 4000, `left behind after ${took} ms (grace + 2 s)`);
    assert.equal(life.state, 'stopped');
    assert.ok(problems.some((p) => p.includes('did not stop within its grace time')));
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
  it('never spins, backs off after failures, becomes degraded, recovers, and stops promptly and idempotently', async () => {
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
    await Promise.all([task.start(), task.start()]);
    await sleep(40);
    const degradedSeen = task.degraded;
    await sleep(260);
    const started = Date.now();
    await Promise.all([task.stop(), task.stop()]);
    assert.equal(task.state, 'stopped');
    assert.ok(Date.now() - started < 1000, 'stop cut the wait short');
    assert.ok(calls >= 4 && calls <= 20, `${calls} iterations in 300 ms (minimum delay 20 ms)`);
    assert.equal(task.iterations, calls);
    assert.equal(task.degraded, undefined);
    assert.ok(lines.filter((l) => l.includes('iteration failed')).length === 3);
    assert.ok(degradedSeen === undefined || degradedSeen.includes('down'));
  });

  it('reports degraded after the configured failures in a row', async () => {
    const task = periodic({
      name: 't',
      intervalMs: 10,
      degradeAfter: 2,
      backoff: { baseMs: 10, maxMs: 10 },
      run: () => Promise.reject(new Error('database unreachable')),
    });
    await task.start();
    while (task.iterations < 2) await sleep(5);
    assert.match(task.degraded ?? '', /database unreachable/);
    await task.stop();
  });

  it('wakes early when asked', async () => {
    let calls = 0;
    const task = periodic({ name: 't', intervalMs: 60_000, run: () => Promise.resolve(++calls > 0 ? 60_000 : 0) });
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
