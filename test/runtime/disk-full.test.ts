import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { LogError } from '../../src/log/index.ts';
import { createMetrics } from '../../src/observability/index.ts';
import { DiskFullMonitor } from '../../src/runtime/disk-full.ts';
import { StorageError } from '../../src/storage/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { freePort, kafkaBrokers, tempDir, uniqueName } from '../helpers/services.ts';
import { havePgBinaries, startPrivateCluster } from '../storage/private-cluster.ts';
import type { LaunchedGridstream } from '../helpers/cli.ts';
import { launchGridstream } from '../helpers/cli.ts';

/**
 * A full disk under a steady load of meter readings: the data directory of the embedded default (PGlite and the
 * embedded log), and the data directory of a private PostgreSQL cluster, each on a small tmpfs of its own that a
 * filler file fills up. Writes fail with `log.disk_full` / `db.disk_full` (retryable), counted in
 * `gridstream_disk_full_errors_total`; the process keeps running and answers /readyz 503 (`checks.disk`); the gateway
 * acknowledges nothing it could not write; once the filler goes, work resumes and every acknowledged reading is stored.
 */

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'gridstream.js');
const KEY = 'gs_disk_full_admin_key_Rk4Tq9Wm2Zp7Lx3Nv8';
const METERS = 12;
const DAYS = 4;
const FROM = Date.parse('2026-11-02T00:00:00Z');

type Proc = LaunchedGridstream;
const launch = (args: readonly string[], env: Record<string, string>): Proc =>
  launchGridstream(args, { GRIDSTREAM_LOG_FORMAT: 'json', ...env });

/**
 * Cleanups run last-in first-out after the test (node:test runs `after` hooks in the order registered, but the
 * processes on a tmpfs must stop before it is unmounted): `defer` pushes one.
 */
function cleanups(t: TestContext): (fn: () => Promise<unknown>) => void {
  const stack: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse())
      await fn().catch((error: unknown) => {
        t.diagnostic(`cleanup: ${String(error)}`);
      });
  });
  return (fn) => {
    stack.push(fn);
  };
}

/** Mounting a tmpfs needs root: without it the test fails under GRIDSTREAM_TEST_REQUIRE_SERVICES=1, else it skips. */
function asRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  const message = 'mounting a small tmpfs needs root';
  if (process.env['GRIDSTREAM_TEST_REQUIRE_SERVICES'] === '1')
    throw new Error(`${message}; GRIDSTREAM_TEST_REQUIRE_SERVICES=1 forbids skipping`);
  t.skip(message);
  return false;
}

/** A tmpfs of `mib` MiB on a new temp dir, unmounted and removed at cleanup. Root only. */
async function smallTmpfs(defer: (fn: () => Promise<unknown>) => void, mib: number): Promise<string> {
  const dir = await tempDir('gridstream-full-');
  defer(() => dir.remove());
  await run('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=1777`, 'tmpfs', dir.path]);
  defer(() => run('umount', [dir.path]));
  return dir.path;
}

/** Writes zeros into `file` until the device is full (ENOSPC); returns the bytes written. */
async function fill(file: string): Promise<number> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  let written = 0;
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk);
      written += bytesWritten;
      if (bytesWritten < chunk.length) break;
    }
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC', String(error));
  } finally {
    await handle.close().catch(() => undefined);
  }
  return written;
}

/** One batch per meter and day: 96 readings with values that say where they belong. */
function batches(): { meter: string; lines: string[]; values: Map<string, number> }[] {
  const out = [];
  for (let day = 0; day < DAYS; day++)
    for (let m = 1; m <= METERS; m++) {
      const meter = `full-${String(m).padStart(3, '0')}`;
      const values = new Map<string, number>();
      const lines = Array.from({ length: 96 }, (_, q) => {
        const ts = new Date(FROM + (day * 96 + q) * 900_000).toISOString().replace('.000Z', 'Z');
        const value = ((((day * 96 + q) * 7 + m * 13) % 997) / 1000 + 0.001).toFixed(4);
        values.set(ts, Number(value));
        return JSON.stringify({
          deviceId: meter,
          kind: 'smart_meter',
          ts,
          quantity: 'energy_import',
          value: Number(value),
          unit: 'kWh',
        });
      });
      out.push({ meter, lines, values });
    }
  return out;
}

interface Ready {
  status: string;
  checks?: Record<string, string>;
}

async function readyz(base: string): Promise<{ status: number; body: Ready | undefined }> {
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as Ready };
  } catch {
    return { status: 0, body: undefined };
  }
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  proc: Proc,
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    assert.equal(proc.child.exitCode, null, `gridstream exited while waiting for ${what}:\n${proc.stderr()}`);
    assert.ok(Date.now() < deadline, `${what} did not happen within ${timeoutMs} ms:\n${proc.stderr().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const api = async <T>(base: string, path: string): Promise<T> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
};

async function diskFullCount(base: string, system: string): Promise<number> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`gridstream_disk_full_errors_total{system="${system}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/**
 * The scenario on a running gridstream (`api` and `ingest` roles among its roles): a steady load, the disk filled,
 * the failure seen, the load kept up, the space freed, everything acknowledged stored.
 */
async function scenario(
  proc: Proc,
  ports: { api: number; ingest: number },
  fillDir: string,
  systems: readonly ('log' | 'db')[],
): Promise<string> {
  const base = `http://127.0.0.1:${ports.api}`;
  await until('ready', async () => ((await readyz(base)).status === 200 ? true : undefined), proc);
  const all = batches();
  const acked: typeof all = [];
  let refused = 0;
  const refusals = new Set<string>();
  let attemptsAfterFull = -1;
  // The load waits at a quarter until the disk is full, so that writes meet the full disk however fast or slow the
  // machine is (on a busy machine the rest of the load could otherwise be acknowledged before the filler is done).
  let diskFilled: () => void = () => undefined;
  const filledGate = new Promise<void>((resolve) => {
    diskFilled = resolve;
  });
  // The steady load: one meter-day per request, in order; a batch that is not acknowledged is sent again.
  const load = (async () => {
    for (const batch of all) {
      if (acked.length >= all.length / 4) await filledGate;
      for (;;) {
        if (attemptsAfterFull >= 0) attemptsAfterFull += 1;
        const res = await fetch(`http://127.0.0.1:${ports.ingest}/ingest/meters`, {
          method: 'POST',
          body: `${batch.lines.join('\n')}\n`,
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${KEY}` },
        }).catch((error: unknown) => ({ status: 0, text: () => Promise.resolve(String(error)) }));
        const text = await res.text();
        if (res.status === 200) {
          assert.equal((JSON.parse(text) as { accepted: number }).accepted, 96, text);
          acked.push(batch);
          break;
        }
        assert.equal(res.status, 503, `only "try again" while the disk is full: ${text}`);
        refused += 1;
        refusals.add(/\((\w+\.\w+)\)/.exec(text)?.[1] ?? text.slice(0, 80));
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  await until(
    'a quarter of the load acknowledged',
    () => Promise.resolve(acked.length >= all.length / 4 ? true : undefined),
    proc,
  );
  const filler = join(fillDir, 'filler');
  const filled = await fill(filler);
  diskFilled();
  // Detected: readiness names the full disk, the counter moves, the process runs on.
  const seen = await until(
    'the full disk reported',
    async () => {
      const r = await readyz(base);
      return r.status === 503 && (r.body?.checks?.['disk'] ?? '').includes('disk_full') ? r.body : undefined;
    },
    proc,
  );
  const counts = await Promise.all(systems.map(async (system) => `${system} ${await diskFullCount(base, system)}`));
  assert.ok(
    counts.some((c) => !c.endsWith(' 0')),
    `gridstream_disk_full_errors_total counts the refused writes: ${counts.join(', ')}`,
  );
  attemptsAfterFull = 0;
  await until(
    'the load kept up against the full disk',
    () => Promise.resolve(attemptsAfterFull >= 5 || acked.length === all.length ? true : undefined),
    proc,
  );
  assert.equal(proc.child.exitCode, null, 'still running with a full disk');
  await unlink(filler);
  await load;
  await until('ready again', async () => ((await readyz(base)).status === 200 ? true : undefined), proc);
  // Everything acknowledged is stored: the meters group has committed all there is, and every value is there.
  await until(
    'the meters group caught up',
    async () => {
      const lag = await api<{ groups: { group: string; lag: number }[] }>(base, '/api/v1/admin/lag');
      const meters = lag.groups.find((g) => g.group.endsWith('gridstream-meters'));
      return meters !== undefined && meters.lag === 0 ? true : undefined;
    },
    proc,
  );
  const to = new Date(FROM + DAYS * 86_400_000).toISOString();
  for (const meter of new Set(acked.map((b) => b.meter))) {
    const want = new Map(acked.filter((b) => b.meter === meter).flatMap((b) => [...b.values]));
    await until(
      `every acknowledged reading of ${meter} stored`,
      async () => {
        const got = await api<{ points: { ts: string; value: string | null }[] }>(
          base,
          `/api/v1/meters/${meter}/readings?from=${new Date(FROM).toISOString()}&to=${to}&resolution=PT15M`,
        );
        const stored = new Map(
          got.points.map((p) => [p.ts.replace('.000Z', 'Z'), p.value === null ? null : Number(p.value)]),
        );
        return [...want].every(([ts, v]) => stored.get(ts) === v) ? true : undefined;
      },
      proc,
      60_000,
    );
  }
  assert.equal(acked.length, all.length);
  const finalCounts = await Promise.all(
    systems.map(async (system) => `${system} ${await diskFullCount(base, system)}`),
  );
  proc.child.kill('SIGTERM');
  assert.equal(await proc.exited, 0, proc.stderr().slice(-4000));
  return `filled ${Math.round(filled / 1048576)} MiB; readiness said "${seen.checks?.['disk'] ?? ''}"; disk-full errors counted when detected: ${counts.join(', ')}, in all: ${finalCounts.join(', ')}; ${refused} requests refused with 503 (${[...refusals].join(', ') || 'none'}); ${acked.length * 96} readings acknowledged and stored`;
}

describe('a full disk: clear retryable errors, a metric, not ready, nothing acknowledged lost, resumes with space', () => {
  it('counts disk-full errors of the log and the database and holds readiness while they happen', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let now = 1_000_000;
    const monitor = new DiskFullMonitor(metrics, { holdMs: 30_000, now: () => now });
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const log = monitor.observe('log', {
      produce: () => Promise.reject(new LogError('log.disk_full', 'could not append', { cause: enospc })),
      other: () => Promise.reject(new LogError('log.closed', 'closed')),
    });
    await assert.rejects(
      log.produce(),
      (e: unknown) => e instanceof LogError && e.code === 'log.disk_full' && e.retryable,
    );
    await assert.rejects(log.other(), /closed/);
    monitor.seen('db', new StorageError('db.disk_full', 'could not extend file', { sqlState: '53100' }));
    monitor.seen('db', new StorageError('db.conflict', 'deadlock'));
    const text = await metrics.registry.metrics();
    assert.match(text, /gridstream_disk_full_errors_total\{system="log"\} 1/);
    assert.match(text, /gridstream_disk_full_errors_total\{system="db"\} 1/);
    const ready = monitor.readiness(() =>
      Promise.resolve({ ready: true, state: 'running', components: [], checks: {} }),
    );
    const held = await ready({ signal: AbortSignal.timeout(1000) });
    assert.equal(held.ready, false);
    assert.equal(held.checks?.['disk'], 'log full (log.disk_full), db full (db.disk_full)');
    now += 30_000;
    assert.equal(
      (await ready({ signal: AbortSignal.timeout(1000) })).ready,
      true,
      'ready once no write failed for 30 s',
    );
  });

  it(
    'embedded default (PGlite + embedded log) with its data dir on a 160 MiB tmpfs',
    { timeout: 600_000 },
    async (t) => {
      if (!asRoot(t)) return;
      const defer = cleanups(t);
      const dir = await smallTmpfs(defer, 160);
      const ports = { api: await freePort(), ingest: await freePort() };
      const proc = launch(['start'], {
        GRIDSTREAM_DATA_DIR: join(dir, 'data'),
        GRIDSTREAM_PORT: String(ports.api),
        GRIDSTREAM_INGEST_PORT: String(ports.ingest),
        GRIDSTREAM_ADMIN_KEY: KEY,
        GRIDSTREAM_SIMULATED_METERS: '0',
        GRIDSTREAM_REPLAY_INTERVAL_MS: '600000',
        GRIDSTREAM_METERS_UNKNOWN: 'register',
      });
      defer(async () => {
        if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
        await proc.exited;
      });
      t.diagnostic(await scenario(proc, ports, dir, ['log', 'db']));
      const verify = await run(process.execPath, [BIN, 'log', 'verify'], {
        env: { PATH: process.env['PATH'] ?? '', GRIDSTREAM_DATA_DIR: join(dir, 'data') },
      });
      assert.match(verify.stdout, /ok: every record frame is valid/);
    },
  );

  it(
    'PostgreSQL (a private cluster with its data dir on a 256 MiB tmpfs), Kafka for the log',
    { timeout: 600_000 },
    async (t) => {
      const brokers = kafkaBrokers(t);
      if (brokers === undefined) return;
      assert.ok(await havePgBinaries(), 'PostgreSQL server binaries (postgresql-15)');
      if (!asRoot(t)) return;
      const defer = cleanups(t);
      const dir = await smallTmpfs(defer, 256);
      const cluster = await startPrivateCluster({}, { parentDir: dir });
      defer(() => cluster.remove());
      const namespace = uniqueName('full')
        .replace(/[^a-z0-9_]/g, '_')
        .toLowerCase();
      const data = await tempDir('gridstream-full-data-');
      defer(() => data.remove());
      const ports = { api: await freePort(), ingest: await freePort() };
      const proc = launch(['run', 'store,meters,ingest,api'], {
        GRIDSTREAM_DATA_DIR: data.path,
        GRIDSTREAM_PORT: String(ports.api),
        GRIDSTREAM_INGEST_PORT: String(ports.ingest),
        GRIDSTREAM_ADMIN_KEY: KEY,
        GRIDSTREAM_NAMESPACE: namespace,
        GRIDSTREAM_METERS_UNKNOWN: 'register',
        DATABASE_URL: cluster.url,
        KAFKA_BROKERS: brokers.join(','),
      });
      defer(async () => {
        if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
        await proc.exited;
        const admin = new Admin({ clientId: 'gridstream-test-cleanup', bootstrapBrokers: brokers });
        try {
          const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`));
          if (topics.length > 0) await admin.deleteTopics({ topics });
        } finally {
          await admin.close();
        }
      });
      t.diagnostic(await scenario(proc, ports, dir, ['db']));
    },
  );
});
