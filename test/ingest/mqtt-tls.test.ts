import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { errorCode, isRetryable } from '../../src/common/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { mqttIngest } from '../../src/ingest/index.ts';
import { useEmbeddedInfra } from '../helpers/infra.ts';
import { publishReadingAndAwait, until } from '../helpers/ingest.ts';
import { binaryPath, freePort } from '../helpers/services.ts';
import type { TestPki } from '../helpers/tls.ts';
import { makeTestPki } from '../helpers/tls.ts';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

/** A Mosquitto of the test's own with one TLS listener on 127.0.0.1 (the shared one on 1883 stays untouched). */
async function tlsMosquitto(binary: string, pki: TestPki) {
  const port = await freePort();
  const conf = join(pki.dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${pki.caFile}`,
      `certfile ${pki.server.certFile}`,
      `keyfile ${pki.server.keyFile}`,
      'allow_anonymous true',
      'persistence false',
      // Started as root it would switch to the mosquitto user, who cannot read the test's key.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const open = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
  await until('mosquitto listening', async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    return open();
  });
  return {
    url: `mqtts://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('MQTT over TLS (a private Mosquitto with a TLS listener)', () => {
  const embedded = useEmbeddedInfra();
  let pki: TestPki | undefined;
  let broker: Awaited<ReturnType<typeof tlsMosquitto>> | undefined;

  before(async () => {
    const binary = await binaryPath(undefined, MOSQUITTO, 'mosquitto', 'apt-get install mosquitto');
    pki = await makeTestPki();
    if (binary === undefined || pki === undefined) return;
    broker = await tlsMosquitto(binary, pki);
  });
  after(async () => {
    await broker?.stop();
    await pki?.remove();
  });

  async function setup(t: TestContext) {
    if ((await binaryPath(t, MOSQUITTO, 'mosquitto', 'apt-get install mosquitto')) === undefined) return undefined;
    if ((await binaryPath(t, ['/usr/bin/openssl'], 'openssl', 'apt-get install openssl')) === undefined)
      return undefined;
    assert.ok(pki !== undefined && broker !== undefined, 'the private mosquitto started');
    return { pki, broker };
  }

  it('the ingest subscriber, configured with mqtts:// and GRIDSTREAM_MQTT_CA_FILE, receives a reading', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const config = loadConfig({ GRIDSTREAM_MQTT_URL: s.broker.url, GRIDSTREAM_MQTT_CA_FILE: s.pki.caFile });
    assert.ok(config.mqttUrl !== null && config.transport.mqttCa !== null);
    const base = `gridstream-tls/${randomUUID()}`;
    const input = mqttIngest(embedded.infra, {
      url: config.mqttUrl,
      ca: config.transport.mqttCa,
      topic: `${base}/#`,
      group: `g${randomUUID().slice(0, 8)}`,
      connections: 2,
    });
    await input.start();
    t.after(() => input.stop());
    assert.equal(input.degraded, undefined);

    const device = await connectAsync(s.broker.url, { protocolVersion: 5, ca: s.pki.ca });
    t.after(() => device.endAsync(true));
    await publishReadingAndAwait(embedded.infra, device, `${base}/meter-1`, { meterId: 'meter-over-tls', value: 2.5 });
  });

  it('without the CA (or with another one) the subscriber fails at start with mqtt.tls_failed, not retrying', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const configs = [
      loadConfig({ GRIDSTREAM_MQTT_URL: s.broker.url }),
      loadConfig({ GRIDSTREAM_MQTT_URL: s.broker.url, GRIDSTREAM_MQTT_CA_FILE: s.pki.otherCaFile }),
    ];
    for (const config of configs) {
      assert.ok(config.mqttUrl !== null);
      const input = mqttIngest(embedded.infra, {
        url: config.mqttUrl,
        ca: config.transport.mqttCa,
        topic: `gridstream-tls/${randomUUID()}/#`,
        group: `g${randomUUID().slice(0, 8)}`,
        connections: 1,
      });
      const error = await input.start().then(
        () => assert.fail('subscribed to a broker whose certificate is not trusted'),
        (e: unknown) => e,
      );
      await input.stop();
      assert.equal(errorCode(error), 'mqtt.tls_failed', String(error));
      assert.equal(isRetryable(error), false);
      assert.match(String(error), /certificate is not trusted/);
    }
  });
});
