import { normaliseDecimal } from '../common/index.ts';
import type { CanonicalReading, MeterReading } from '../contracts/index.ts';
import { READING_SCHEMA_VERSION } from '../contracts/index.ts';
import { formatUtc } from '../time/index.ts';

/** Values are integers of 1e-4 kWh: 4 decimals on the wire and in the ground truth, never a float sum. */
export const VALUE_SCALE = 10_000;
export const VALUE_DECIMALS = 4;

/** What the simulator quantities are: interval energy and cumulative register, both in kWh. */
export type SimQuantity = 'energy_import' | 'register_import';

/** One reading as the simulator sends it, before it is put on the wire. */
export interface SimReading {
  readonly meterId: string;
  readonly group: string;
  /** Interval start (`energy_import`) or instant of the counter read (`register_import`), UTC ms. */
  readonly ts: number;
  readonly quantity: SimQuantity;
  /** The value in 1e-4 kWh (an integer). */
  readonly units: number;
}

/** An integer of 1e-4 kWh as an exact decimal text with 4 decimals (`1234` → `0.1234`). */
export function formatUnits(units: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  return `${sign}${Math.floor(abs / VALUE_SCALE)}.${String(abs % VALUE_SCALE).padStart(VALUE_DECIMALS, '0')}`;
}

/**
 * The one place that maps a simulated reading onto the wire: today's ingest schema (`MeterReadingSchema` of
 * raw.meters). `value` is `units / 10 000`, which JSON writes as the shortest decimal that reads back to the same
 * number: at most 4 decimals, exactly the ground truth's value. Switch this function when the canonical reading
 * contract lands.
 */
export function toWireReading(r: SimReading): MeterReading {
  return {
    deviceId: r.meterId,
    kind: 'smart_meter',
    ts: formatUtc(r.ts),
    quantity: r.quantity,
    value: r.units / VALUE_SCALE,
    unit: 'kWh',
    group: r.group,
  };
}

/**
 * A simulated reading as a canonical reading of raw.meters (what the ingest gateway produces): the value as a
 * normalised exact decimal, a quarter-hour interval for interval energy, none for a counter read.
 */
export function toCanonicalReading(r: SimReading): CanonicalReading {
  return {
    v: READING_SCHEMA_VERSION,
    meter_id: r.meterId,
    kind: 'smart_meter',
    quantity: r.quantity,
    ts: formatUtc(r.ts),
    value: normaliseDecimal(formatUnits(r.units)) ?? '0',
    ...(r.quantity === 'energy_import' ? { interval: 'PT15M' } : {}),
  };
}
