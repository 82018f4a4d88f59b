import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect as tcpConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { Secret } from '../../src/config/index.ts';
import { mqttIngest } from '../../src/ingest/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { useEmbeddedInfra } from '../helpers/infra.ts';
import { publishReadingAndAwait, until } from '../helpers/ingest.ts';
import { freePort, tempDir, testMqttUrl } from '../helpers/services.ts';

/** A TCP proxy to the real broker `target` (so a test can make "the broker" vanish); `close` cuts every connection. */
function brokerProxy(target: URL): { readonly server: Server; close(): Promise<void> } {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 1883), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return {
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) r();
        else
          server.close(() => {
            r();
          });
      }),
  };
}

/** A logger whose warnings are counted. */
function countingLogger(): { logger: ReturnType<typeof createLogger>; warnings: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.includes('"level":"warn"')) lines.push(l);
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', format: 'json', destination }),
    warnings: () => lines,
  };
}

describe('MQTT ingest degrades instead of dying when the broker is unreachable', () => {
  const embedded = useEmbeddedInfra();

  it('starts anyway, reports degraded, warns at a bounded rate, and recovers once the broker is reachable', async (t) => {
    const broker = testMqttUrl();
    if (broker === undefined) {
      testMqttUrl(t);
      return;
    }
    const target = new URL(broker);
    const port = await freePort();
    const { logger, warnings } = countingLogger();
    const base = `gridstream-test/${randomUUID()}`;
    const input = mqttIngest(
      { ...embedded.infra, logger },
      { url: new Secret(`mqtt://127.0.0.1:${port}`), topic: `${base}/#`, group: `g${randomUUID().slice(0, 8)}` },
    );
    let proxy: ReturnType<typeof brokerProxy> | undefined;
    try {
      await input.start();
      assert.equal(input.state, 'running');
      assert.match(input.degraded ?? '', /MQTT broker/);
      await new Promise((r) => setTimeout(r, 6000));
      assert.ok(warnings().length <= 5, `${warnings().length} warnings in 6 s`);
      assert.ok(warnings().length >= 1, 'the outage is logged');
      assert.ok(warnings().every((w) => !w.includes(`127.0.0.1:${port}`) || !w.includes('@')));

      // The broker becomes reachable (a proxy to the real Mosquitto on the configured port).
      const reachable = brokerProxy(target);
      proxy = reachable;
      await new Promise<void>((r) => reachable.server.listen(port, '127.0.0.1', r));
      await until('the input to recover', () => input.degraded === undefined, 70_000);

      const device = await connectAsync(broker, { protocolVersion: 5 });
      try {
        await publishReadingAndAwait(embedded.infra, device, `${base}/meter-1`, {
          meterId: 'meter-recovered',
          value: 1.5,
        });
      } finally {
        await device.endAsync(true);
      }
    } finally {
      await input.stop();
      await proxy?.close();
    }
  });

  it('a broker lost after start: sixteen reconnecting connections warn a few times, not every second each', async (t) => {
    const broker = testMqttUrl();
    if (broker === undefined) {
      testMqttUrl(t);
      return;
    }
    const target = new URL(broker);
    const proxy = brokerProxy(target);
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    const { port } = proxy.server.address() as AddressInfo;
    const { logger, warnings } = countingLogger();
    const input = mqttIngest(
      { ...embedded.infra, logger },
      { url: new Secret(`mqtt://127.0.0.1:${port}`), topic: `gridstream-test/${randomUUID()}/#`, group: 'glost' },
    );
    try {
      await input.start();
      assert.equal(input.degraded, undefined);
      await proxy.close();
      await new Promise((r) => setTimeout(r, 8000));
      assert.match(String(input.degraded), /MQTT broker is down/);
      assert.ok(warnings().length <= 6, `${warnings().length} warnings in 8 s`);
    } finally {
      await input.stop();
    }
  });

  it('gridstream start with an unreachable broker: the API answers, /readyz is 503 naming the MQTT input, few warnings', async (t) => {
    const dir = await tempDir();
    const [apiPort, ingestPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'gridstream.js'), 'start'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        GRIDSTREAM_DATA_DIR: dir.path,
        GRIDSTREAM_PORT: String(apiPort),
        GRIDSTREAM_INGEST_PORT: String(ingestPort),
        GRIDSTREAM_MQTT_URL: 'mqtt://gridstream:s3cret-pass@127.0.0.1:1',
        GRIDSTREAM_LOG_FORMAT: 'json',
        GRIDSTREAM_ADMIN_KEY: 'gs_test_admin_key_0123456789abcdef0123456789',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    let exited: number | null | undefined;
    child.stdout.on('data', (d: Buffer) => output.push(d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString('utf8')));
    child.once('exit', (code) => (exited = code));
    try {
      await until(
        'the API to answer',
        async () => {
          assert.equal(exited, undefined, `gridstream exited (${String(exited)}):\n${output.join('').slice(-3000)}`);
          return fetch(`http://127.0.0.1:${apiPort}/healthz`).then(
            (r) => r.ok,
            () => false,
          );
        },
        60_000,
      );
      const startedAt = Date.now();
      const readyz = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
      assert.equal(readyz.status, 503);
      const body = (await readyz.json()) as { components: { name: string; degraded: string | null }[] };
      assert.match(body.components.find((c) => c.name === 'ingest-mqtt')?.degraded ?? '', /MQTT broker/);
      // The connectors status (API and dashboard) shows the MQTT input degraded too.
      const connectors = await fetch(`http://127.0.0.1:${apiPort}/api/v1/admin/connectors`, {
        headers: { authorization: 'Bearer gs_test_admin_key_0123456789abcdef0123456789' },
      });
      assert.equal(connectors.status, 200);
      const inputs = ((await connectors.json()) as { inputs: { name: string; degraded: string | null }[] }).inputs;
      assert.match(inputs.find((x) => x.name === 'ingest-mqtt')?.degraded ?? '', /MQTT broker/);
      const warningsBefore = output
        .join('')
        .split('\n')
        .filter((l) => l.includes('"level":"warn"') && l.includes('mqtt')).length;
      await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - startedAt))));
      assert.equal(exited, undefined, 'still running');
      const text = output.join('');
      const mqttWarnings = text.split('\n').filter((l) => l.includes('"level":"warn"') && l.includes('mqtt'));
      assert.ok(
        mqttWarnings.length <= 10,
        `${mqttWarnings.length} MQTT warnings in about 20 s (${warningsBefore} at first)`,
      );
      assert.ok(!text.includes('s3cret-pass'), 'the broker password is never logged');
      t.diagnostic(`${mqttWarnings.length} MQTT warnings in about 20 s`);
    } finally {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        if (exited === undefined)
          child.once('exit', () => {
            r();
          });
        else r();
      });
      await dir.remove();
    }
  });
});
