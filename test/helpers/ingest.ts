/** Shared pieces of the ingest tests (HTTP gateway and MQTT input). */
import { after, before } from 'node:test';
import type { HttpServer } from '../../src/api/index.ts';
import { createApiKey, pingReadiness } from '../../src/api/index.ts';
import type { MqttClient } from 'mqtt';
import type { MeterReading } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema } from '../../src/contracts/index.ts';
import type { IngestLimits } from '../../src/ingest/index.ts';
import { ingestGateway } from '../../src/ingest/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { embeddedInfra } from './infra.ts';

/** A valid smart-meter reading numbered `i` (device `meter-i`, value `i + 0.25` kWh). */
export const meterReading = (i: number): MeterReading => ({
  deviceId: `meter-${i}`,
  kind: 'smart_meter',
  ts: '2026-11-22T10:00:00Z',
  quantity: 'energy_import',
  value: i + 0.25,
  unit: 'kWh',
});

/** Every record value of `topic`, all partitions, from the earliest offset. */
export async function readTopic(infra: Infrastructure, topic: string): Promise<Buffer[]> {
  const partitions = await infra.log.offsets(topic);
  const out: Buffer[] = [];
  for (const p of partitions) {
    for (let at = p.earliest; at < p.next;) {
      const batch = await infra.log.read(topic, p.partition, at, 1000);
      if (batch.length === 0) break;
      for (const r of batch) out.push(Buffer.from(r.value));
      at = (batch.at(-1)?.offset ?? at) + 1;
    }
  }
  return out;
}

/** Polls `check` until it holds; throws naming `what` after `ms` (a hang guard, not a timing claim). */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What `useIngestGateway` gives a suite once its `before` hook ran. */
export interface IngestGatewayFixture {
  readonly infra: Infrastructure;
  readonly gateway: HttpServer;
  /** http://127.0.0.1:<port>/ingest/meters */
  readonly url: string;
  /** The header of a fresh operator key. */
  readonly auth: Record<string, string>;
}

/**
 * Registers before/after hooks in the calling suite: an embedded infrastructure, an ingest gateway on a free port
 * (with `limits`), and an operator key named `keyName`; stopped and removed after the suite.
 */
export function useIngestGateway(options: {
  readonly keyName: string;
  readonly limits?: Partial<IngestLimits>;
}): IngestGatewayFixture {
  let state: (IngestGatewayFixture & { remove(): Promise<void> }) | undefined;
  const get = (): IngestGatewayFixture => {
    if (state === undefined) throw new Error('the ingest gateway is used outside its suite');
    return state;
  };
  before(async () => {
    const embedded = await embeddedInfra();
    const infra = embedded.infra;
    const gateway = ingestGateway(infra, {
      host: '127.0.0.1',
      port: 0,
      readiness: pingReadiness(infra.db, infra.log),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
    await gateway.start();
    const { key } = await createApiKey(infra.db, { name: options.keyName, role: 'operator' });
    state = {
      infra,
      gateway,
      url: `http://127.0.0.1:${gateway.port}/ingest/meters`,
      auth: { authorization: `Bearer ${key}` },
      remove: () => embedded.remove(),
    };
  });
  after(async () => {
    await state?.gateway.stop();
    await state?.remove();
  });
  return {
    get infra() {
      return get().infra;
    },
    get gateway() {
      return get().gateway;
    },
    get url() {
      return get().url;
    },
    get auth() {
      return get().auth;
    },
  };
}

/**
 * Publishes one smart-meter reading of `meterId` on `topic` (QoS 1) and waits until the MQTT input has written it
 * to raw.meters.
 */
export async function publishReadingAndAwait(
  infra: Infrastructure,
  device: MqttClient,
  topic: string,
  reading: { readonly meterId: string; readonly value: number },
): Promise<void> {
  const payload = {
    deviceId: reading.meterId,
    kind: 'smart_meter',
    ts: '2026-11-22T10:00:00Z',
    quantity: 'energy_import',
    value: reading.value,
    unit: 'kWh',
  };
  await device.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
  await until(
    'the reading in raw.meters',
    async () =>
      (await readTopic(infra, 'raw.meters')).some(
        (v) => CanonicalReadingSchema.parse(JSON.parse(v.toString('utf8'))).meter_id === reading.meterId,
      ),
    30_000,
  );
}
