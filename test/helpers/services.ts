import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * Services the tests talk to. `npm test` (scripts/test.sh) starts them and sets GRIDSTREAM_TEST_REQUIRE_SERVICES=1:
 * then a missing service FAILS the suite. Run on its own (`node --test test/x.test.ts`) without the service, a
 * test is skipped with a visible reason — never silently.
 */
const REQUIRED = process.env['GRIDSTREAM_TEST_REQUIRE_SERVICES'] === '1';

function missing(t: TestContext | undefined, what: string, how: string): undefined {
  const message = `${what} is not available (${how})`;
  if (REQUIRED) throw new Error(`${message}; GRIDSTREAM_TEST_REQUIRE_SERVICES=1 forbids skipping`);
  t?.skip(message);
  return undefined;
}

/** Kafka bootstrap servers from `KAFKA_BROKERS`; fails (CI) or skips (ad hoc) when unset. */
export function kafkaBrokers(t?: TestContext): string[] | undefined {
  const brokers = process.env['KAFKA_BROKERS'];
  if (brokers === undefined || brokers.trim() === '') {
    missing(t, 'Kafka', 'set KAFKA_BROKERS or run `npm run kafka:start`');
    return;
  }
  return brokers.split(',').map((b) => b.trim());
}

/** A service URL from the environment variable `variable`; fails (CI) or skips (ad hoc) when unset. */
function serviceUrl(t: TestContext | undefined, variable: string, what: string, example: string): string | undefined {
  const url = process.env[variable];
  if (url === undefined || url.trim() === '') {
    missing(t, what, `set ${variable}, e.g. ${example}`);
    return;
  }
  return url;
}

/** PostgreSQL URL from `GRIDSTREAM_TEST_DATABASE_URL`; fails (CI) or skips (ad hoc) when unset. */
export function testDatabaseUrl(t?: TestContext): string | undefined {
  return serviceUrl(t, 'GRIDSTREAM_TEST_DATABASE_URL', 'PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test');
}

/** MQTT broker URL from `GRIDSTREAM_TEST_MQTT_URL`; fails (CI) or skips (ad hoc) when unset. */
export function testMqttUrl(t?: TestContext): string | undefined {
  return serviceUrl(t, 'GRIDSTREAM_TEST_MQTT_URL', 'MQTT', 'mqtt://127.0.0.1:1883 (Mosquitto)');
}

/** Path of Debian's Chromium for browser tests; fails (CI) or skips (ad hoc) when not installed. */
export async function chromiumPath(t?: TestContext): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  try {
    await access('/usr/bin/chromium');
    return '/usr/bin/chromium';
  } catch {
    missing(t, 'Chromium', 'apt-get install chromium');
    return;
  }
}

/** Path of Prometheus's `promtool` (Debian package `prometheus`); fails (CI) or skips (ad hoc) when missing. */
export async function promtoolPath(t?: TestContext): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  try {
    await access('/usr/bin/promtool');
    return '/usr/bin/promtool';
  } catch {
    missing(t, 'promtool', 'apt-get install prometheus');
    return;
  }
}

/** The first of `paths` that exists (a program such as openssl or mosquitto); fails (CI) or skips (ad hoc) when none. */
export async function binaryPath(
  t: TestContext | undefined,
  paths: readonly string[],
  what: string,
  how: string,
): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  for (const path of paths) {
    try {
      await access(path);
      return path;
    } catch {
      // Not here; try the next place.
    }
  }
  missing(t, what, how);
  return;
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(prefix = 'gridstream-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A name unique to this test run (topics, groups, schemas). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
