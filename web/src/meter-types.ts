/**
 * Answers of the meter read API (`/api/v1/meters…`, `/api/v1/groups/{group}/load`) narrowed from `unknown`.
 * Values stay exact decimal strings here; only the chart turns them into numbers.
 */
import type { Decoder } from './decode.ts';
import { DecodeError, array, bool, field, instant, nullable, num, numeric, record, str } from './decode.ts';

export const METER_QUALITIES = ['measured', 'estimated', 'substituted', 'missing'] as const;
export type MeterQuality = (typeof METER_QUALITIES)[number];

export const METER_RESOLUTIONS = ['PT15M', 'PT1H', 'P1D', 'P1M'] as const;
export type MeterResolution = (typeof METER_RESOLUTIONS)[number];

/** A registry row of a meter. */
export interface Meter {
  readonly meterId: string;
  readonly zone: string;
  readonly group: string;
  readonly timeZone: string;
  readonly registerType: string;
  readonly interval: string;
  /** Exact decimal. */
  readonly annualConsumptionKwh: string;
  readonly profile: string;
  readonly lat: number | null;
  readonly lon: number | null;
  /** Exact decimal; null: not a register meter, or not known. */
  readonly registerCapacityKwh: string | null;
  /** A meter of the simulated demo fleet, not a real device. */
  readonly simulated: boolean;
  readonly validFrom: string | null;
  readonly validTo: string | null;
}

/** One window of a meter's or a group's series. */
export interface LoadPoint {
  /** Window start, epoch milliseconds. */
  readonly ts: number;
  /** Exact decimal kWh; null: no value in the window. */
  readonly value: string | null;
  readonly quality: MeterQuality;
  /** False: the window may still change (the watermark has not passed its end). */
  readonly final: boolean;
  /** Group load only: interval values summed. */
  readonly count?: number;
}

/** A meter's readings or a group's load. */
export interface LoadSeries {
  /** The meter id or the group. */
  readonly subject: string;
  readonly quantity: string;
  readonly unit: string;
  readonly timeZone: string;
  readonly resolution: MeterResolution;
  readonly points: readonly LoadPoint[];
}

/** A decimal as the API writes it: the text is kept, never rounded through a float. */
function decimal(value: unknown, at: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const text = str(value, at);
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new DecodeError(`${at}: expected a decimal, got ${JSON.stringify(text)}`);
  return text;
}

function oneOf<T extends string>(values: readonly T[]): Decoder<T> {
  return (value, at) => {
    const text = str(value, at);
    if (!(values as readonly string[]).includes(text))
      throw new DecodeError(`${at}: expected one of ${values.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

/** Fields a newer registry added: absent in an older answer. */
function optional<T>(
  obj: Readonly<Record<string, unknown>>,
  name: string,
  decode: Decoder<T>,
  at: string,
  fallback: T,
): T {
  return obj[name] === undefined ? fallback : field(obj, name, decode, at);
}

export const decodeMeter: Decoder<Meter> = (value, at) => {
  const o = record(value, at);
  return {
    meterId: field(o, 'meter_id', str, at),
    zone: field(o, 'zone', str, at),
    group: field(o, 'group', str, at),
    timeZone: field(o, 'time_zone', str, at),
    registerType: field(o, 'register_type', str, at),
    interval: field(o, 'interval', str, at),
    annualConsumptionKwh: field(o, 'annual_consumption_kwh', decimal, at),
    profile: field(o, 'profile', str, at),
    lat: field(o, 'lat', nullable(num), at),
    lon: field(o, 'lon', nullable(num), at),
    registerCapacityKwh: optional(o, 'register_capacity_kwh', nullable(decimal), at, null),
    simulated: optional(o, 'simulated', bool, at, false),
    validFrom: field(o, 'valid_from', nullable(str), at),
    validTo: field(o, 'valid_to', nullable(str), at),
  };
};

/** `GET /api/v1/meters`: `{ meters: [...] }`, by meter id (the next page starts `after` the last). */
export const decodeMeterList: Decoder<Meter[]> = (value, at) =>
  field(record(value, at), 'meters', array(decodeMeter), at);

const decodeLoadPoint: Decoder<LoadPoint> = (value, at) => {
  const o = record(value, at);
  // Only the group load has counts (`in` does not count as reading a field the meter readings lack).
  const count = 'count' in o ? field(o, 'count', numeric, at) : undefined;
  return {
    ts: field(o, 'ts', instant, at),
    value: field(o, 'value', nullable(decimal), at),
    // The group load's quality is optional in the contract; a window without one is as good as its values.
    quality: optional(o, 'quality', oneOf(METER_QUALITIES), at, o['value'] === null ? 'missing' : 'measured'),
    final: field(o, 'final', bool, at),
    ...(count === undefined ? {} : { count }),
  };
};

function decodeSeries(subjectField: 'meter_id' | 'group'): Decoder<LoadSeries> {
  return (value, at) => {
    const o = record(value, at);
    return {
      subject: field(o, subjectField, str, at),
      quantity: field(o, 'quantity', str, at),
      unit: field(o, 'unit', str, at),
      timeZone: field(o, 'time_zone', str, at),
      resolution: field(o, 'resolution', oneOf(METER_RESOLUTIONS), at),
      points: field(o, 'points', array(decodeLoadPoint), at),
    };
  };
}

/** `GET /api/v1/meters/{id}/readings`. */
export const decodeMeterReadings: Decoder<LoadSeries> = decodeSeries('meter_id');

/** `GET /api/v1/groups/{group}/load`. */
export const decodeGroupLoad: Decoder<LoadSeries> = decodeSeries('group');
