/**
 * What the browser tests share: `gridstream start` in embedded mode on a temporary data dir (its offline replay
 * storing the bundled real ENTSO-E documents), the dashboard built first, and Debian's Chromium contexts through
 * playwright-core with the page's console and errors collected.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { tempDir } from '../helpers/services.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RESULTS = join(ROOT, 'test-results', 'web');
export const ADMIN_KEY = 'browser-test-admin-Vk4Pz8Xq2Lm6Rt9Yw3Hn';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

export function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      resolve({ code, output });
    });
  });
}

/** The environment of the child: this one without anything that would leave embedded mode or the replay. */
function childEnv(
  dataDir: string,
  port: number,
  ingestPort: number,
  extra: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(GRIDSTREAM_|ENTSOE_|ELECTRICITYMAPS_)/.test(name) || name === 'DATABASE_URL' || name === 'KAFKA_BROKERS')
      continue;
    env[name] = value;
  }
  return {
    ...env,
    GRIDSTREAM_DATA_DIR: dataDir,
    GRIDSTREAM_PORT: String(port),
    GRIDSTREAM_INGEST_PORT: String(ingestPort),
    GRIDSTREAM_ADMIN_KEY: ADMIN_KEY,
    GRIDSTREAM_REPLAY_INTERVAL_MS: '1000',
    GRIDSTREAM_SHUTDOWN_GRACE_MS: '10000',
    ...extra,
  };
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gridstream exited with ${child.exitCode} before answering ${url}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function exited(child: ChildProcess, timeoutMs: number): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve('timeout');
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

export interface DashboardServer {
  readonly base: string;
  readonly ingestPort: number;
  readonly child: ChildProcess;
  /** The temporary directory (data dir and browser profiles), removed after the test. */
  readonly dir: string;
  /** Milliseconds from spawn to a healthy `/healthz`. */
  readonly upAfterMs: number;
  /** The environment the server runs with (to run other `gridstream` commands against the same data directory). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Builds the dashboard (if stale) and starts gridstream with `env` added, its output in test-results/web/`name`.log;
 * killed and its directory removed after the test.
 */
export async function startDashboardServer(
  t: TestContext,
  name: string,
  env: Readonly<Record<string, string>> = {},
): Promise<DashboardServer> {
  await mkdir(RESULTS, { recursive: true });
  const built = await run(process.execPath, ['scripts/build-web.ts', '--if-stale']);
  assert.equal(built.code, 0, `dashboard build failed:\n${built.output}`);
  t.diagnostic(built.output.trim());

  const dir = await tempDir('gridstream-web-');
  const [port, ingestPort] = [await freePort(), await freePort()];
  const log = createWriteStream(join(RESULTS, `${name}.log`));
  const started = Date.now();
  const serverEnv = childEnv(join(dir.path, 'data'), port, ingestPort, env);
  const child = spawn(process.execPath, ['bin/gridstream.js', 'start'], {
    cwd: ROOT,
    env: serverEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child, 10_000);
    }
    await dir.remove();
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/healthz`, child, 90_000);
  return { base, ingestPort, child, dir: dir.path, upAfterMs: Date.now() - started, env: serverEnv };
}

/** A fresh Chromium profile under `dir`; `locale` sets the browser's language (navigator.language, Intl). */
export async function newContext(
  executablePath: string,
  dir: string,
  options: { readonly viewport?: { width: number; height: number }; readonly locale?: string } = {},
): Promise<BrowserContext> {
  const userDataDir = join(dir, `profile-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(userDataDir, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1366, height: 900 },
    ...(options.locale === undefined ? {} : { locale: options.locale }),
  });
  profileDirs.set(context, userDataDir);
  return context;
}

const profileDirs = new WeakMap<BrowserContext, string>();

/**
 * Closes a browser context within 15 s; a Chromium that does not close by then is killed (its processes found by
 * their profile directory), so that a stuck browser fails its test instead of keeping the test file alive forever.
 */
export async function closeContext(context: BrowserContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    context.close().then(
      () => true,
      () => false,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, 15_000);
    }),
  ]);
  clearTimeout(timer);
  const dir = profileDirs.get(context);
  if (!closed && dir !== undefined) spawnSync('pkill', ['-9', '-f', dir]);
}

/** Collects the page's console lines into `log` and its uncaught errors into `errors` (and `log`). */
export function watch(page: Page, log: string[], errors: string[]): void {
  page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => {
    errors.push(e.message);
    log.push(`[pageerror] ${e.message}`);
  });
}

/**
 * Browser pages for one test on one server: `open(path)` starts a fresh Chromium profile (closed, or killed, when
 * the test ends) and goes to `base + path`; console lines go to `test-results/web/<name>-browser.log` and uncaught
 * page errors to `pageErrors` (assert it empty at the end).
 */
export async function browserPages(
  t: TestContext,
  options: { readonly name: string; readonly base: string; readonly executablePath: string },
): Promise<{
  open(path: string, viewport?: { width: number; height: number }): Promise<Page>;
  readonly pageErrors: string[];
}> {
  await mkdir(RESULTS, { recursive: true });
  const profiles = await tempDir(`gridstream-web-${options.name}-`);
  const contexts: BrowserContext[] = [];
  const browserLog: string[] = [];
  const pageErrors: string[] = [];
  t.after(async () => {
    for (const c of contexts) await closeContext(c);
    await writeFile(join(RESULTS, `${options.name}-browser.log`), browserLog.join('\n'));
    await profiles.remove();
  });
  return {
    pageErrors,
    async open(path, viewport) {
      const context = await newContext(options.executablePath, profiles.path, {
        locale: 'en-GB',
        ...(viewport === undefined ? {} : { viewport }),
      });
      contexts.push(context);
      const page = context.pages()[0] ?? (await context.newPage());
      watch(page, browserLog, pageErrors);
      await page.goto(`${options.base}${path}`);
      return page;
    },
  };
}

/** What a chart card exposes: `data-state`, `data-series`, `data-points`. */
export async function card(page: Page, name: string): Promise<{ state: string; series: number; points: number }> {
  return page.locator(`[data-card="${name}"]`).evaluate((el: HTMLElement) => ({
    state: el.dataset['state'] ?? '',
    series: Number(el.dataset['series'] ?? '0'),
    points: Number(el.dataset['points'] ?? '0'),
  }));
}
