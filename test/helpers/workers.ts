/**
 * gridstream worker processes for distributed tests: `node bin/gridstream.js run <roles>`, each with its own data
 * directory and health port, that can be killed with SIGKILL and started again with the same environment (the
 * same instance id, the same ports).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.ts';

const BIN = join(ROOT, 'bin', 'gridstream.js');

/**
 * What `/readyz` answered: its status and body; `down` when nothing listens (the process is gone); `no answer`
 * when it did not answer in time (a dependency check hanging).
 */
export type Readiness = { readonly status: number; readonly body: string } | { readonly status: 'down' | 'no answer' };

export class Worker {
  readonly name: string;
  readonly roles: string;
  /** Where `/readyz` and `/metrics` answer. */
  readonly healthUrl: string;
  readonly #env: Readonly<Record<string, string>>;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';
  /** How many times the process was started. */
  starts = 0;
  /** Exits nobody asked for (each followed by a restart, as a container's restart policy does). */
  readonly crashes: { readonly at: number; readonly code: number | null; readonly log: string }[] = [];
  #wanted = false;

  constructor(name: string, roles: string, healthPort: number, env: Readonly<Record<string, string>>) {
    this.name = name;
    this.roles = roles;
    this.healthUrl = `http://127.0.0.1:${healthPort}`;
    this.#env = env;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last 20 000 characters the process wrote to stderr (its logs), over all its starts. */
  logs(): string {
    return this.#stderr;
  }

  /** Its JSON log lines of level warn or above written between `from` and `to` (epoch ms). */
  warnings(from: number, to: number): { readonly time: number; readonly msg: string }[] {
    const out: { time: number; msg: string }[] = [];
    for (const line of this.#stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { time?: unknown; level?: unknown; msg?: unknown };
        const time = Date.parse(String(entry.time));
        // Levels are written as labels (src/observability/logger.ts).
        const serious = entry.level === 'warn' || entry.level === 'error' || entry.level === 'fatal';
        if (serious && time >= from && time <= to) out.push({ time, msg: String(entry.msg) });
      } catch {
        // A line cut by the 20 000-character window.
      }
    }
    return out;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    const child = spawn(process.execPath, [BIN, 'run', this.roles], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...this.#env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-20_000);
    });
    this.#child = child;
    this.#wanted = true;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve();
        if (!this.#wanted || this.#child !== child) return;
        // Restart policy: a worker that exits on its own (it could not reach the broker while starting, say) is
        // started again after a second.
        this.crashes.push({ at: Date.now(), code, log: this.#stderr.slice(-600) });
        setTimeout(() => {
          if (this.#wanted && this.#child === child) this.start();
        }, 1000);
      });
    });
  }

  /** SIGKILL: no graceful stop, no commit, no LeaveGroup. Resolves once the process is gone. */
  async kill(): Promise<void> {
    this.#wanted = false;
    if (!this.running) return;
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    this.#wanted = false;
    if (!this.running) return;
    this.#child?.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async readiness(timeoutMs = 2000): Promise<Readiness> {
    try {
      const res = await fetch(`${this.healthUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, body: await res.text() };
    } catch (error) {
      return { status: error instanceof DOMException && error.name === 'TimeoutError' ? 'no answer' : 'down' };
    }
  }

  /** The value of every sample of `metric` on `/metrics`, by its label text (`{source="…",status="…"}`). */
  async metric(metric: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      const res = await fetch(`${this.healthUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
      for (const line of (await res.text()).split('\n')) {
        if (!line.startsWith(metric)) continue;
        const m = /^[a-z_]+(\{[^}]*\})?\s+(\S+)$/.exec(line);
        if (m !== null) out.set(m[1] ?? '', Number(m[2]));
      }
    } catch {
      // Not answering: no samples.
    }
    return out;
  }

  /** Polls `/readyz` until it answers 200; fails with the process's logs after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.readiness();
      if (r.status === 200) return;
      if (!this.#wanted) throw new Error(`${this.name} was stopped while starting:\n${this.#stderr.slice(-4000)}`);
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name} not ready within ${timeoutMs} ms (${JSON.stringify(r)}):\n${this.#stderr.slice(-4000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
