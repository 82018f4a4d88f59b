import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { Secret } from '../../src/config/index.ts';
import type { CanonicalReading, DeadLetter, MeterReading } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema, DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { groupOfTopic, mqttIngest } from '../../src/ingest/index.ts';
import { embeddedInfra, useEmbeddedInfra } from '../helpers/infra.ts';
import { meterReading, readTopic, until } from '../helpers/ingest.ts';
import { testMqttUrl } from '../helpers/services.ts';

const reading = (i: number): MeterReading => ({ ...meterReading(i), group: 'feeder-7' });

const readAll = async <T>(infra: Infrastructure, topic: string, parse: (v: unknown) => T): Promise<T[]> =>
  (await readTopic(infra, topic)).map((v) => parse(JSON.parse(v.toString('utf8'))));

/** A started worker on a fresh topic tree `base/#` (its own group) and a device connected to the broker. */
async function workerAndDevice(infra: Infrastructure, url: string) {
  const base = `gridstream-test/${randomUUID()}`;
  const worker = mqttIngest(infra, {
    url: new Secret(url),
    topic: `${base}/#`,
    group: `g${randomUUID().slice(0, 8)}`,
  });
  await worker.start();
  const device = await connectAsync(url, { protocolVersion: 5 });
  return { base, worker, device };
}

describe('MQTT group topics', () => {
  it('name the group after the first `groups` segment', () => {
    assert.equal(groupOfTopic('gridstream/meters/groups/feeder-7/m-1'), 'feeder-7');
    assert.equal(groupOfTopic('groups/feeder-7'), 'feeder-7');
    assert.equal(groupOfTopic('gridstream/meters/groups/'), undefined);
    assert.equal(groupOfTopic('gridstream/meters/groups'), undefined);
    assert.equal(groupOfTopic('gridstream/meters/m-1'), undefined);
  });
});

describe('MQTT ingest: device readings from a real broker (Mosquitto) → raw.meters, bad lines → dlq-ingestion', () => {
  const url = testMqttUrl();
  const embedded = useEmbeddedInfra();

  it('takes JSON and NDJSON messages, dead-letters bad lines with topic and line; two workers share the work', async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const base = `gridstream-test/${randomUUID()}`;
    const group = `g${randomUUID().slice(0, 8)}`;
    const options = { url: new Secret(url), topic: `${base}/#`, group };
    const workers = [mqttIngest(embedded.infra, options), mqttIngest(embedded.infra, options)];
    for (const w of workers) await w.start();
    const device = await connectAsync(url, { protocolVersion: 5 });
    try {
      for (let i = 0; i < 40; i++)
        await device.publishAsync(`${base}/meter-${i}`, JSON.stringify(reading(i)), { qos: 1 });
      const ndjson = [JSON.stringify(reading(40)), '{"deviceId":"x","value":"lots"}', '', JSON.stringify(reading(41))];
      await device.publishAsync(`${base}/concentrator-1`, ndjson.join('\n'), { qos: 1 });
      await device.publishAsync(`${base}/broken`, 'not json', { qos: 1 });
      // A device publishing at QoS 0 (at-most-once by its choice) is taken too.
      await device.publishAsync(`${base}/meter-42`, JSON.stringify(reading(42)), { qos: 0 });

      let readings: CanonicalReading[] = [];
      let letters: DeadLetter[] = [];
      await until('43 readings and 2 dead letters', async () => {
        readings = await readAll(embedded.infra, 'raw.meters', (v) => CanonicalReadingSchema.parse(v));
        letters = await readAll(embedded.infra, 'dlq-ingestion', (v) => DeadLetterSchema.parse(v));
        return readings.length >= 43 && letters.length >= 2;
      });
      assert.deepEqual(
        readings.map((r) => r.meter_id).sort(),
        Array.from({ length: 43 }, (_, i) => `meter-${i}`).sort(),
        'every reading exactly once, though two workers subscribed',
      );
      assert.deepEqual(
        readings.find((r) => r.meter_id === 'meter-41'),
        {
          v: 2,
          meter_id: 'meter-41',
          kind: 'smart_meter',
          quantity: 'energy_import',
          ts: '2026-11-22T10:00:00Z',
          value: '41.25',
          group: 'feeder-7',
        },
      );
      assert.deepEqual(letters.map((l) => [l.reason, l.position?.['mqttTopic'], l.position?.['line']]).sort(), [
        ['ingest.invalid_reading', `${base}/concentrator-1`, 2],
        ['ingest.not_json', `${base}/broken`, 1],
      ]);
      assert.ok(letters.every((l) => l.stage === 'ingestion' && l.payload.length > 0));
    } finally {
      await device.endAsync();
      for (const w of workers) await w.stop();
    }
    for (const w of workers) await w.stop(); // idempotent
  });

  it('refuses readings that would be altered on the way in, like the HTTP gateway: one dead letter per message', async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const { base, worker, device } = await workerAndDevice(embedded.infra, url);
    try {
      const ok = { ...reading(1), deviceId: `ok-${base}` };
      const message = Buffer.concat([
        Buffer.from(`${JSON.stringify(ok)}\n`),
        Buffer.from(`${JSON.stringify({ ...reading(2), value: 7 }).replace('"value":7', '"value":1e-400')}\n`),
        Buffer.from(`${JSON.stringify({ ...reading(3), ts: '0000-01-01T00:00:00Z' })}\n`),
        Buffer.from(JSON.stringify({ ...reading(4), deviceId: 'm-X' }).replace('m-X', 'm-\xff'), 'latin1'),
      ]);
      await device.publishAsync(`${base}/concentrator-2`, message, { qos: 1 });
      const letterOf = async () =>
        (await readAll(embedded.infra, 'dlq-ingestion', (v) => DeadLetterSchema.parse(v))).filter(
          (l) => l.position?.['mqttTopic'] === `${base}/concentrator-2`,
        );
      await until('the dead letter', async () => (await letterOf()).length > 0);
      const letters = await letterOf();
      assert.equal(letters.length, 1);
      assert.deepEqual(
        expandRefusedLines(letters[0]?.refused ?? []).map((l) => [l.line, l.reason]),
        [
          [2, 'ingest.number_out_of_range'],
          [3, 'ingest.timestamp_out_of_range'],
          [4, 'ingest.invalid_text'],
        ],
      );
      const readings = await readAll(embedded.infra, 'raw.meters', (v) => CanonicalReadingSchema.parse(v));
      assert.ok(readings.some((r) => r.meter_id === ok.deviceId));
      assert.ok(!readings.some((r) => r.meter_id === 'meter-2' && r.value === '0'), 'an underflow was stored as 0');
    } finally {
      await device.endAsync();
      await worker.stop();
    }
  });

  it("a group topic carries only its group's meters (QoS 1 and 0); other lines are refused as group_forbidden", async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const { base, worker, device } = await workerAndDevice(embedded.infra, url);
    const id = (name: string): string => `${name}-${base.slice(-8)}`;
    // g-a's meter moves to g-b at 12:00; g-b's meter is g-b's throughout.
    await embedded.infra.db.query(
      `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, annual_consumption_kwh, profile,
         valid_from, valid_to)
       VALUES ($1, 'DE_LU', 'g-a', 'Europe/Berlin', 'import', 3500, 'H0', NULL, '2026-11-22T12:00:00Z'),
              ($1, 'DE_LU', 'g-b', 'Europe/Berlin', 'import', 3500, 'H0', '2026-11-22T12:00:00Z', NULL),
              ($2, 'DE_LU', 'g-b', 'Europe/Berlin', 'import', 3500, 'H0', NULL, NULL)`,
      [id('ma'), id('mb')],
    );
    const line = (meter: string, ts: string): string =>
      JSON.stringify({ meter_id: meter, quantity: 'energy_import', ts, value: '0.25' });
    try {
      const topic = `${base}/groups/g-a/concentrator`;
      const message = [
        line(id('ma'), '2026-11-22T10:00:00Z'), // g-a's
        line(id('mb'), '2026-11-22T10:00:00Z'), // g-b's
        line(id('ma'), '2026-11-22T13:00:00Z'), // g-b's by then
        line(id('mz'), '2026-11-22T10:00:00Z'), // not registered
      ].join('\n');
      await device.publishAsync(topic, message, { qos: 1 });
      await device.publishAsync(`${base}/groups/g-b/x`, line(id('mb'), '2026-11-22T11:00:00Z'), { qos: 0 });
      await device.publishAsync(`${base}/groups/g-a/x`, line(id('mb'), '2026-11-22T11:15:00Z'), { qos: 0 });
      const ours = async () =>
        (await readAll(embedded.infra, 'raw.meters', (v) => CanonicalReadingSchema.parse(v))).filter((r) =>
          r.meter_id.endsWith(base.slice(-8)),
        );
      const lettersOf = async () =>
        (await readAll(embedded.infra, 'dlq-ingestion', (v) => DeadLetterSchema.parse(v))).filter((l) =>
          String(l.position?.['mqttTopic']).startsWith(`${base}/groups/`),
        );
      await until(
        'two readings and two dead letters',
        async () => (await ours()).length >= 2 && (await lettersOf()).length >= 2,
      );
      assert.deepEqual((await ours()).map((r) => `${r.meter_id} ${r.ts}`).sort(), [
        `${id('ma')} 2026-11-22T10:00:00Z`,
        `${id('mb')} 2026-11-22T11:00:00Z`,
      ]);
      const letters = await lettersOf();
      const byTopic = new Map(letters.map((l) => [String(l.position?.['mqttTopic']), l]));
      assert.deepEqual(
        expandRefusedLines(byTopic.get(topic)?.refused ?? []).map((l) => [l.line, l.reason]),
        [
          [2, 'ingest.group_forbidden'],
          [3, 'ingest.group_forbidden'],
          [4, 'ingest.group_forbidden'],
        ],
      );
      assert.deepEqual(
        expandRefusedLines(byTopic.get(`${base}/groups/g-a/x`)?.refused ?? []).map((l) => l.reason),
        ['ingest.group_forbidden'],
      );
    } finally {
      await device.endAsync();
      await worker.stop();
    }
  });

  it('a message over 8 MiB is dead-lettered as too_large and acknowledged; the worker goes on', async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const { base, worker, device } = await workerAndDevice(embedded.infra, url);
    try {
      const line = `${JSON.stringify(reading(1))}\n`;
      const huge = line.repeat(Math.ceil((8 * 1024 * 1024 + 1) / line.length));
      assert.ok(Buffer.byteLength(huge) > 8 * 1024 * 1024);
      // publishAsync resolves on the PUBACK: the message was taken, not left for redelivery.
      await device.publishAsync(`${base}/concentrator-9`, huge, { qos: 1 });
      await device.publishAsync(`${base}/meter-7`, JSON.stringify({ ...reading(7), deviceId: `after-${base}` }), {
        qos: 1,
      });
      const letterOf = async () =>
        (await readAll(embedded.infra, 'dlq-ingestion', (v) => DeadLetterSchema.parse(v))).find(
          (l) => l.position?.['mqttTopic'] === `${base}/concentrator-9`,
        );
      await until('the too_large dead letter and the next reading', async () => {
        const readings = await readAll(embedded.infra, 'raw.meters', (v) => CanonicalReadingSchema.parse(v));
        return (await letterOf()) !== undefined && readings.some((r) => r.meter_id === `after-${base}`);
      });
      const letter = await letterOf();
      assert.ok(letter !== undefined);
      assert.equal(letter.reason, 'ingest.too_large');
      assert.equal(letter.stage, 'ingestion');
      assert.match(letter.message, /larger than 8388608/);
      assert.equal(worker.error, undefined);
    } finally {
      await device.endAsync();
      await worker.stop();
    }
  });

  it('a log write that can never succeed fails the component (the message stays unacknowledged)', async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const own = await embeddedInfra();
    const closing = own.infra;
    const base = `gridstream-test/${randomUUID()}`;
    const worker = mqttIngest(closing, { url: new Secret(url), topic: `${base}/#`, group: 'g', connections: 1 });
    await worker.start();
    await closing.close(); // every write now fails with a non-retryable "closed" error
    const device = await connectAsync(url, { protocolVersion: 5 });
    try {
      await device.publishAsync(`${base}/m`, JSON.stringify(reading(1)), { qos: 1 });
      await worker.finished;
      assert.ok(worker.error !== undefined, 'the failure is reported');
    } finally {
      await device.endAsync();
      await worker.stop();
      await own.remove();
    }
  });

  it('an unreachable broker: start resolves, the input is degraded, and nothing reveals the password', async () => {
    const worker = mqttIngest(embedded.infra, {
      url: new Secret('mqtt://meter-user:pa55-w0rd-secret@127.0.0.1:1'),
      topic: 'x/#',
      group: 'g',
    });
    await worker.start();
    assert.equal(worker.state, 'running');
    assert.match(worker.degraded ?? '', /MQTT broker is unreachable \(mqtt\.unavailable\)/);
    assert.doesNotMatch(worker.degraded ?? '', /pa55-w0rd-secret/);
    await worker.stop();
  });
});
