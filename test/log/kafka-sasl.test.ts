import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { errorCode, isRetryable } from '../../src/common/index.ts';
import type { Env } from '../../src/config/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Log } from '../../src/log/index.ts';
import { createKafkaLog } from '../../src/log/kafka/index.ts';
import { createLogger, createMetrics } from '../../src/observability/index.ts';
import { kafkaSecurityOptions, openInfrastructure } from '../../src/runtime/infrastructure.ts';
import { sink } from '../helpers/cli.ts';
import { privateBroker } from '../helpers/kafka-broker.ts';
import { binaryPath, freePort, kafkaBrokers, tempDir, uniqueName } from '../helpers/services.ts';
import type { TestPki } from '../helpers/tls.ts';
import { makeTestPki } from '../helpers/tls.ts';
import { collect, waitFor } from './contract.ts';

const USERS = {
  alice: { mechanism: 'PLAIN', password: 'alice-plain-pa55word' },
  bob: { mechanism: 'SCRAM-SHA-512', password: 'bob-scram512-pa55word' },
  carol: { mechanism: 'SCRAM-SHA-256', password: 'carol-scram256-pa55word' },
} as const;
type User = keyof typeof USERS;

/**
 * A private broker (own ports, own state dir; never the shared one) run by scripts/kafka.sh with, besides its
 * PLAINTEXT listener (readiness probe only), a SASL_SSL listener (PLAIN and SCRAM users, server certificate from the
 * test's CA) and an SSL listener that requires a client certificate.
 */
async function secureBroker(pki: TestPki, stateDir: string) {
  const [port, controllerPort, saslPort, mtlsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const keystore = join(stateDir, 'server-keystore.pem');
  await writeFile(keystore, pki.server.key + pki.server.cert);
  const extra = join(stateDir, 'secure.properties');
  await writeFile(
    extra,
    [
      `listeners=PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort},MTLS://127.0.0.1:${mtlsPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort},MTLS://127.0.0.1:${mtlsPort}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${keystore}`,
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="${USERS.alice.password}";`,
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.mtls.ssl.client.auth=required',
      'listener.name.mtls.ssl.truststore.type=PEM',
      `listener.name.mtls.ssl.truststore.location=${pki.caFile}`,
      '',
    ].join('\n'),
  );
  const broker = await privateBroker(stateDir, {
    ports: { port, controllerPort },
    env: {
      KAFKA_EXTRA_PROPERTIES: extra,
      KAFKA_FORMAT_SCRAM: [
        `SCRAM-SHA-512=[name=bob,password=${USERS.bob.password}]`,
        `SCRAM-SHA-256=[name=carol,password=${USERS.carol.password}]`,
      ].join('\n'),
    },
  });
  return { sasl: `127.0.0.1:${saslPort}`, mtls: `127.0.0.1:${mtlsPort}`, stop: () => broker.kafka('stop') };
}

describe('Kafka over SASL_SSL and mutual TLS (private broker)', () => {
  let pki: TestPki | undefined;
  let state: Awaited<ReturnType<typeof tempDir>> | undefined;
  let broker: Awaited<ReturnType<typeof secureBroker>> | undefined;
  let startError: unknown;

  before(async () => {
    // The shared broker's presence says this machine runs the Kafka suites; the private one needs java and the jars.
    if (kafkaBrokers() === undefined) return;
    pki = await makeTestPki();
    if (pki === undefined) return;
    state = await tempDir('gridstream-kafka-sasl-');
    try {
      broker = await secureBroker(pki, state.path);
    } catch (error) {
      startError = error;
    }
  });
  after(async () => {
    await broker?.stop();
    await state?.remove();
    await pki?.remove();
  });

  async function setup(t: TestContext) {
    if (kafkaBrokers(t) === undefined) return undefined;
    if ((await binaryPath(t, ['/usr/bin/openssl'], 'openssl', 'apt-get install openssl')) === undefined)
      return undefined;
    assert.equal(startError, undefined, `the private broker started: ${String(startError)}`);
    assert.ok(pki !== undefined && broker !== undefined);
    return { pki, broker };
  }

  /**
   * Opens the Kafka log as `gridstream` does: environment → loadConfig → the client's SASL/TLS options, with a
   * logger that has no secrets to scrub (so a leak into the log would show).
   */
  function open(env: Env, operationTimeoutMs = 30_000) {
    const config = loadConfig(env);
    const out = sink();
    const logger = createLogger({ level: 'trace', format: 'json', destination: out.stream });
    const options = {
      brokers: config.kafkaBrokers ?? [],
      clientId: 'kafka-sasl-test',
      logger,
      operationTimeoutMs,
      ...kafkaSecurityOptions(config.transport.kafka),
    };
    return { logText: out.text, log: () => createKafkaLog(options) };
  }

  async function roundTrip(log: Log): Promise<void> {
    const topic = uniqueName('sasl');
    await log.createTopics([{ name: topic, partitions: 1 }]);
    const values = ['one', 'two', 'three'];
    await log.produce(
      topic,
      values.map((v) => ({ key: 'k', value: new TextEncoder().encode(v) })),
    );
    const got = collect(log.consumer({ groupId: uniqueName('g'), topics: [topic] }), {
      commit: true,
    });
    await waitFor('the records consumed back', () => got.records.length >= values.length, 60_000);
    await got.close();
    assert.deepEqual(
      got.records.map((r) => new TextDecoder().decode(r.value)),
      values,
    );
  }

  for (const user of ['alice', 'bob', 'carol'] as const satisfies readonly User[]) {
    it(`${USERS[user].mechanism} over TLS: produce and consume through the Log; the password never logged`, async (t) => {
      const s = await setup(t);
      if (s === undefined) return;
      const passwordFile = join(s.pki.dir, `${user}.password`);
      await writeFile(passwordFile, `${USERS[user].password}\n`);
      const { log: openLog, logText } = open({
        KAFKA_BROKERS: s.broker.sasl,
        KAFKA_SASL_MECHANISM: USERS[user].mechanism,
        KAFKA_SASL_USERNAME: user,
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
        KAFKA_TLS_CA_FILE: s.pki.caFile,
      });
      const log = await openLog();
      try {
        await roundTrip(log);
      } finally {
        await log.close();
      }
      assert.ok(!logText().includes(USERS[user].password), 'the password is not in the log');
    });
  }

  it('openInfrastructure, what every role runs, creates its topics over SASL_SSL configured from the environment', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const dir = await tempDir('gridstream-kafka-sasl-infra-');
    t.after(() => dir.remove());
    const passwordFile = join(s.pki.dir, 'bob.password');
    await writeFile(passwordFile, USERS.bob.password);
    const namespace = uniqueName('ns').toLowerCase();
    const out = sink();
    const infra = await openInfrastructure(
      loadConfig({
        GRIDSTREAM_DATA_DIR: dir.path,
        GRIDSTREAM_NAMESPACE: namespace,
        KAFKA_BROKERS: s.broker.sasl,
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'bob',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
        KAFKA_TLS_CA_FILE: s.pki.caFile,
      }),
      createLogger({ level: 'debug', format: 'json', destination: out.stream }),
      createMetrics({ defaultMetrics: false }),
    );
    try {
      assert.equal(infra.mode, 'distributed');
      assert.ok((await infra.log.topics()).includes('raw.meters'));
    } finally {
      await infra.close();
    }
    assert.match(out.text(), /infrastructure ready/);
    assert.ok(!out.text().includes(USERS.bob.password));
  });

  it('a wrong password fails within seconds, not retryable, without the password in the error or the log', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const wrong = 'not-bobs-pa55word';
    for (const [user, mechanism] of [
      ['bob', 'SCRAM-SHA-512'],
      ['alice', 'PLAIN'],
    ] as const) {
      const { log, logText } = open({
        KAFKA_BROKERS: s.broker.sasl,
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: user,
        KAFKA_SASL_PASSWORD: wrong,
        KAFKA_TLS_CA_FILE: s.pki.caFile,
      });
      const error = await log().then(
        (l) => l.close().then(() => assert.fail(`${mechanism}: connected with a wrong password`)),
        (e: unknown) => e,
      );
      assert.equal(errorCode(error), 'kafka.failure', String(error));
      assert.equal(isRetryable(error), false, `${mechanism}: ${String(error)}`);
      assert.match(String(error), /authentication failed/i);
      const everything = `${String(error)} ${JSON.stringify(error)} ${logText()}`;
      assert.ok(!everything.includes(wrong), `${mechanism}: the password is not in the error or log`);
    }
  });

  it('a client that does not trust the CA fails at once with kafka.tls_failed', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const password = join(s.pki.dir, 'alice.password');
    await writeFile(password, USERS.alice.password);
    const sasl = {
      KAFKA_BROKERS: s.broker.sasl,
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD_FILE: password,
    };
    for (const env of [
      { ...sasl, KAFKA_TLS: 'on' }, // Node's bundled CAs only
      { ...sasl, KAFKA_TLS_CA_FILE: s.pki.otherCaFile },
    ]) {
      const { log } = open(env);
      const error = await log().then(
        (l) => l.close().then(() => assert.fail('connected to a broker whose CA is not trusted')),
        (e: unknown) => e,
      );
      assert.equal(errorCode(error), 'kafka.tls_failed', String(error));
      assert.equal(isRetryable(error), false);
      assert.match(String(error), /certificate is not trusted/);
    }
  });

  it('mutual TLS: the client certificate from KAFKA_TLS_CERT_FILE/KEY_FILE is accepted, none is refused', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const withCert = open({
      KAFKA_BROKERS: s.broker.mtls,
      KAFKA_TLS_CA_FILE: s.pki.caFile,
      KAFKA_TLS_CERT_FILE: s.pki.client.certFile,
      KAFKA_TLS_KEY_FILE: s.pki.client.keyFile,
    });
    const log = await withCert.log();
    try {
      await roundTrip(log);
    } finally {
      await log.close();
    }
    assert.ok(!withCert.logText().includes('PRIVATE KEY'));
    // Refused, but only as a closed connection: under TLS 1.3 the broker rejects the missing certificate after the
    // client's side of the handshake is done, so the client sees no TLS error, only the socket closing (retryable).
    const without = open({ KAFKA_BROKERS: s.broker.mtls, KAFKA_TLS_CA_FILE: s.pki.caFile }, 5_000);
    const error = await without.log().then(
      (l) => l.close().then(() => assert.fail('connected without a client certificate')),
      (e: unknown) => e,
    );
    assert.match(errorCode(error), /^kafka\.(broker_unavailable|timeout)$/, String(error));
  });
});
