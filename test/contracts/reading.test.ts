import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalVerdict } from '../../src/contracts/index.ts';
import {
  CanonicalReadingSchema,
  DEFAULT_READING_RULES,
  RawMeterRecordSchema,
  canonicalOfRaw,
  rawMetersTopic,
  normaliseInterval,
  parseReadingLine,
  readingFromRecord,
  toExactDecimal,
  toUtcText,
} from '../../src/contracts/index.ts';
import { addDecimals, compareDecimals, shiftDecimal, subtractDecimals } from '../../src/common/index.ts';
import type { Decimal } from '../../src/common/index.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const read = (record: unknown): CanonicalVerdict => readingFromRecord(record, DEFAULT_READING_RULES, NOW);
const d = (s: string): Decimal => s as Decimal;

describe('exact decimals', () => {
  it('adds, subtracts, compares and shifts without float error', () => {
    assert.equal(addDecimals(d('0.1'), d('0.2')), '0.3');
    assert.equal(subtractDecimals(d('100000'), d('99999.9')), '0.1');
    assert.equal(subtractDecimals(d('0.3'), d('1.25')), '-0.95');
    assert.equal(compareDecimals(d('10'), d('9.99')), 1);
    assert.equal(compareDecimals(d('-0.5'), d('-0.50')), 0);
    assert.equal(shiftDecimal(d('1250'), -3), '1.25');
    assert.equal(shiftDecimal(d('1.5'), 3), '1500');
    assert.equal(shiftDecimal(d('-0.004'), -3), '-0.000004');
  });
  it('reads a source text exactly, exponent included, and refuses what does not fit', () => {
    assert.deepEqual(toExactDecimal('0.1000'), { value: '0.1' });
    assert.deepEqual(toExactDecimal('1.5e3'), { value: '1500' });
    assert.deepEqual(toExactDecimal('12345678901234567.891'), { value: '12345678901234567.891' });
    assert.deepEqual(
      [toExactDecimal('1e-400'), toExactDecimal('1e400'), toExactDecimal('0.0000000000001')].map(
        (x) => 'range' in x && x.range,
      ),
      [true, true, true],
    );
    const nan = toExactDecimal('NaN');
    assert.equal('range' in nan && nan.range, false);
    assert.ok('range' in nan);
  });
});

describe('times and intervals', () => {
  it('normalises an offset to UTC and refuses a time without one', () => {
    assert.deepEqual(toUtcText('2026-10-25T03:00:00+02:00'), { utc: '2026-10-25T01:00:00Z' });
    assert.deepEqual(toUtcText('2026-10-25T01:00Z'), { utc: '2026-10-25T01:00:00Z' });
    assert.deepEqual(toUtcText('2026-03-29T00:30:00.250-0130'), { utc: '2026-03-29T02:00:00.250Z' });
    assert.match(String(Object.values(toUtcText('2026-10-25T01:00:00'))[0]), /has no offset/);
    assert.match(String(Object.values(toUtcText('2026-02-30T00:00:00Z'))[0]), /not a valid date/);
    assert.match(String(Object.values(toUtcText('2026-10-25T01:00:00.0001Z'))[0]), /finer than a millisecond/);
  });
  it('writes intervals canonically and refuses what is not whole minutes up to a day', () => {
    assert.deepEqual(['PT15M', 'PT60M', 'PT1H30M', 'PT1440M', 'P1D', 'PT0M', 'PT25H', 'PT15S'].map(normaliseInterval), [
      'PT15M',
      'PT1H',
      'PT90M',
      'PT24H',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('input shapes → canonical reading', () => {
  it("maps today's device schema: energy in Wh → energy_import kWh, ts as the interval start, the meter's interval", () => {
    const v = read({
      deviceId: 'meter-1',
      kind: 'smart_meter',
      ts: '2026-10-25T01:00:00Z',
      quantity: 'energy',
      value: '1250',
      unit: 'Wh',
      group: 'feeder-7',
    });
    assert.deepEqual(v, {
      ok: true,
      reading: {
        v: 2,
        meter_id: 'meter-1',
        kind: 'smart_meter',
        quantity: 'energy_import',
        ts: '2026-10-25T01:00:00Z',
        value: '1.25',
        group: 'feeder-7',
      },
    });
  });
  it("maps today's free quantity strings and units, and refuses what has no mapping", () => {
    const legacy = (quantity: string, unit: string, value: string | number = 230): CanonicalVerdict =>
      read({ deviceId: 'd', kind: 'scada', ts: '2026-10-25T01:00:00Z', quantity, value, unit });
    const ok = (x: CanonicalVerdict): unknown => (x.ok ? [x.reading.quantity, x.reading.value] : x.reason);
    assert.deepEqual(ok(legacy('Active Power', 'MW', 1.5)), ['power', '1500']);
    assert.deepEqual(ok(legacy('voltage', 'kV', '0.4')), ['voltage', '400']);
    assert.deepEqual(ok(legacy('frequency', 'Hz', 49.98)), ['frequency', '49.98']);
    assert.deepEqual(ok(legacy('register', 'kWh', '99999.9')), ['register_import', '99999.9']);
    assert.deepEqual(ok(legacy('feed-in', 'kWh', 2)), ['energy_export', '2']);
    assert.equal(ok(legacy('reactive_power', 'kvar')), 'ingest.unmapped_quantity');
    assert.equal(ok(legacy('energy', 'kW')), 'ingest.unmapped_quantity');
    assert.equal(ok(legacy('voltage', 'mV')), 'ingest.unmapped_quantity');
  });
  it('takes the canonical shape with an offset, a recorded_at and a number value exactly', () => {
    const v = read({
      meter_id: 'm-9',
      quantity: 'energy_export',
      ts: '2026-10-25T02:15:00+01:00',
      value: '0.010',
      interval: 'PT60M',
      recorded_at: '2026-10-25T03:20:00+01:00',
      unit: 'kWh',
    });
    assert.deepEqual(v.ok && v.reading, {
      v: 2,
      meter_id: 'm-9',
      kind: 'smart_meter',
      quantity: 'energy_export',
      ts: '2026-10-25T01:15:00Z',
      value: '0.01',
      interval: 'PT1H',
      recorded_at: '2026-10-25T02:20:00Z',
    });
    // Without an interval, an energy reading has its meter's registry interval (the meters role reads it).
    const registry = read({ meter_id: 'm', quantity: 'energy_import', ts: '2026-10-25T01:00:00Z', value: 1 });
    assert.equal(registry.ok && registry.reading.interval, undefined);
    assert.equal(registry.ok, true);
    const stray = read({ meter_id: 'm', quantity: 'power', ts: '2026-10-25T01:00Z', value: 1, interval: 'PT15M' });
    assert.equal(!stray.ok && stray.reason, 'ingest.invalid_reading');
    const wrongUnit = read({ meter_id: 'm', quantity: 'power', ts: '2026-10-25T01:00Z', value: 1, unit: 'W' });
    assert.equal(!wrongUnit.ok && wrongUnit.reason, 'ingest.unmapped_quantity');
  });
  it("takes the common shape {meter_id, timestamp, consumption} as energy_import kWh over the meter's interval", () => {
    const v = read({ meter_id: 'MTR-1', timestamp: '2026-10-25T00:45:00Z', consumption: '0.337' });
    assert.deepEqual(v.ok && v.reading, {
      v: 2,
      meter_id: 'MTR-1',
      kind: 'smart_meter',
      quantity: 'energy_import',
      ts: '2026-10-25T00:45:00Z',
      value: '0.337',
    });
  });
  it('refuses, with a reason each: no offset, out of bounds, control characters, out-of-range values', () => {
    const reason = (x: CanonicalVerdict): string => (x.ok ? 'accepted' : x.reason);
    const base = { meter_id: 'm', timestamp: '2026-10-25T00:45:00Z', consumption: '1' };
    assert.equal(reason(read({ ...base, timestamp: '2026-10-25T00:45:00' })), 'ingest.timestamp_without_offset');
    assert.equal(reason(read({ ...base, timestamp: 'yesterday' })), 'ingest.invalid_reading');
    assert.equal(reason(read({ ...base, timestamp: '1999-12-31T23:45:00Z' })), 'ingest.timestamp_out_of_range');
    assert.equal(reason(read({ ...base, timestamp: '2026-12-03T00:00:00Z' })), 'ingest.timestamp_out_of_range');
    assert.equal(reason(read({ ...base, meter_id: 'm\u0085' })), 'ingest.control_character');
    assert.equal(reason(read({ ...base, consumption: '1e-400' })), 'ingest.number_out_of_range');
    assert.equal(reason(read({ ...base, consumption: 'lots' })), 'ingest.invalid_reading');
    assert.equal(reason(read([base])), 'ingest.invalid_reading');
  });
  it('every accepted reading passes the canonical schema; the schema refuses floats and local times', () => {
    const v = read({ meter_id: 'm', timestamp: '2026-10-25T00:45:00+00:00', consumption: 3 });
    assert.ok(v.ok);
    assert.ok(CanonicalReadingSchema.safeParse(v.reading).success);
    assert.equal(CanonicalReadingSchema.safeParse({ ...v.reading, value: 3 }).success, false);
    assert.equal(CanonicalReadingSchema.safeParse({ ...v.reading, value: '3.0' }).success, false);
    assert.equal(CanonicalReadingSchema.safeParse({ ...v.reading, ts: '2026-10-25T00:45:00+01:00' }).success, false);
  });
});

describe('raw.meters records', () => {
  it('decode both versions: a version-1 record (the old schema) is read as the canonical reading', () => {
    const v1 = {
      deviceId: 'meter-7',
      kind: 'smart_meter',
      ts: '2026-11-22T10:00:00Z',
      quantity: 'energy_import',
      value: 7.25,
      unit: 'kWh',
      group: 'feeder-7',
    };
    const record = RawMeterRecordSchema.parse(v1);
    assert.equal(rawMetersTopic.key(record), 'meter-7');
    assert.deepEqual(canonicalOfRaw(record), {
      ok: true,
      reading: {
        v: 2,
        meter_id: 'meter-7',
        kind: 'smart_meter',
        quantity: 'energy_import',
        ts: '2026-11-22T10:00:00Z',
        value: '7.25',
        group: 'feeder-7',
      },
    });
    const v2 = RawMeterRecordSchema.parse({ ...(canonicalOfRaw(record) as { reading: object }).reading });
    assert.equal(rawMetersTopic.key(v2), 'meter-7');
    assert.deepEqual(canonicalOfRaw(v2), canonicalOfRaw(record));
  });
});

describe('parseReadingLine: values from their source text', () => {
  const line = (value: string, extra = ''): Uint8Array =>
    Buffer.from(
      `{"deviceId":"m-1","kind":"smart_meter","ts":"2026-11-22T10:00:00Z","quantity":"energy","unit":"kWh"${extra},"value":${value}}`,
    );
  const valueOf = (bytes: Uint8Array): string => {
    const v = parseReadingLine(bytes, DEFAULT_READING_RULES, NOW);
    return v.ok ? v.reading.value : v.reason;
  };
  it('keeps digits a float would lose, with or without spaces, and refuses what would be altered', () => {
    assert.equal(valueOf(line('12345678901234567.25')), '12345678901234567.25');
    assert.equal(valueOf(line(' 0.30000000000')), '0.3');
    assert.equal(valueOf(line('1.25')), '1.25');
    assert.equal(valueOf(line('2.5E2')), '250');
    assert.equal(valueOf(line('1e-400')), 'ingest.number_out_of_range');
    // A nested "value" must not be taken for the reading's.
    assert.equal(valueOf(line('9007199254740993', ',"meta":{"value":9007199254740992}')), '9007199254740993');
  });
});
