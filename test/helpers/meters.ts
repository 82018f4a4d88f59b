import assert from 'node:assert/strict';
import type { MeterSettings } from '../../src/config/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { CanonicalReading, DeadLetter } from '../../src/contracts/index.ts';
import { DeadLetterSchema, READING_SCHEMA_VERSION, rawMetersTopic } from '../../src/contracts/index.ts';
import type { Log } from '../../src/log/index.ts';
import { METERS_GROUP } from '../../src/meters/index.ts';
import type { Queryable } from '../../src/storage/index.ts';
import { loadOffsets } from '../../src/storage/index.ts';

/**
 * Waits until the meters role has stored (in the database, with its output) the offsets of everything raw.meters
 * holds: then what the database holds is final for what was sent. Never "until counts stop changing".
 */
export async function metersDrained(log: Log, db: Queryable, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ends = await log.offsets(rawMetersTopic.name);
    const stored = await loadOffsets(db, METERS_GROUP, rawMetersTopic.name);
    const behind = ends.filter(
      (e) => e.next > 0 && (stored.find((s) => s.partition === e.partition)?.offset ?? 0) < e.next,
    );
    if (behind.length === 0) return;
    if (Date.now() > deadline)
      assert.fail(`meters role still behind on partitions ${behind.map((b) => b.partition).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The dead letters of a topic, oldest first per partition. */
export async function deadLetters(log: Log, topic: string): Promise<DeadLetter[]> {
  const partitions = await log.offsets(topic);
  const records = (await Promise.all(partitions.map((p) => log.read(topic, p.partition, 0, 100_000)))).flat();
  return records.map((r) => DeadLetterSchema.parse(JSON.parse(Buffer.from(r.value).toString())));
}

/** A canonical interval reading of a meter (PT15M, energy_import unless told). */
export function interval(
  meterId: string,
  ts: string,
  value: string,
  extra: Partial<CanonicalReading> = {},
): CanonicalReading {
  return {
    v: READING_SCHEMA_VERSION,
    meter_id: meterId,
    kind: 'smart_meter',
    quantity: 'energy_import',
    ts,
    value,
    interval: 'PT15M',
    ...extra,
  };
}

/** The quarter-hour starts of [from, to) as canonical UTC texts. */
export function quarters(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += 900_000)
    out.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  return out;
}

/** The meters role's settings as a deployment without any meter variable gets them. */
export const DEFAULT_METER_SETTINGS: MeterSettings = loadConfig({}).meters;
