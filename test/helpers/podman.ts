/**
 * Containers in tests: podman (Debian's, run as root with runc — see docs/DEPLOY.md), images built by
 * scripts/containers.sh, and podman-compose. Like the other services, a missing podman FAILS the suite under
 * GRIDSTREAM_TEST_REQUIRE_SERVICES=1 (`npm test`) and skips it, visibly, otherwise.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from './fixtures.ts';

const REQUIRED = process.env['GRIDSTREAM_TEST_REQUIRE_SERVICES'] === '1';

/** The global flags every podman call needs on these machines (crun refuses the hybrid cgroups). */
export const PODMAN_FLAGS = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'] as const;
/** Limits `podman run` must set explicitly (the sandbox refuses the defaults' setrlimit). */
export const RUN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'] as const;
/** The gridstream image the tests build and keep tagged (rebuilt from cached layers on every run). */
export const TEST_IMAGE = 'localhost/gridstream:test';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (no shell); output kept whole. Never throws for a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { readonly env?: Record<string, string>; readonly cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** `podman <flags> …args`. */
export function podman(args: readonly string[]): Promise<Run> {
  return run('podman', [...PODMAN_FLAGS, ...args]);
}

/** Like {@link podman}, but a non-zero exit throws with the command's stderr. */
export async function podmanOk(args: readonly string[]): Promise<string> {
  const r = await podman(args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${String(r.code)}:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(':'))
    if (dir !== '' && (await executable(join(dir, name)))) return true;
  return false;
}

/**
 * True when podman (as root, which building and running images here needs) and, with `compose`, podman-compose
 * are available; fails (CI) or skips (ad hoc) otherwise.
 */
export async function containersAvailable(t: TestContext, options: { compose?: boolean } = {}): Promise<boolean> {
  const wanted = ['podman', 'debootstrap', ...(options.compose === true ? ['podman-compose'] : [])];
  const absent: string[] = [];
  for (const name of wanted) if (!(await onPath(name))) absent.push(name);
  const root = process.getuid?.() === 0;
  if (absent.length === 0 && root) return true;
  const message =
    absent.length > 0
      ? `${absent.join(', ')} not installed (apt-get install podman runc debootstrap podman-compose)`
      : 'building and running images here needs root (rootful podman)';
  if (REQUIRED) throw new Error(`containers: ${message}; GRIDSTREAM_TEST_REQUIRE_SERVICES=1 forbids skipping`);
  t.skip(`containers: ${message}`);
  return false;
}

/**
 * Builds images with scripts/containers.sh (`image`, `services`): bases are made once and cached by tag, layers
 * are reused. Returns the tags it printed (`image`, `kafka`, `postgres`, `prometheus`).
 */
export async function buildImages(what: 'image' | 'services'): Promise<Record<string, string>> {
  const r = await run('bash', [join(ROOT, 'scripts', 'containers.sh'), what], {
    env: { GRIDSTREAM_IMAGE: TEST_IMAGE },
  });
  if (r.code !== 0)
    throw new Error(`scripts/containers.sh ${what} exited ${String(r.code)}:\n${r.stderr.slice(-6000)}`);
  const tags: Record<string, string> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) tags[line.slice(0, at)] = line.slice(at + 1);
  }
  return tags;
}

/** Polls `check` every `everyMs` until it returns a value; fails naming `what` after `ms` (a hang guard). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms: number,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The HTTP status of `url`, or undefined when nothing answers. */
export async function statusOf(url: string, init: RequestInit = {}): Promise<number | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}
