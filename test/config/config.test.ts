import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { CONFIG_VARIABLES, ConfigError, Secret, VARIABLES, configSecrets, loadConfig } from '../../src/config/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { ROOT } from '../helpers/fixtures.ts';

describe('loadConfig', () => {
  it('defaults give the embedded mode', () => {
    const c = loadConfig({});
    assert.equal(c.dataDir, './.gridstream');
    assert.equal(c.port, 8080);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.kafkaBrokers, null);
    assert.equal(c.entsoe.token, null);
    assert.equal(c.entsoe.baseUrl, 'https://web-api.tp.entsoe.eu/api');
  });
  it('reads every variable', () => {
    const c = loadConfig({
      GRIDSTREAM_DATA_DIR: '/tmp/gs',
      GRIDSTREAM_PORT: '9000',
      GRIDSTREAM_ADMIN_KEY: 'admin-Tq8Vx2Mz6Kp4Rw9Yn3Hs7Jd5Lc1Fb0Ga',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      KAFKA_BROKERS: '127.0.0.1:19092, kafka-2:9092',
      ENTSOE_TOKEN: 'entsoe-token-1234',
      ENTSOE_BASE_URL: 'http://127.0.0.1:7000/api/',
      ELECTRICITYMAPS_TOKEN: 'emaps-token-1234',
      ELECTRICITYMAPS_BASE_URL: 'http://127.0.0.1:7001',
    });
    assert.equal(c.dataDir, '/tmp/gs');
    assert.equal(c.port, 9000);
    assert.deepEqual(c.kafkaBrokers, ['127.0.0.1:19092', 'kafka-2:9092']);
    assert.equal(c.entsoe.token?.reveal(), 'entsoe-token-1234');
    assert.equal(c.entsoe.baseUrl, 'http://127.0.0.1:7000/api');
    assert.equal(c.databaseUrl?.reveal(), 'postgres://postgres@127.0.0.1:5432/test');
  });
  it('a wrong value fails with a message naming the variable; all problems at once', () => {
    assert.throws(
      () => loadConfig({ GRIDSTREAM_PORT: 'eighty', KAFKA_BROKERS: 'nohost', ENTSOE_BASE_URL: 'ftp://x' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.problems.map((p) => p.variable),
          ['GRIDSTREAM_PORT', 'KAFKA_BROKERS', 'ENTSOE_BASE_URL'],
        );
        assert.match(e.message, /GRIDSTREAM_PORT: .*"eighty"/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ GRIDSTREAM_PORT: '70000' }), /GRIDSTREAM_PORT/);
  });
  it('never echoes a secret value in an error', () => {
    assert.throws(
      () => loadConfig({ ENTSOE_TOKEN: 'short', DATABASE_URL: 'mysql://user:hunter2@db/x' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.doesNotMatch(e.message, /short|hunter2/);
        assert.match(e.message, /ENTSOE_TOKEN/);
        assert.match(e.message, /DATABASE_URL/);
        return true;
      },
    );
  });
  it('MQTT: a broker URL (a secret, credentials allowed) and a topic filter checked level by level', () => {
    const c = loadConfig({ GRIDSTREAM_MQTT_URL: 'mqtt://meters:s3cret-pass@127.0.0.1:1883' });
    assert.equal(c.mqttUrl?.reveal(), 'mqtt://meters:s3cret-pass@127.0.0.1:1883');
    assert.equal(c.mqttTopic, 'gridstream/meters/#');
    assert.equal(loadConfig({}).mqttUrl, null);
    for (const ok of ['#', 'site/+/meters/#', 'a/b', '+'])
      assert.equal(loadConfig({ GRIDSTREAM_MQTT_TOPIC: ok }).mqttTopic, ok);
    for (const bad of ['a/#/b', 'a#', 'a/b+', '$SYS/#'])
      assert.throws(() => loadConfig({ GRIDSTREAM_MQTT_TOPIC: bad }), /GRIDSTREAM_MQTT_TOPIC/, bad);
    assert.throws(
      () => loadConfig({ GRIDSTREAM_MQTT_URL: 'http://meters:s3cret-pass@host' }),
      (e: unknown) =>
        e instanceof ConfigError && /GRIDSTREAM_MQTT_URL/.test(e.message) && !e.message.includes('s3cret'),
    );
  });
  it('configSecrets: tokens, keys, URLs, and URL passwords on their own (as written and decoded)', () => {
    const c = loadConfig({
      ENTSOE_TOKEN: 'entsoe-token-1234',
      DATABASE_URL: 'postgres://gs:db-pa%24%24word@127.0.0.1:5432/test',
      GRIDSTREAM_MQTT_URL: 'mqtt://meters:mq-pass-99@127.0.0.1:1883',
    });
    const revealed = configSecrets(c).map((s) => s.reveal());
    for (const secret of [
      'entsoe-token-1234',
      'postgres://gs:db-pa%24%24word@127.0.0.1:5432/test',
      'db-pa%24%24word',
      'db-pa$$word',
      'mq-pass-99',
    ])
      assert.ok(revealed.includes(secret), secret);
  });
  it('the result is deeply frozen and secrets print as [redacted]', () => {
    const c = loadConfig({ ENTSOE_TOKEN: 'entsoe-token-1234' });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.entsoe));
    assert.ok(c.entsoe.token instanceof Secret);
    const shown = [JSON.stringify(c), inspect(c, { depth: 5 }), String(c.entsoe.token)].join('\n');
    assert.doesNotMatch(shown, /entsoe-token-1234/);
  });
});

describe('one declaration of every variable', () => {
  it('every variable named anywhere in src/ is declared, and the loader reads each declared one', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
      });
    const named = new Set<string>();
    for (const file of walk(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(
        /'((?:GRIDSTREAM|ENTSOE|ELECTRICITYMAPS|KAFKA)_[A-Z_]+|DATABASE_URL)'/g,
      ))
        named.add(m[1] ?? '');
    }
    const declared = Object.values(VARIABLES).map((v) => v.name);
    assert.deepEqual(
      [...named].filter((n) => !declared.includes(n)),
      [],
    );
    assert.equal(new Set(declared).size, declared.length, 'no variable declared twice');
    // Each declared variable is read: a wrong value for every one of them is reported by name.
    const wrong = Object.fromEntries(declared.map((n) => [n, '\u0000 not valid \u0000']));
    const reported = new Set<string>();
    try {
      loadConfig(wrong);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      for (const p of error.problems) reported.add(p.variable);
    }
    assert.deepEqual(
      declared.filter((n) => !reported.has(n)),
      [],
      'variables whose wrong value went unnoticed',
    );
    assert.deepEqual(
      CONFIG_VARIABLES.map(([name]) => name),
      declared,
    );
  });
  it('`gridstream --help` lists every variable with its default', async () => {
    const help = await gridstream(['--help']);
    for (const v of Object.values(VARIABLES))
      assert.match(help.stdout, new RegExp(`${v.name} +\\[${v.shown.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\]`));
  });
});
