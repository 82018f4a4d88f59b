/**
 * MQTT device ingest: readings per second from the machine's Mosquitto through the ingest role's MQTT subscriber
 * into raw.meters (embedded log, and Kafka), one reading per message and 100 readings per message. Baseline: a
 * plain mqtt.js QoS 1 subscriber on the same broker in the same run, which acknowledges on arrival and stores
 * nothing — what the broker and client deliver before gridstream does anything.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { Secret, loadConfig } from '../src/config/index.ts';
import type { MeterReading } from '../src/contracts/index.ts';
import { createMetrics, silentLogger } from '../src/observability/index.ts';
import { mqttIngest } from '../src/ingest/index.ts';
import { openInfrastructure } from '../src/runtime/index.ts';
import type { Benchmark } from './figure.ts';
import { figure } from './figure.ts';

const BENCH = 'mqtt-ingest';
const URL = process.env['GRIDSTREAM_BENCH_MQTT_URL'] ?? 'mqtt://127.0.0.1:1883';
/** Messages per run: 10 000 single readings, or 2 000 messages of 100. */
const MESSAGES = { 1: 10_000, 100: 2_000 } as const;

const reading = (i: number): MeterReading => ({
  deviceId: `meter-${i % 5000}`,
  kind: 'smart_meter',
  ts: new Date(Date.parse('2026-11-22T00:00:00Z') + Math.floor(i / 5000) * 900_000).toISOString(),
  quantity: 'energy_import',
  value: (i % 997) / 100,
  unit: 'kWh',
  group: `feeder-${i % 40}`,
});

/** The messages: `perMessage` readings each, as NDJSON. */
function payloads(perMessage: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count * perMessage; i += perMessage) {
    const lines: string[] = [];
    for (let j = i; j < i + perMessage; j++) lines.push(JSON.stringify(reading(j)));
    out.push(lines.join('\n'));
  }
  return out;
}

/**
 * Publishes every message with QoS 1, never more than {@link AHEAD} messages ahead of what the receiver has taken
 * (`taken()`): a broker drops QoS 1 messages beyond a subscriber's queue (Mosquitto: 1 000 by default), so an open
 * loop would measure the drops, not the throughput.
 */
const AHEAD = 500;
async function publishAll(topic: string, messages: readonly string[], taken: () => Promise<number>): Promise<void> {
  const device = await connectAsync(URL, { protocolVersion: 5 });
  try {
    let sent = 0;
    while (sent < messages.length) {
      const room = AHEAD - (sent - (await taken()));
      if (room <= 0) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const batch = messages.slice(sent, sent + room);
      await Promise.all(batch.map((m, i) => device.publishAsync(`${topic}/d${(sent + i) % 100}`, m, { qos: 1 })));
      sent += batch.length;
    }
  } finally {
    await device.endAsync();
  }
}

/** Seconds for a plain QoS 1 subscriber to receive every message. */
async function baselineSeconds(messages: readonly string[]): Promise<number> {
  const topic = `gridstream-bench/${randomUUID()}`;
  const subscriber = await connectAsync(URL, { protocolVersion: 5 });
  try {
    let received = 0;
    let resolve: () => void = () => undefined;
    const all = new Promise<void>((r) => (resolve = r));
    subscriber.on('message', () => {
      if (++received === messages.length) resolve();
    });
    await subscriber.subscribeAsync(`${topic}/#`, { qos: 1 });
    const started = performance.now();
    await publishAll(topic, messages, () => Promise.resolve(received));
    await all;
    return (performance.now() - started) / 1000;
  } finally {
    await subscriber.endAsync();
  }
}

/** Seconds until raw.meters holds every reading, through gridstream's subscriber. */
async function gridstreamSeconds(messages: readonly string[], readings: number, kafka: boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-mqtt-'));
  const brokers = process.env['KAFKA_BROKERS'];
  if (kafka && (brokers === undefined || brokers === '')) throw new Error('KAFKA_BROKERS is not set');
  const infra = await openInfrastructure(
    loadConfig({
      GRIDSTREAM_DATA_DIR: dir,
      GRIDSTREAM_LOG_LEVEL: 'silent',
      ...(kafka ? { KAFKA_BROKERS: brokers, GRIDSTREAM_NAMESPACE: `bench_${randomUUID().slice(0, 8)}` } : {}),
    }),
    silentLogger(),
    createMetrics({ defaultMetrics: false }),
  );
  const topic = `gridstream-bench/${randomUUID()}`;
  const worker = mqttIngest(infra, {
    url: new Secret(URL),
    topic: `${topic}/#`,
    group: `b${randomUUID().slice(0, 8)}`,
  });
  try {
    await worker.start();
    const stored = async () => (await infra.log.offsets('raw.meters')).reduce((n, p) => n + p.next - p.earliest, 0);
    const started = performance.now();
    const perMessage = readings / messages.length;
    await publishAll(topic, messages, async () => Math.floor((await stored()) / perMessage));
    while ((await stored()) < readings) await new Promise((r) => setTimeout(r, 5));
    return (performance.now() - started) / 1000;
  } finally {
    await worker.stop();
    await infra.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const mqttIngestBenchmark: Benchmark = {
  name: BENCH,
  description: 'device readings over MQTT (Mosquitto) into raw.meters, embedded log and Kafka',
  needs: ['kafka'],
  async run(emit) {
    for (const perMessage of [1, 100] as const) {
      const messages = payloads(perMessage, MESSAGES[perMessage]);
      const readings = messages.length * perMessage;
      const base = readings / (await baselineSeconds(messages));
      for (const kafka of [false, true]) {
        const value = readings / (await gridstreamSeconds(messages, readings, kafka));
        emit(
          figure(
            BENCH,
            `readings per second, ${perMessage} per message (${kafka ? 'Kafka' : 'embedded log'})`,
            value,
            'readings/s',
            { name: 'plain mqtt.js QoS 1 subscriber, acknowledging on arrival, storing nothing', value: base },
            `${messages.length} QoS 1 messages, at most ${AHEAD} ahead of the receiver; each acknowledged once durable in raw.meters`,
          ),
        );
      }
    }
  },
};
