import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from '../../src/cli/index.ts';
import { StopSignal, runCli } from '../../src/cli/index.ts';
import { CLI_STOP_GRACE_MS } from '../../src/cli/run-cli.ts';
import { sink } from '../helpers/cli.ts';
import { FakeEntsoe, TEST_TOKEN } from '../helpers/fake-entsoe.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { hostileEntsoeDocument } from '../helpers/hostile-entsoe.ts';
import { tempDir } from '../helpers/services.ts';

interface Stopped {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly afterSignalMs: number;
  readonly stderr: string;
}

/**
 * Spawns the real binary, waits until it has printed output (then `delayMs` more: it is mid-work), sends `signal`
 * and times the exit.
 */
function interrupt(
  argv: readonly string[],
  signal: NodeJS.Signals,
  options: { readonly env?: NodeJS.ProcessEnv; readonly delayMs?: number; readonly when?: () => boolean } = {},
): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'gridstream.js'), ...argv], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', GRIDSTREAM_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let signalledAt: number | undefined;
    let output = false;
    const err: Buffer[] = [];
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onOutput = (): void => {
      if (output) return;
      output = true;
      setTimeout(() => {
        signalledAt = performance.now();
        child.kill(signal);
      }, options.delayMs ?? 0);
    };
    if (options.when === undefined) child.stdout.on('data', onOutput);
    else {
      const { when } = options;
      const poll = setInterval(() => {
        if (!when()) return;
        clearInterval(poll);
        onOutput();
      }, 20);
      child.once('close', () => {
        clearInterval(poll);
      });
    }
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      if (options.when === undefined) onOutput();
    });
    child.once('error', reject);
    child.once('close', (code, sig) => {
      clearTimeout(guard);
      resolve({
        code,
        signal: sig,
        afterSignalMs: signalledAt === undefined ? Number.NaN : performance.now() - signalledAt,
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

describe('CLI: SIGTERM and SIGINT stop a long command within two seconds', () => {
  const big = hostileEntsoeDocument(2, 990_000, { resolution: 'PT15M', sequential: true });
  const cases: { argv: (file: string) => string[]; signal: NodeJS.Signals; code: number }[] = [
    { argv: (f) => ['entsoe', 'parse', f], signal: 'SIGTERM', code: 143 },
    { argv: (f) => ['entsoe', 'parse', f, '--format', 'ndjson'], signal: 'SIGINT', code: 130 },
    { argv: (f) => ['process', f], signal: 'SIGTERM', code: 143 },
    { argv: (f) => ['process', f, '--format', 'ndjson'], signal: 'SIGINT', code: 130 },
  ];
  it('gridstream process <2 M-step document> on SIGTERM in the middle of processing (nothing printed yet)', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const file = join(dir.path, 'big.xml');
    await writeFile(file, big);
    // An unmodelled document first says so on stderr at once; the big one is being processed 300 ms later.
    const started = await interrupt(
      ['process', join(ROOT, 'data', 'entsoe', 'A80_BE_planned-unavailability_2025-08-31.xml'), file],
      'SIGTERM',
      {
        delayMs: 300,
      },
    );
    t.diagnostic(`exited ${Math.round(started.afterSignalMs)} ms after SIGTERM with ${started.code}`);
    assert.ok(started.afterSignalMs < 2500, `exited ${Math.round(started.afterSignalMs)} ms after the signal`);
    assert.equal(started.code, 143, started.stderr);
    assert.match(started.stderr, /stopped by SIGTERM/);
  });

  it('gridstream backfill against an ENTSO-E service that never answers, on SIGTERM', async (t) => {
    const fake = await FakeEntsoe.start();
    t.after(() => fake.close());
    fake.fail('timeout', { times: 1_000 });
    const dir = await tempDir();
    t.after(() => dir.remove());
    const stopped = await interrupt(
      ['backfill', '--from', '2024-01-01', '--to', '2024-03-01', '--zones', 'SE_4', '--documents', 'A75'],
      'SIGTERM',
      {
        env: { ENTSOE_TOKEN: TEST_TOKEN, ENTSOE_BASE_URL: fake.url, GRIDSTREAM_DATA_DIR: dir.path },
        when: () => fake.requests.length > 0, // the embedded database is open, requests are in flight
        delayMs: 200,
      },
    );
    t.diagnostic(`exited ${Math.round(stopped.afterSignalMs)} ms after SIGTERM with ${stopped.code}`);
    assert.ok(fake.requests.length > 0, 'it was fetching');
    assert.ok(stopped.afterSignalMs < 2500, `exited ${Math.round(stopped.afterSignalMs)} ms after the signal`);
    assert.equal(stopped.code, 143, stopped.stderr);
    assert.match(stopped.stderr, /stopped by SIGTERM/);
    assert.ok(!stopped.stderr.includes(TEST_TOKEN));
  });

  for (const c of cases) {
    it(`gridstream ${c.argv('<2 M-step document>').join(' ')} on ${c.signal}`, async (t) => {
      const dir = await tempDir();
      t.after(() => dir.remove());
      const file = join(dir.path, 'big.xml');
      await writeFile(file, big);
      const stopped = await interrupt(c.argv(file), c.signal);
      t.diagnostic(`exited ${Math.round(stopped.afterSignalMs)} ms after ${c.signal} with ${stopped.code}`);
      assert.ok(stopped.afterSignalMs < 2500, `exited ${Math.round(stopped.afterSignalMs)} ms after the signal`);
      assert.equal(stopped.code, c.code, stopped.stderr);
      assert.match(stopped.stderr, new RegExp(`stopped by ${c.signal}`));
      assert.doesNotMatch(stopped.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('CLI: a command that ignores its signal is given up on', () => {
  it('runCli answers 143 within the grace when the command never stops', async () => {
    const stubborn: Command = {
      name: 'stubborn',
      summary: 'never stops',
      usage: 'stubborn',
      run: () => new Promise<number>(() => undefined),
    };
    const controller = new AbortController();
    const err = sink();
    const running = runCli(['stubborn'], [stubborn], {
      env: {},
      stdout: sink().stream,
      stderr: err.stream,
      signal: controller.signal,
      cwd: ROOT,
    });
    const signalled = performance.now();
    controller.abort(new StopSignal('SIGTERM'));
    const code = await running;
    const ms = performance.now() - signalled;
    assert.equal(code, 143);
    assert.ok(ms >= CLI_STOP_GRACE_MS - 50 && ms < CLI_STOP_GRACE_MS + 1000, `gave up after ${Math.round(ms)} ms`);
    assert.match(err.text(), /stubborn: stopped by SIGTERM \(it did not finish stopping within 1500 ms; exiting\)/);
  });
});
