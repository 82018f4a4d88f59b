import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connectAsync } from 'mqtt';
import type { Component } from '../common/index.ts';
import {
  GridstreamError,
  Lifecycle,
  backoffDelay,
  errorCode,
  errorMessage,
  isAborted,
  isRetryable,
  problemLogger,
  settlesWithin,
  tlsFailure,
  sleep,
} from '../common/index.ts';
import type { Secret } from '../config/index.ts';
import type { CanonicalReading, DeadLetter, ReadingRules, RefusedLines } from '../contracts/index.ts';
import { DEFAULT_READING_RULES, rawMetersTopic } from '../contracts/index.ts';
import { buildDeadLetter } from '../log/index.ts';
import { MeterGroups, groupOfTopic } from './meter-groups.ts';
import type { IngestDeps, ParsedReadings } from './readings.ts';
import { parseReadingBody, storeReadings } from './readings.ts';

/** Largest MQTT message the subscriber parses; a larger one is dead-lettered whole (truncated) as `too_large`. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Connections per worker, all in the shared subscription: each takes one QoS 1 message per log round trip. */
const DEFAULT_CONNECTIONS = 16;
/** QoS 0 messages waiting for the log, beyond which new ones are refused (counted, logged), not held in memory. */
const MAX_PENDING_QOS0 = 50_000;
/** Reconnection of an established connection: 1 s, doubling while the broker stays away, up to 60 s. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 60_000;

export interface MqttIngestOptions {
  /** Broker URL (`mqtt://`, `mqtts://`, `ws://`, `wss://`), credentials included when the broker needs them. */
  readonly url: Secret;
  /**
   * PEM of the CA certificates an `mqtts://`/`wss://` broker's certificate must chain to (a private CA). The broker
   * is always verified, host name included; unset, against the CAs Node trusts.
   */
  readonly ca?: string | null;
  /** Topic filter devices publish to, e.g. `gridstream/meters/#`. */
  readonly topic: string;
  /** Shared-subscription group: workers of one group split the messages between them. */
  readonly group: string;
  /** Broker connections of this worker, all in the group. @default 16 */
  readonly connections?: number;
  /** What a reading must meet to be taken in unaltered. @default {@link DEFAULT_READING_RULES} */
  readonly rules?: ReadingRules;
}

/** One broker connection. `epoch` changes whenever the connection closes: an acknowledgement belongs to one epoch. */
interface Session {
  client: MqttClient | undefined;
  epoch: number;
  /** The QoS 1 message being made durable, and how to abandon it when its connection closes. */
  inFlight: Promise<void>;
  current: AbortController | undefined;
}

/**
 * The `ingest` role's MQTT input: subscribes to `$share/<group>/<topic>` with QoS 1 (MQTT 5), so any number of
 * ingest workers split the devices' messages. A message holds one JSON reading or newline-delimited readings; valid
 * ones go to raw.meters, the other lines to dlq-ingestion with the MQTT topic and line number.
 *
 * Devices authenticate to the broker, not with gridstream keys: what a device may write is the broker's ACL on
 * topics. A **group topic** — one with the segments `groups/<group>` (e.g. `gridstream/meters/groups/feeder-7/m-1`)
 * — carries readings of that group's meters only: a reading of a meter that is not in the group at its time (or not
 * in the registry) is refused (`ingest.group_forbidden`), like a group-limited key's over HTTP. So granting a device
 * publish rights on its group's topics only limits it to its group's meters. Other topics are taken as before (give
 * them to trusted head-end systems only).
 *
 * A QoS 1 message is acknowledged (PUBACK) only once its readings and dead letters are durable in the log, and only
 * on the connection it came on: if that connection closed meanwhile, the broker hands the message out again and
 * this copy is abandoned (at-least-once, duplicates possible). mqtt.js hands over a connection's next message only
 * after the previous one is acknowledged, so each worker opens several connections to keep several messages in
 * flight; devices and concentrators should still send many readings per message when rates are high. A device that
 * publishes with QoS 0 asked for at-most-once: its messages are batched to the log as they come. Shared
 * subscriptions give no order between messages, which event time makes harmless: every reading has its timestamp.
 *
 * A broker that cannot be reached (at start or later) does not stop the process: the input runs degraded
 * (`/readyz` 503 naming `ingest-mqtt`), reconnects in the background with backoff (1 s doubling to 60 s) and
 * warns at most once per backoff step. Every line goes through the same reading rules as the HTTP gateway.
 *
 * The log being unavailable is waited out (the message stays unacknowledged); any other write failure fails the
 * component, which stops the process rather than leaving it half-working.
 */
export function mqttIngest(deps: IngestDeps, options: MqttIngestOptions): Component {
  const { logger, scrub, metrics } = deps;
  const abort = new AbortController();
  const sessions: Session[] = [];
  // Messages are taken while starting (the first connections already receive) and running, not once stopping.
  const accepting = (): boolean => life.state === 'starting' || life.state === 'running';
  const pending: {
    readings: CanonicalReading[];
    rejects: RefusedLines[];
    rejected: number;
    letters: DeadLetter[];
    messages: number;
  } = {
    readings: [],
    rejects: [],
    rejected: 0,
    letters: [],
    messages: 0,
  };
  const rules = options.rules ?? DEFAULT_READING_RULES;
  const meterGroups = new MeterGroups(deps.db);
  /** QoS 0 messages of group topics waiting for the registry (counted against the same bound as `pending`). */
  let admitting = 0;
  let flushing: Promise<void> | undefined;
  let connecting: Promise<void> | undefined;
  let refusedQos0 = 0;

  /** A write failure that waiting cannot fix: the component fails (logged by the lifecycle, secrets scrubbed). */
  function fail(error: unknown): void {
    if (accepting()) life.fail(error);
  }

  function parse(topic: string, message: Buffer): ParsedReadings {
    const position = { mqttTopic: topic };
    if (message.byteLength <= MAX_MESSAGE_BYTES)
      return parseReadingBody(message, position, { rules, receivedAt: Date.now(), scrub, format: 'json' });
    const letter = buildDeadLetter(
      {
        stage: 'ingestion',
        reason: 'ingest.too_large',
        message: `MQTT message of ${message.byteLength} bytes is larger than ${MAX_MESSAGE_BYTES}`,
        retryable: false,
        source: null,
        position,
        payload: message.subarray(0, MAX_MESSAGE_BYTES).toString('utf8'),
      },
      { scrub },
    );
    return {
      readings: [],
      rejects: [{ reason: letter.reason, message: letter.message.slice(0, 300), count: 1, lines: [1] }],
      rejected: 1,
      letters: [letter],
    };
  }

  /** {@link parse}, and on a group topic the group check of each reading against the registry. */
  async function parseAdmitted(topic: string, message: Buffer): Promise<ParsedReadings> {
    const parsed = parse(topic, message);
    const group = groupOfTopic(topic);
    if (group === undefined || parsed.readings.length === 0) return parsed;
    const admit = await meterGroups.admission(parsed.readings, new Set([group]));
    return parseReadingBody(
      message,
      { mqttTopic: topic },
      { rules, receivedAt: Date.now(), scrub, format: 'json', admit },
    );
  }

  /** Writes readings and dead letters to the log, waiting out an unavailable log (or registry) until `signal` aborts. */
  async function write(parsed: ParsedReadings | (() => Promise<ParsedReadings>), signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await storeReadings(deps, typeof parsed === 'function' ? await parsed() : parsed, signal);
        life.recover();
        return;
      } catch (error) {
        if (signal.aborted || !isRetryable(error)) throw error;
        life.degrade(`the log refuses writes: ${errorCode(error)}`);
        logger.warn({ err: scrub(errorMessage(error)), attempt }, 'mqtt ingest: log write failed, retrying');
        if (!(await sleep(backoffDelay(attempt + 1, { baseMs: 250, maxMs: 30_000, jitter: 0.2 }), { signal })))
          throw signal.reason;
      }
    }
  }

  /** QoS 1: made durable, then acknowledged on the connection (epoch) it came on. */
  function onQos1(session: Session, topic: string, message: Buffer, done: (code: number) => void): void {
    if (!accepting()) return; // left unacknowledged, for the broker to hand out again
    const epoch = session.epoch;
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, abort.signal]);
    session.current = controller;
    session.inFlight = write(() => parseAdmitted(topic, message), signal)
      .then(() => {
        if (session.epoch === epoch && !signal.aborted) done(0);
      })
      .catch((error: unknown) => {
        if (!signal.aborted) fail(error);
      });
  }

  /** QoS 0: batched; a flush takes everything that arrived while the previous one ran. */
  function onQos0(topic: string, message: Buffer): void {
    if (!accepting()) return;
    if (pending.messages + admitting >= MAX_PENDING_QOS0) {
      if (refusedQos0++ % 10_000 === 0)
        logger.warn({ refused: refusedQos0 }, 'mqtt ingest: log behind, refusing QoS 0 messages (use QoS 1)');
      metrics.recordsRejected('ingestion', rawMetersTopic.name, 'ingest.overload', 1);
      return;
    }
    if (groupOfTopic(topic) !== undefined) {
      // At most once: a message whose group check fails (the registry unreachable) is dropped, counted and logged.
      admitting++;
      void parseAdmitted(topic, message)
        .then(enqueue, (error: unknown) => {
          metrics.recordsRejected('ingestion', rawMetersTopic.name, errorCode(error), 1);
          logger.warn(
            { err: scrub(errorMessage(error)), topic },
            'mqtt ingest: QoS 0 message of a group topic dropped',
          );
        })
        .finally(() => {
          admitting--;
        });
      return;
    }
    enqueue(parse(topic, message));
  }

  function enqueue(parsed: ParsedReadings): void {
    if (!accepting()) return;
    for (const r of parsed.readings) pending.readings.push(r);
    for (const l of parsed.letters) pending.letters.push(l);
    for (const l of parsed.rejects) pending.rejects.push(l);
    pending.rejected += parsed.rejected;
    pending.messages++;
    flushing ??= flush();
  }

  async function flush(): Promise<void> {
    try {
      while (pending.messages > 0 && life.state !== 'failed') {
        const batch = {
          readings: pending.readings.splice(0),
          rejects: pending.rejects.splice(0),
          rejected: pending.rejected,
          letters: pending.letters.splice(0),
        };
        pending.rejected = 0;
        pending.messages = 0;
        await write(batch, abort.signal);
      }
    } catch (error) {
      if (!abort.signal.aborted) fail(error);
    } finally {
      flushing = undefined;
    }
  }

  /**
   * Warnings about the broker, at most one per step of a growing interval (1 s, 2 s, 4 s … 60 s) while it stays
   * unreachable, with how many were left out; reset once connected. Sixteen reconnecting connections log as one.
   */
  const warnLimit = { next: 0, step: 0, suppressed: 0 };
  function warnBroker(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now < warnLimit.next) {
      warnLimit.suppressed++;
      return;
    }
    logger.warn({ ...fields, suppressed: warnLimit.suppressed }, message);
    warnLimit.suppressed = 0;
    warnLimit.next = now + Math.min(60_000, 1000 * 2 ** warnLimit.step++);
  }
  function brokerBack(): void {
    warnLimit.next = 0;
    warnLimit.step = 0;
    warnLimit.suppressed = 0;
  }

  async function connect(session: Session): Promise<MqttClient> {
    let client: MqttClient;
    try {
      // No retries of its own while connecting: the component retries with backoff (see `establish`).
      client = await connectAsync(
        options.url.reveal(),
        {
          protocolVersion: 5,
          clientId: `gridstream-ingest-${randomUUID().slice(0, 8)}`,
          clean: true,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          rejectUnauthorized: true,
          ...(options.ca === undefined || options.ca === null ? {} : { ca: options.ca }),
          customHandleAcks: (topic, message, _packet, done) => {
            onQos1(session, topic, message, done);
          },
        },
        false,
      );
    } catch (error) {
      // An untrusted certificate is a configuration error: the component fails rather than retrying forever.
      const tls = tlsFailure(error);
      if (tls !== undefined)
        throw new GridstreamError('mqtt.tls_failed', `cannot connect to the MQTT broker: ${tls.reason}`, {
          retryable: false,
          details: { tlsError: tls.code },
        });
      // Not the error itself as cause: its text may carry the URL, credentials included.
      throw new GridstreamError('mqtt.unavailable', `cannot connect to the MQTT broker: ${scrub(String(error))}`, {
        retryable: true,
      });
    }
    // Connected once: mqtt.js reconnects this connection from now on, backing off while the broker stays away.
    client.options.reconnectPeriod = RECONNECT_MIN_MS;
    client.on('message', (topic, message, packet) => {
      if (packet.qos === 0) onQos0(topic, message);
    });
    client.on('close', () => {
      session.epoch++;
      session.current?.abort();
      client.options.reconnectPeriod = Math.min(
        RECONNECT_MAX_MS,
        2 * (client.options.reconnectPeriod ?? 0) || RECONNECT_MIN_MS,
      );
      if (accepting()) life.degrade('a connection to the MQTT broker is down; reconnecting');
    });
    client.on('connect', () => {
      client.options.reconnectPeriod = RECONNECT_MIN_MS;
      if (sessions.every((s) => s.client === undefined || s.client.connected)) {
        life.recover();
        brokerBack();
      }
    });
    client.on('error', (error) => {
      warnBroker({ err: scrub(String(error)) }, 'mqtt ingest: broker error');
    });
    return client;
  }

  async function closeAll(): Promise<void> {
    await Promise.all(sessions.map((s) => s.client?.endAsync(true) ?? Promise.resolve()));
  }

  /** Opens every connection and subscribes it; on failure closes what was opened and throws. */
  async function establish(): Promise<void> {
    const subscription = `$share/${options.group}/${options.topic}`;
    try {
      for (let i = 0; i < (options.connections ?? DEFAULT_CONNECTIONS); i++) {
        const session: Session = { client: undefined, epoch: 0, inFlight: Promise.resolve(), current: undefined };
        sessions.push(session);
        session.client = await connect(session);
        const granted = await session.client.subscribeAsync(subscription, { qos: 1 });
        // Anything but QoS 1 granted (0: at-most-once; ≥ 128: refused) would quietly weaken delivery.
        if (granted.some((g) => g.qos !== 1))
          throw new GridstreamError(
            'mqtt.subscription_refused',
            `the MQTT broker did not grant QoS 1 on ${subscription} (granted ${granted.map((g) => g.qos).join(',')})`,
          );
      }
    } catch (error) {
      await closeAll();
      sessions.length = 0;
      throw error;
    }
    logger.info({ topic: subscription, connections: sessions.length }, 'mqtt ingest subscribed');
  }

  /**
   * Connects in the background until it works, backing off (1 s doubling to 60 s): an unreachable broker leaves
   * the input degraded (`/readyz` 503 naming it) and the rest of the process working. A broker that refuses the
   * subscription is a configuration error: the component fails.
   */
  async function keepConnecting(firstAttempt: number): Promise<void> {
    for (let attempt = firstAttempt; !abort.signal.aborted; attempt++) {
      try {
        await establish();
        life.recover();
        brokerBack();
        return;
      } catch (error) {
        if (isAborted(abort.signal)) return;
        if (!isRetryable(error)) {
          fail(error);
          return;
        }
        const delay = backoffDelay(attempt + 1, { baseMs: 1000, maxMs: 60_000, jitter: 0.2 });
        life.degrade(`the MQTT broker is unreachable (${errorCode(error)}); retrying in ${Math.round(delay / 1000)} s`);
        warnBroker(
          { err: scrub(errorMessage(error)), attempt, retryInMs: delay },
          'mqtt ingest: cannot reach the MQTT broker; retrying in the background',
        );
        if (!(await sleep(delay, { signal: abort.signal }))) return;
      }
    }
  }

  /** Tries once; if the broker cannot be reached, starts anyway (degraded) and keeps trying in the background. */
  async function start(): Promise<void> {
    try {
      await establish();
      return;
    } catch (error) {
      if (!isRetryable(error)) throw error;
      life.degrade(`the MQTT broker is unreachable (${errorCode(error)}); retrying`);
      warnBroker(
        { err: scrub(errorMessage(error)) },
        'mqtt ingest: cannot reach the MQTT broker at start; the input starts degraded and retries in the background',
      );
    }
    connecting = keepConnecting(0);
  }

  /** No new message; those in flight get the grace time to become durable and be acknowledged. */
  async function stop(graceMs: number): Promise<void> {
    await settlesWithin(Promise.all([...sessions.map((s) => s.inFlight), flushing]), graceMs);
    abort.abort();
    await connecting;
    await closeAll();
  }

  const life = new Lifecycle(
    'ingest-mqtt',
    { start, stop: ({ graceMs }) => stop(graceMs) },
    { graceMs: 10_000, onProblem: problemLogger(logger) },
  );
  return life;
}
