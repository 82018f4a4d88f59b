import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Secret } from '../../src/config/index.ts';
import type { DeadLetter, MeterReading } from '../../src/contracts/index.ts';
import {
  ALL_TOPICS,
  DLQ_HEADERS,
  DeadLetterSchema,
  defineTopic,
  dlqProcessingTopic,
  rawMetersTopic,
} from '../../src/contracts/index.ts';
import type { ConsumedRecord, Log } from '../../src/log/index.ts';
import { secretScrubber } from '../../src/observability/index.ts';
import {
  LogError,
  buildDeadLetter,
  createEmbeddedLog,
  deadLetterFromRecord,
  deadLetterRecord,
  decodeRecord,
  produceValues,
  topicSpecOf,
} from '../../src/log/index.ts';
import { tempDir } from '../helpers/services.ts';

const testTopic = defineTopic({
  name: 'test.things',
  schema: z.object({ id: z.string().min(1), n: z.number().int() }),
  key: (v) => v.id,
  partitions: 2,
  stage: 'processing',
  description: 'test values',
  maxMessageBytes: 1024,
});

async function openLog(t: TestContext): Promise<Log> {
  const dir = await tempDir('gridstream-topic-io-');
  const log = await createEmbeddedLog({ dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  await log.createTopics([...ALL_TOPICS, testTopic].map(topicSpecOf));
  return log;
}

async function readAll(log: Log, topic: string): Promise<ConsumedRecord[]> {
  const partitions = await log.offsets(topic);
  return (await Promise.all(partitions.map((p) => log.read(topic, p.partition, 0, 10_000)))).flat();
}

const parseLetter = (r: ConsumedRecord): DeadLetter =>
  DeadLetterSchema.parse(JSON.parse(Buffer.from(r.value).toString('utf8')));

const reading: MeterReading = {
  deviceId: 'meter-1',
  kind: 'smart_meter',
  ts: '2025-01-01T00:15:00Z',
  quantity: 'energy',
  value: 1.5,
  unit: 'kWh',
};

describe('produceValues / decodeRecord', () => {
  it('produces valid values as JSON keyed by the topic key, and decodes them back', async (t) => {
    const log = await openLog(t);
    const values = [reading, { ...reading, deviceId: 'meter-2', value: 2 }];
    const result = await produceValues(log, rawMetersTopic, values, { headers: { 'x-origin': 'test' } });
    assert.equal(result.rejected.length, 0);
    assert.equal(result.positions.length, 2);
    const records = await readAll(log, rawMetersTopic.name);
    assert.deepEqual(records.map((r) => r.key).sort(), ['meter-1', 'meter-2']);
    for (const r of records) {
      assert.equal(r.headers['x-origin'], 'test');
      const decoded = decodeRecord(rawMetersTopic, r);
      assert.ok(decoded.ok);
      assert.deepEqual(
        decoded.value,
        values.find((v) => v.deviceId === r.key),
      );
    }
  });

  it("dead-letters invalid values to the stage's DLQ with reason invalid_message and produces the rest", async (t) => {
    const log = await openLog(t);
    const bad = { ...reading, value: 'high' } as unknown as MeterReading;
    const result = await produceValues(log, rawMetersTopic, [reading, bad, reading]);
    assert.deepEqual(
      result.positions.map((p) => p !== null),
      [true, false, true],
    );
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]!.index, 1);
    assert.equal(result.rejected[0]!.error.code, 'log.invalid_message');
    assert.equal((await readAll(log, rawMetersTopic.name)).length, 2);

    const [dlq] = await readAll(log, 'dlq-ingestion');
    assert.ok(dlq !== undefined);
    const letter = parseLetter(dlq);
    assert.equal(letter.stage, 'ingestion');
    assert.equal(letter.reason, 'log.invalid_message');
    assert.equal(letter.retryable, false);
    assert.equal(letter.source, null);
    assert.deepEqual(letter.position, { index: 1 });
    assert.equal(letter.payloadEncoding, 'json');
    assert.deepEqual(JSON.parse(letter.payload), bad);
    assert.match(letter.message, /value/);
    assert.equal(dlq.headers[DLQ_HEADERS.reason], 'log.invalid_message');
    assert.equal(dlq.headers[DLQ_HEADERS.stage], 'ingestion');
    assert.equal(dlq.headers[DLQ_HEADERS.attempts], '1');
  });

  it('dead-letters a value larger than the topic accepts (record_too_large)', async (t) => {
    const log = await openLog(t);
    const result = await produceValues(log, testTopic, [
      { id: 'small', n: 1 },
      { id: 'x'.repeat(2000), n: 2 },
    ]);
    assert.equal(result.rejected[0]?.error.code, 'log.record_too_large');
    const [dlq] = await readAll(log, 'dlq-processing');
    assert.equal(parseLetter(dlq!).reason, 'log.record_too_large');
    assert.equal((await readAll(log, testTopic.name)).length, 1);
  });

  it('refuses to dead-letter an invalid dead letter into its own DLQ', async (t) => {
    const log = await openLog(t);
    const broken = { id: '' } as unknown as DeadLetter;
    await assert.rejects(
      produceValues(log, dlqProcessingTopic, [broken]),
      (e: unknown) => e instanceof LogError && e.code === 'log.invalid_message',
    );
    assert.equal((await readAll(log, 'dlq-processing')).length, 0);
  });

  it('decodeRecord tells bad UTF-8, bad JSON and schema violations apart, all invalid_message', () => {
    const record = (value: Uint8Array): ConsumedRecord => ({
      topic: testTopic.name,
      partition: 0,
      offset: 7,
      key: 'k',
      value,
      headers: {},
      timestamp: 0,
    });
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.from([0xff, 0xfe]), /not UTF-8/],
      [Buffer.from('{"id":'), /not JSON/],
      [Buffer.from('{"id":"a","n":1.5}'), /n: /],
    ];
    for (const [value, message] of cases) {
      const decoded = decodeRecord(testTopic, record(value));
      assert.equal(decoded.ok, false);
      assert.equal(decoded.error.code, 'log.invalid_message');
      assert.equal(decoded.error.retryable, false);
      assert.match(decoded.error.message, message);
      assert.equal(decoded.error.details['offset'], 7);
    }
  });
});

describe('dead letters', () => {
  const token = 'f3a9c2d1-5e6b-4a7c-8d9e-0123456789ab';

  it('never carry a secret: messages, payload text and request are scrubbed', () => {
    const scrub = secretScrubber([new Secret(token), 'hunter22']);
    const letter = buildDeadLetter(
      {
        stage: 'ingestion',
        reason: 'entsoe.http_error',
        message: `GET https://web-api.tp.entsoe.eu/api?securityToken=${token}&documentType=A75 failed; Authorization: Bearer abc.def; password hunter22`,
        retryable: true,
        payload: `<error>token ${token} is invalid</error>`,
        request: {
          documentType: 'A75',
          securityToken: token,
          nested: { apiKey: 'k-123456', url: `https://x/?token=${token}` },
        },
        httpStatus: 401,
      },
      { scrub },
    );
    const json = JSON.stringify(letter);
    for (const secret of [token, 'abc.def', 'hunter22', 'k-123456']) assert.ok(!json.includes(secret), secret);
    assert.equal(letter.request?.['documentType'], 'A75');
    assert.equal(letter.httpStatus, 401);
    assert.equal(letter.retryable, true);
    assert.equal(letter.payloadEncoding, 'utf8');
    DeadLetterSchema.parse(letter);
  });

  it('keep storage payloads as base64 of the exact bytes, with source and headers', () => {
    const value = Buffer.from('{"zone":"DE_LU","value":"12.5"}');
    const record: ConsumedRecord = {
      topic: 'grid.observations',
      partition: 3,
      offset: 42,
      key: 'DE_LU',
      value,
      headers: {},
      timestamp: 0,
    };
    const first = new Date('2025-01-01T00:00:00Z');
    const letter = deadLetterFromRecord(
      'storage',
      record,
      new LogError('log.invalid_argument', 'constraint violated'),
      {
        attempts: 3,
        firstFailureAt: first,
      },
    );
    assert.equal(letter.payloadEncoding, 'base64');
    assert.ok(Buffer.from(letter.payload, 'base64').equals(value));
    assert.equal(letter.reason, 'log.invalid_argument');
    assert.equal(letter.attempts, 3);
    assert.equal(letter.firstFailureAt, first.toISOString());
    assert.deepEqual(letter.source, { topic: 'grid.observations', partition: 3, offset: 42, key: 'DE_LU' });
    const out = deadLetterRecord(letter);
    assert.equal(out.key, 'DE_LU');
    assert.deepEqual(out.headers, {
      [DLQ_HEADERS.reason]: 'log.invalid_argument',
      [DLQ_HEADERS.stage]: 'storage',
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.sourceTopic]: 'grid.observations',
      [DLQ_HEADERS.sourcePartition]: '3',
      [DLQ_HEADERS.sourceOffset]: '42',
    });
  });

  it('keep bytes that are not UTF-8 as base64 in any stage, and name unknown failures internal_error', () => {
    const bytes = Uint8Array.from([0, 0xff, 0x80, 1]);
    const record: ConsumedRecord = {
      topic: 'raw.meters',
      partition: 0,
      offset: 1,
      key: null,
      value: bytes,
      headers: {},
      timestamp: 0,
    };
    const letter = deadLetterFromRecord('processing', record, new TypeError('x is undefined'));
    assert.equal(letter.payloadEncoding, 'base64');
    assert.deepEqual([...Buffer.from(letter.payload, 'base64')], [...bytes]);
    assert.equal(letter.reason, 'internal.error');
    assert.equal(letter.retryable, false);
    assert.equal(deadLetterRecord(letter).key, 'internal.error');
  });
});
