import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { controlSocketPath } from '../../src/runtime/index.ts';
import type { CliResult, RunningInstance } from '../helpers/cli.ts';
import { gridstream, startInstance } from '../helpers/cli.ts';
import { FakeEntsoe, TEST_TOKEN } from '../helpers/fake-entsoe.ts';

/**
 * While `gridstream start` runs (embedded: it holds PGlite and the embedded log), every command that needs the
 * data directory runs inside it through the control socket — with the same output as when it is stopped.
 */
describe('commands while an embedded instance runs (control socket)', () => {
  let instance: RunningInstance;
  let env: Readonly<Record<string, string>>;
  let idle: Socket | undefined;

  /** Output without the parts that legitimately differ between two runs (timings). */
  const stable = (r: CliResult) => ({
    code: r.code,
    stdout: r.stdout.replace(/\(\d+ ms\)/g, '(… ms)'),
    stderr: r.stderr.replace(/\(\d+ ms\)/g, '(… ms)'),
  });

  before(async () => {
    instance = await startInstance();
    env = instance.env;
  });
  after(() => instance.close());

  it('the socket is the owner’s only (directory 0700, socket 0600)', async () => {
    const socket = controlSocketPath(env['GRIDSTREAM_DATA_DIR'] ?? '');
    assert.equal((await stat(join(socket, '..'))).mode & 0o777, 0o700);
    assert.equal((await stat(socket)).mode & 0o777, 0o600);
  });

  it('keys create / list / revoke work through the running instance', async () => {
    const created = await gridstream(['keys', 'create', '--role', 'reader', '--zones', 'FI', '--name', 'fi'], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^gs_[0-9a-f]{12}_[\w-]+\n$/);
    const id = /created key (\S+) \(reader, zones FI\)/.exec(created.stderr)?.[1];
    assert.ok(id !== undefined, created.stderr);
    const listed = await gridstream(['keys', 'list'], { env });
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`^${id} +reader +FI +active`, 'm'));
    assert.doesNotMatch(listed.stdout + listed.stderr, /gs_test_admin_key/, 'no secret printed');
    const revoked = await gridstream(['keys', 'revoke', id], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await gridstream(['keys', 'revoke', id], { env })).code, 1, 'a second revoke finds no active key');
  });

  it('migrate, export, dlq list and backfill --dry-run answer from the instance, never "locked"', async () => {
    for (const argv of [
      ['migrate'],
      ['export', '--zones', 'FI', '--metrics', 'generation_actual', '--from', '2023-05-08', '--to', '2023-05-09'],
      ['dlq', 'list', 'dlq-processing'],
      ['dlq', 'show', 'dlq-processing', '0', '999999'],
      ['backfill', '--from', '2024-01-01', '--to', '2024-01-02', '--zones', 'FI', '--documents', 'A75', '--dry-run'],
    ]) {
      const r = await gridstream(argv, { env });
      assert.doesNotMatch(r.stderr, /locked|in use by process|stack| {4}at /, `${argv.join(' ')}: ${r.stderr}`);
      assert.ok(r.code === 0 || (argv[1] === 'show' && r.code === 1), `${argv.join(' ')} → ${r.code}: ${r.stderr}`);
    }
  });

  it("a real backfill runs inside the instance (its process and store roles), with the client's token", async () => {
    const fake = await FakeEntsoe.start();
    try {
      const r = await gridstream(
        ['backfill', '--from', '2025-10-01', '--to', '2025-11-01', '--zones', 'SE_4', '--documents', 'A75'],
        { env: { ...env, ENTSOE_TOKEN: TEST_TOKEN, ENTSOE_BASE_URL: fake.url } },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1\/1 requests done \(0 already done before\), 0 failed/);
      assert.ok(fake.requests.length >= 1, 'fetched from the (fake) ENTSO-E service');
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(TEST_TOKEN), 'the token is never printed');
    } finally {
      await fake.close();
    }
  });

  it('refuses a command meant for another database, and an idle or broken client does not hurt the instance', async () => {
    const other = await gridstream(['keys', 'list'], {
      env: { ...env, DATABASE_URL: 'postgres://x@127.0.0.1:1/other' },
    });
    assert.equal(other.code, 2);
    assert.match(other.stderr, /DATABASE_URL differs from the running instance's/);
    const path = controlSocketPath(env['GRIDSTREAM_DATA_DIR'] ?? '');
    // A client that sends garbage gets a usage answer; one that hangs up mid-command cancels only its command.
    const garbage = await rawRequest(path, 'not json\n');
    assert.match(garbage, /"t":"exit","code":2/);
    const hangUp = connect(path);
    hangUp.write(`${JSON.stringify({ v: 1, argv: ['dlq', 'list', 'dlq-processing'], cwd: '/', env })}\n`);
    hangUp.destroy();
    // An idle connection stays open without a request (it must not hold the stop up: checked when the instance stops).
    idle = connect(path);
    assert.equal((await gridstream(['keys', 'list'], { env })).code, 0, 'the instance still answers');
  });

  it('a second start in the same data directory says it is already running, and how to proceed', async () => {
    const second = await gridstream(['start'], { env });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already running in .* \(process \d+\)/);
    assert.doesNotMatch(second.stderr, / {4}at /);
  });

  it('the output is the same when the instance is stopped', async () => {
    const commands = [
      ['keys', 'list'],
      ['migrate'],
      ['export', '--zones', 'FI', '--metrics', 'generation_actual', '--from', '2023-05-08', '--to', '2023-05-09'],
      ['dlq', 'list', 'dlq-processing'],
    ];
    const running = [];
    for (const argv of commands) running.push(stable(await gridstream(argv, { env })));
    const result = await instance.stop();
    assert.equal(result.code, 0, result.stderr);
    // The server cut the idle client when it stopped (else this waits until the test times out).
    const waiting = idle;
    if (waiting !== undefined && !waiting.closed) await new Promise((resolve) => waiting.once('close', resolve));
    const stopped = [];
    for (const argv of commands) stopped.push(stable(await gridstream(argv, { env })));
    assert.deepEqual(stopped, running);
  });
});

/** Sends `text` to the socket and collects the answer until the server closes the connection. */
function rawRequest(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.once('error', reject);
    socket.once('close', () => {
      resolve(answer);
    });
    socket.write(text);
  });
}
