import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';

/** The gridstream processes of bench/meters.ts: launch, stop, RSS, readiness, the meters group's progress. */

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'gridstream.js');
export const KEY = 'gs_bench_admin_key_Qh4Tz8Wm2Rx6Np9Lc3Vb';
/** Node options of the gridstream processes (`--node-options=…`). */
const NODE_OPTIONS = process.argv.find((a) => a.startsWith('--node-options='))?.slice('--node-options='.length);
/** `--log-dir=DIR`: the processes log at debug level to DIR/<name>.log (e.g. the meters role's phases per batch). */
const LOG_DIR = process.argv.find((a) => a.startsWith('--log-dir='))?.slice('--log-dir='.length);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (s: string): void =>
  void process.stderr.write(`# meters ${new Date().toISOString().slice(11, 19)} ${s}\n`);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
      });
    });
  });
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
  maxRssKb: number;
}

export function launch(name: string, args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      GRIDSTREAM_LOG_LEVEL: LOG_DIR === undefined ? 'warn' : 'debug',
      // e.g. `--max-old-space-size=384`, to tell a growing heap from a lazy garbage collector.
      ...(NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  if (LOG_DIR !== undefined) child.stderr.pipe(createWriteStream(join(LOG_DIR, `${name}.log`), { flags: 'a' }));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  return { name, child, exited, stderr: () => err, maxRssKb: 0 };
}

export async function runToEnd(args: readonly string[], env: Record<string, string>): Promise<void> {
  const p = launch('cli', args, env);
  const code = await p.exited;
  if (code !== 0) throw new Error(`gridstream ${args.join(' ')} failed (${code}):\n${p.stderr()}`);
}

/** SIGTERM, then SIGKILL if it does not stop within 30 s (only the processes this bench started). */
export async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(timer);
}

export function rssKb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

export async function api<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function waitReady(base: string, procs: readonly Proc[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    for (const p of procs) if (p.child.exitCode !== null) throw new Error(`${p.name} exited:\n${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`not up within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export interface LagAnswer {
  groups: { group: string; topic: string; partitions: { end: number; committed: number | null }[] }[];
}

/** The meters group's progress on raw.meters (records in the log, records committed); zeros before it exists. */
export async function progress(base: string): Promise<{ end: number; committed: number }> {
  const lag = await api<LagAnswer>(base, '/api/v1/admin/lag');
  const g = lag.groups.find((x) => x.group.endsWith('gridstream-meters') && x.topic.endsWith('raw.meters'));
  return {
    end: g?.partitions.reduce((n, p) => n + p.end, 0) ?? 0,
    committed: g?.partitions.reduce((n, p) => n + (p.committed ?? 0), 0) ?? 0,
  };
}

export async function deleteTopics(brokers: string, ns: string): Promise<void> {
  const admin = new Admin({ clientId: 'gridstream-bench-cleanup', bootstrapBrokers: brokers.split(',') });
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${ns}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (error) {
    log(`deleting topics of ${ns} failed: ${String(error)}`);
  } finally {
    await admin.close();
  }
}
