/**
 * Measures the resident memory of every role of a distributed deployment, for the Kubernetes resource requests
 * (deploy/k8s/README.md records the figures). Each role runs in its own `gridstream run <role>` process on Kafka
 * (KAFKA_BROKERS) and PostgreSQL (DATABASE_URL) in a namespace of its own, under load: the offline replay of the
 * bundled ENTSO-E documents (scheduler → process → store) and a simulated meter fleet posted to the ingest gateway
 * (ingest → meters → quality, settle, alerts). VmRSS is sampled from /proc every second; VmHWM is the peak.
 * At the end every process gets SIGTERM, and the namespace's schema and topics are dropped.
 *
 * usage: KAFKA_BROKERS=… DATABASE_URL=… node scripts/measure-role-rss.ts [--meters 2000] [--days 3]
 * Prints one JSON line per role: {"role", "rssMiB" (at the end), "maxRssMiB" (sampled), "hwmMiB" (VmHWM), the load,
 * "sentSeconds" (sending the fleet), "drainedSeconds" (until every consumer group had committed everything)}.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { ROLES } from '../src/runtime/index.ts';
import type { Role } from '../src/runtime/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { openDb } from '../src/storage/index.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'gridstream.js');
const KEY = 'gs_rss_admin_key_Qw8Zr3Lp6Nv2Xk9Tb4Hm7';

const { values } = parseArgs({ options: { meters: { type: 'string' }, days: { type: 'string' } } });
const meters = Number(values.meters ?? '2000');
const days = Number(values.days ?? '3');
const brokers = process.env['KAFKA_BROKERS'];
const url = process.env['DATABASE_URL'];
if (brokers === undefined || url === undefined) throw new Error('KAFKA_BROKERS and DATABASE_URL must be set');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

function status(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

function run(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', GRIDSTREAM_LOG_LEVEL: 'warn', GRIDSTREAM_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function toEnd(args: readonly string[], env: Record<string, string>): Promise<void> {
  const child = run(args, env);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`gridstream ${args.join(' ')} exited with ${String(code)}`);
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a role exited while starting (${String(child.exitCode)})`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gridstream-rss-'));
const namespace = `rss_${process.pid}`;
const env: Record<string, string> = {
  GRIDSTREAM_NAMESPACE: namespace,
  GRIDSTREAM_ADMIN_KEY: KEY,
  DATABASE_URL: url,
  KAFKA_BROKERS: brokers,
  GRIDSTREAM_REPLAY_INTERVAL_MS: '200',
  GRIDSTREAM_SIMULATED_METERS: '0',
};
let ingestUrl = '';
const procs = new Map<
  Role,
  { child: ChildProcess; port: number; maxRss: number; last: { rss: number; hwm: number } }
>();
try {
  await toEnd(['migrate'], { ...env, GRIDSTREAM_DATA_DIR: join(dir, 'migrate') });
  const fleet = join(dir, 'fleet.csv');
  const sim = ['simulate', 'meters', '--count', String(meters), '--seed', '3'];
  await toEnd([...sim, '--from', '2026-11-02', '--to', '2026-11-02T00:15:00+01:00', '--fleet', fleet], env);
  await toEnd(['meters', 'import', fleet], { ...env, GRIDSTREAM_DATA_DIR: join(dir, 'import') });
  for (const role of ROLES) {
    const port = await freePort();
    const roleEnv = {
      ...env,
      GRIDSTREAM_DATA_DIR: join(dir, role),
      GRIDSTREAM_PORT: String(role === 'api' ? port : await freePort()),
      GRIDSTREAM_METRICS_PORT: String(port),
      GRIDSTREAM_INGEST_PORT: String(await freePort()),
    };
    const child = run(['run', role], roleEnv);
    procs.set(role, { child, port, maxRss: 0, last: { rss: 0, hwm: 0 } });
    await waitReady(port, child);
    if (role === 'ingest') ingestUrl = `http://127.0.0.1:${roleEnv.GRIDSTREAM_INGEST_PORT}/ingest/meters`;
  }
  const sampler = setInterval(() => {
    for (const p of procs.values()) {
      if (p.child.pid === undefined || p.child.exitCode !== null) continue;
      p.last = status(p.child.pid);
      p.maxRss = Math.max(p.maxRss, p.last.rss);
    }
  }, 1000);
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, `${KEY}\n`);
  const to = new Date(Date.parse('2026-11-02T00:00:00+01:00') + days * 86_400_000).toISOString();
  const started = Date.now();
  await toEnd([...sim, '--from', '2026-11-02', '--to', to, '--target', ingestUrl, '--key-file', keyFile], env);
  const sentSeconds = Math.round((Date.now() - started) / 1000);
  // The downstream roles work through the backlog: until every consumer group has committed everything (at most
  // 15 minutes), then half a minute more for the quality, settle and alerts roles behind them.
  const apiPort = procs.get('api')?.port ?? 0;
  const deadline = Date.now() + 900_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/admin/lag`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    const body = (await res.json()) as { groups?: { lag: number }[] };
    const lag = (body.groups ?? []).reduce((n, g) => n + g.lag, 0);
    if ((res.ok && lag === 0) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const drainedSeconds = Math.round((Date.now() - started) / 1000);
  await new Promise((r) => setTimeout(r, 30_000));
  clearInterval(sampler);
  for (const [role, p] of procs) {
    const mib = (kib: number): number => Math.round(kib / 1024);
    console.log(
      JSON.stringify({
        role,
        rssMiB: mib(p.last.rss),
        maxRssMiB: mib(p.maxRss),
        hwmMiB: mib(p.last.hwm),
        meters,
        days,
        sentSeconds,
        drainedSeconds,
      }),
    );
  }
} finally {
  for (const p of procs.values()) p.child.kill('SIGTERM');
  await Promise.all(
    [...procs.values()].map((p) =>
      p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : Promise.resolve(),
    ),
  );
  const db = await openDb({ url, dataDir: dir, logger: silentLogger() });
  await db.exec(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
  await db.close();
  const admin = new Admin({ clientId: 'gridstream-rss-cleanup', bootstrapBrokers: brokers.split(',') });
  try {
    const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.close();
  }
  rmSync(dir, { recursive: true, force: true });
}
