import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connectAsync } from 'mqtt';
import { GridstreamError } from '../common/index.ts';
import type { Secret } from '../config/index.ts';
import { rawMetersTopic } from '../contracts/index.ts';
import { buildDeadLetter, produceDeadLetters, produceValues } from '../log/index.ts';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';
import { parseReadingLines } from './meter-readings.ts';

/** Largest MQTT message the subscriber parses; a larger one is dead-lettered whole (truncated) as `too_large`. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Connections per worker, all in the shared subscription: each takes one message per log round trip. */
const DEFAULT_CONNECTIONS = 16;

interface Session {
  client: MqttClient | undefined;
  /** The message being made durable; acknowledged when it is. */
  inFlight: Promise<void>;
}

export interface MqttIngestOptions {
  /** Broker URL (`mqtt://`, `mqtts://`, `ws://`, `wss://`), credentials included when the broker needs them. */
  readonly url: Secret;
  /** Topic filter devices publish to, e.g. `gridstream/meters/#`. */
  readonly topic: string;
  /** Shared-subscription group: workers of one group split the messages between them. */
  readonly group: string;
  /** Broker connections of this worker, all in the group. @default 16 */
  readonly connections?: number;
}

/**
 * The `ingest` role's MQTT input: subscribes to `$share/<group>/<topic>` with QoS 1 (MQTT 5), so any number of
 * ingest workers split the devices' messages. A message holds one JSON reading or newline-delimited readings; valid
 * ones go to raw.meters, the other lines to dlq-ingestion with the MQTT topic and line number.
 *
 * A message is acknowledged (PUBACK) only once its readings and dead letters are durable in the log, so a worker
 * that dies before that leaves the message to the broker (at-least-once, duplicates possible). mqtt.js hands over
 * a connection's next message only after its previous one is acknowledged, so each worker opens several connections
 * (all in the shared subscription) to keep several messages in flight; devices and concentrators should still send
 * many readings per message when rates are high. Shared subscriptions give no order between messages, which event
 * time makes harmless: every reading carries its own timestamp.
 */
export function mqttIngest(infra: Infrastructure, options: MqttIngestOptions): Component {
  const { log, logger, scrub, metrics } = infra;
  const abort = new AbortController();
  const sessions: Session[] = [];
  let stopping: Promise<void> | undefined;
  let draining = false;

  async function handle(topic: string, message: Buffer): Promise<void> {
    const position = { mqttTopic: topic };
    const { readings, letters } =
      message.byteLength > MAX_MESSAGE_BYTES
        ? {
            readings: [],
            letters: [
              buildDeadLetter(
                {
                  stage: 'ingestion',
                  reason: 'too_large',
                  message: `MQTT message of ${message.byteLength} bytes is larger than ${MAX_MESSAGE_BYTES}`,
                  retryable: false,
                  source: null,
                  position,
                  payload: message.subarray(0, MAX_MESSAGE_BYTES).toString('utf8'),
                },
                { scrub },
              ),
            ],
          }
        : parseReadingLines(message.toString('utf8'), position, scrub);
    // The log being unreachable is the one failure worth waiting out: the message stays unacknowledged meanwhile.
    for (let attempt = 0; ; attempt++) {
      try {
        await produceValues(log, rawMetersTopic, readings, { scrub, signal: abort.signal });
        await produceDeadLetters(log, letters, { signal: abort.signal });
        break;
      } catch (error) {
        if (abort.signal.aborted) throw error;
        logger.warn({ err: scrub(String(error)), attempt }, 'mqtt ingest: log write failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)));
      }
    }
    metrics.recordsIn('ingestion', rawMetersTopic.name, readings.length);
    if (letters.length > 0)
      metrics.recordsRejected('ingestion', rawMetersTopic.name, 'invalid_message', letters.length);
  }

  async function connect(session: Session): Promise<MqttClient> {
    let client: MqttClient;
    try {
      client = await connectAsync(options.url.reveal(), {
        protocolVersion: 5,
        clientId: `gridstream-ingest-${randomUUID().slice(0, 8)}`,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        customHandleAcks: (topic, message, _packet, done) => {
          if (draining) return; // stopping: left unacknowledged, for the broker to hand out again
          session.inFlight = handle(topic, message).then(
            () => {
              done(0);
            },
            (error: unknown) => {
              logger.warn({ err: scrub(String(error)) }, 'mqtt ingest: message left unacknowledged');
            },
          );
        },
      });
    } catch (error) {
      // Not the error itself as cause: its text may carry the URL, credentials included.
      throw new GridstreamError('mqtt_unavailable', `cannot connect to the MQTT broker: ${scrub(String(error))}`, {
        retryable: true,
      });
    }
    client.on('error', (error) => {
      logger.warn({ err: scrub(String(error)) }, 'mqtt ingest: broker error');
    });
    return client;
  }

  return {
    name: 'ingest-mqtt',
    async start() {
      const subscription = `$share/${options.group}/${options.topic}`;
      for (let i = 0; i < (options.connections ?? DEFAULT_CONNECTIONS); i++) {
        const session: Session = { client: undefined, inFlight: Promise.resolve() };
        sessions.push(session);
        session.client = await connect(session);
        const granted = await session.client.subscribeAsync(subscription, { qos: 1 });
        if (granted.some((g) => g.qos > 2))
          throw new GridstreamError(
            'mqtt_subscription_refused',
            `the MQTT broker refused the subscription ${subscription}`,
          );
      }
      logger.info({ topic: subscription, connections: sessions.length }, 'mqtt ingest subscribed');
    },
    stop: (stopOptions = {}) =>
      (stopping ??= (async () => {
        draining = true;
        const grace = new Promise<void>((resolve) => setTimeout(resolve, stopOptions.graceMs ?? 10_000).unref());
        await Promise.race([Promise.all(sessions.map((s) => s.inFlight)), grace]);
        abort.abort();
        await Promise.all(sessions.map((s) => s.client?.endAsync(true) ?? Promise.resolve()));
      })()),
  };
}
