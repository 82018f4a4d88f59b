import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  ConfigError,
  SECRET_FILE_VARIABLES,
  VARIABLES,
  configSecrets,
  configTableMarkdown,
  loadConfig,
} from '../../src/config/index.ts';
import { kafkaSecurityOptions } from '../../src/runtime/infrastructure.ts';
import { gridstream } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

const DB_URL = 'postgres://gs:file-pa55word@127.0.0.1:5432/test';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** The problems of a configuration that must fail. */
function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('the configuration was accepted');
}

describe('secrets from files (<NAME>_FILE)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const file = (name: string) => join(dir.path, name);
  before(async () => {
    dir = await tempDir('gridstream-secret-files-');
    await writeFile(file('db-url'), `${DB_URL}\n`);
    await writeFile(file('entsoe'), 'entsoe-token-from-file');
    await writeFile(file('kafka-password'), 'kafka-pa55word\r\n');
    await writeFile(file('ca.pem'), PEM);
    await writeFile(file('not-pem'), 'hello');
  });
  after(async () => {
    await dir.remove();
  });

  it('every secret variable, and only those, has a _FILE twin, listed in --help and the README table', async () => {
    const secrets = Object.values(VARIABLES).filter((v) => v.secret === true);
    assert.deepEqual(
      SECRET_FILE_VARIABLES,
      secrets.map((v) => `${v.name}_FILE`),
    );
    for (const name of [
      'DATABASE_URL_FILE',
      'GRIDSTREAM_MQTT_URL_FILE',
      'ENTSOE_TOKEN_FILE',
      'ELECTRICITYMAPS_TOKEN_FILE',
      'GRIDSTREAM_ADMIN_KEY_FILE',
      'KAFKA_SASL_PASSWORD_FILE',
    ])
      assert.ok(SECRET_FILE_VARIABLES.includes(name), name);
    const table = configTableMarkdown();
    for (const name of SECRET_FILE_VARIABLES) assert.ok(table.includes(`\`${name}\``), `README table names ${name}`);
    const help = await gridstream(['--help']);
    for (const name of SECRET_FILE_VARIABLES) assert.match(help.stdout, new RegExp(`^  ${name}$`, 'm'));
  });

  it('reads the value from the file, one trailing newline (LF or CRLF) dropped', () => {
    const c = loadConfig({
      DATABASE_URL_FILE: file('db-url'),
      ENTSOE_TOKEN_FILE: file('entsoe'),
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'gridstream',
      KAFKA_SASL_PASSWORD_FILE: file('kafka-password'),
    });
    assert.equal(c.databaseUrl?.reveal(), DB_URL);
    assert.equal(c.entsoe.token?.reveal(), 'entsoe-token-from-file');
    assert.equal(c.transport.kafka.sasl?.password.reveal(), 'kafka-pa55word');
    // A value from a file is a secret like any other: redacted when printed, scrubbed from logs.
    assert.doesNotMatch(inspect(c, { depth: 6 }) + JSON.stringify(c), /file-pa55word|kafka-pa55word|from-file/);
    const revealed = configSecrets(c).map((s) => s.reveal());
    for (const s of [DB_URL, 'file-pa55word', 'entsoe-token-from-file', 'kafka-pa55word'])
      assert.ok(revealed.includes(s), s);
  });

  it('a value from a file is validated like one from the variable, without echoing it', async () => {
    await writeFile(file('bad-url'), 'mysql://user:s3cret-in-file@db/x\n');
    const e = problemsOf({ DATABASE_URL_FILE: file('bad-url') });
    assert.deepEqual(
      e.problems.map((p) => p.variable),
      ['DATABASE_URL'],
    );
    assert.doesNotMatch(e.message, /s3cret-in-file/);
  });

  it('both the variable and its _FILE set: an error naming both, never the value', () => {
    const e = problemsOf({ DATABASE_URL: DB_URL, DATABASE_URL_FILE: file('db-url') });
    assert.deepEqual(
      e.problems.map((p) => p.variable),
      ['DATABASE_URL_FILE'],
    );
    assert.match(e.message, /DATABASE_URL and DATABASE_URL_FILE are both set/);
    assert.doesNotMatch(e.message, /file-pa55word/);
  });

  it('an unreadable file: an error naming the variable and the path; all problems at once', async () => {
    const unreadable = file('unreadable');
    await writeFile(unreadable, 'x');
    await chmod(unreadable, 0o000);
    const e = problemsOf({
      ENTSOE_TOKEN_FILE: file('missing'),
      GRIDSTREAM_MQTT_URL_FILE: dir.path, // a directory
      GRIDSTREAM_PORT: 'eighty',
      ...(process.getuid?.() === 0 ? {} : { ELECTRICITYMAPS_TOKEN_FILE: unreadable }),
    });
    const byVariable = new Map(e.problems.map((p) => [p.variable, p.message]));
    assert.match(byVariable.get('ENTSOE_TOKEN_FILE') ?? '', /cannot read ".*missing" \(ENOENT\)/);
    assert.match(byVariable.get('GRIDSTREAM_MQTT_URL_FILE') ?? '', /cannot read .* \(EISDIR\)/);
    assert.ok(byVariable.has('GRIDSTREAM_PORT'));
    if (process.getuid?.() !== 0)
      assert.match(byVariable.get('ELECTRICITYMAPS_TOKEN_FILE') ?? '', /cannot read .* \(EACCES\)/);
  });

  it('an empty or blank file is an error, not "unset" (DATABASE_URL would fall back to the embedded database)', async () => {
    await writeFile(file('empty'), '');
    await writeFile(file('blank'), '  \n');
    const e = problemsOf({ DATABASE_URL_FILE: file('empty'), GRIDSTREAM_ADMIN_KEY_FILE: file('blank') });
    const byVariable = new Map(e.problems.map((p) => [p.variable, p.message]));
    assert.match(byVariable.get('DATABASE_URL_FILE') ?? '', /".*empty" is empty/);
    assert.match(byVariable.get('GRIDSTREAM_ADMIN_KEY_FILE') ?? '', /".*blank" is empty/);
  });

  it('a _FILE of a variable that is not a secret is not read', () => {
    // Only secrets have a file twin; GRIDSTREAM_PORT_FILE means nothing and leaves the default in place.
    assert.equal(loadConfig({ GRIDSTREAM_PORT_FILE: file('entsoe') }).port, 8080);
  });
});

describe('Kafka and MQTT transport settings', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const file = (name: string) => join(dir.path, name);
  before(async () => {
    dir = await tempDir('gridstream-transport-');
    await writeFile(file('ca.pem'), PEM);
    await writeFile(file('client.pem'), PEM);
    await writeFile(file('client.key'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    await writeFile(file('not-pem'), 'hello');
  });
  after(async () => {
    await dir.remove();
  });

  it('defaults: no SASL, no TLS, no MQTT CA', () => {
    const c = loadConfig({});
    assert.deepEqual(c.transport, { kafka: { sasl: null, tls: null }, mqttCa: null });
    assert.deepEqual(kafkaSecurityOptions(c.transport.kafka), {});
  });

  it('SASL and TLS with a CA and a client certificate become client options; secrets stay hidden', () => {
    const c = loadConfig({
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 'alice-pa55word',
      KAFKA_TLS_CA_FILE: file('ca.pem'),
      KAFKA_TLS_CERT_FILE: file('client.pem'),
      KAFKA_TLS_KEY_FILE: file('client.key'),
    });
    const options = kafkaSecurityOptions(c.transport.kafka);
    const sasl = options.sasl;
    assert.ok(sasl !== undefined);
    assert.equal(sasl.mechanism, 'PLAIN');
    assert.equal(sasl.username, 'alice');
    // The password is handed over as a function: no options object holds it as a string.
    assert.equal(typeof sasl.password, 'function');
    assert.equal((sasl.password as () => string)(), 'alice-pa55word');
    assert.deepEqual(Object.keys(options.tls ?? {}).sort(), ['ca', 'cert', 'key']);
    assert.equal(options.tls?.ca, PEM);
    assert.doesNotMatch(JSON.stringify(c) + inspect(c, { depth: 6 }), /alice-pa55word|PRIVATE KEY/);
    const revealed = configSecrets(c).map((s) => s.reveal());
    assert.ok(revealed.includes('alice-pa55word') && revealed.some((s) => s.includes('PRIVATE KEY')));
  });

  it('KAFKA_TLS=on alone trusts the CAs Node trusts; a CA file turns TLS on', () => {
    assert.deepEqual(loadConfig({ KAFKA_TLS: 'on' }).transport.kafka.tls, { ca: null, cert: null, key: null });
    assert.equal(loadConfig({ KAFKA_TLS_CA_FILE: file('ca.pem') }).transport.kafka.tls?.ca, PEM);
    assert.equal(loadConfig({ KAFKA_TLS: 'off' }).transport.kafka.tls, null);
  });

  it('inconsistent or unreadable settings are named, all at once, never with a secret', () => {
    const e = problemsOf({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_PASSWORD: 'lonely-pa55word',
      KAFKA_TLS: 'off',
      KAFKA_TLS_CA_FILE: file('not-pem'),
      KAFKA_TLS_CERT_FILE: file('client.pem'),
      GRIDSTREAM_MQTT_URL: 'mqtt://127.0.0.1:1883',
      GRIDSTREAM_MQTT_CA_FILE: file('missing.pem'),
    });
    assert.deepEqual(e.problems.map((p) => p.variable).sort(), [
      'GRIDSTREAM_MQTT_CA_FILE',
      'KAFKA_SASL_USERNAME',
      'KAFKA_TLS',
      'KAFKA_TLS_CA_FILE',
      'KAFKA_TLS_KEY_FILE',
    ]);
    assert.doesNotMatch(e.message, /lonely-pa55word/);
    assert.match(e.message, /KAFKA_TLS_CA_FILE: ".*not-pem" is not a PEM file/);
    assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'GSSAPI' }), /KAFKA_SASL_MECHANISM: expected one of/);
    assert.throws(() => loadConfig({ KAFKA_SASL_USERNAME: 'bob' }), /KAFKA_SASL_MECHANISM: required/);
  });

  it('an MQTT CA needs a TLS URL', () => {
    const c = loadConfig({ GRIDSTREAM_MQTT_URL: 'mqtts://127.0.0.1:8883', GRIDSTREAM_MQTT_CA_FILE: file('ca.pem') });
    assert.equal(c.transport.mqttCa, PEM);
    assert.throws(
      () => loadConfig({ GRIDSTREAM_MQTT_URL: 'ws://127.0.0.1:9001', GRIDSTREAM_MQTT_CA_FILE: file('ca.pem') }),
      /GRIDSTREAM_MQTT_CA_FILE: needs an mqtts:\/\/ or wss:\/\//,
    );
  });
});
