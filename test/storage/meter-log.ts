import type { Decimal } from '../../src/common/index.ts';
import { fromScaled, normaliseDecimal } from '../../src/common/index.ts';
import type { IntervalInput, MeterDataInput, RegisterReadInput } from '../../src/storage/index.ts';

export const METER_TOPIC = 'raw.meters';
export const METER_GROUP = 'meters';
export const PARTITIONS = 3;

/** One record of the stand-in log: an interval or a register read, at its offset. */
export interface MeterLogRecord {
  readonly partition: number;
  readonly offset: number;
  readonly interval?: IntervalInput;
  readonly read?: RegisterReadInput;
}

const BASE = Date.UTC(2026, 9, 25);
const utc = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const decimal = (thousandths: bigint): Decimal => normaliseDecimal(fromScaled(thousandths, 3)) as Decimal;

/** A value in thousandths that depends only on the key: the same key again is an exact duplicate. */
const intervalValue = (p: number, meter: number, slot: number): bigint =>
  BigInt(((p * 104_729 + meter * 7919 + slot * 613) % 5000) + 1);
const registerDelta = (p: number, k: number): bigint => BigInt(((p * 31 + k * 977) % 900) + 100);

/**
 * A deterministic stand-in for `raw.meters`: `perPartition` records in each partition. Four interval meters per
 * partition repeat their 24 quarters (so many records are exact duplicates of earlier ones, at later offsets), and
 * every fifth record is the next read of the partition's register meter, 15 minutes after the previous one.
 */
export function meterLog(perPartition: number): MeterLogRecord[][] {
  const log: MeterLogRecord[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const records: MeterLogRecord[] = [];
    let counter = 1_000_000n;
    for (let offset = 0; offset < perPartition; offset++) {
      const position = { topic: METER_TOPIC, partition: p, offset };
      if (offset % 5 === 4) {
        const k = (offset - 4) / 5;
        if (k > 0) counter += registerDelta(p, k - 1);
        const read: RegisterReadInput = {
          meterId: `r-${p}`,
          quantity: 'register_import',
          ts: utc(BASE + k * 900_000),
          value: decimal(counter),
          recordedAt: null,
          position,
          intervalS: 900,
          groupId: `g-${p}`,
        };
        records.push({ partition: p, offset, read });
        continue;
      }
      const meter = offset % 4;
      const slot = (offset * 7) % 24;
      const interval: IntervalInput = {
        meterId: `m-${p}-${meter}`,
        quantity: 'energy_import',
        ts: utc(BASE + slot * 900_000),
        intervalS: 900,
        value: decimal(intervalValue(p, meter, slot)),
        groupId: `g-${p}`,
        recordedAt: null,
        position,
      };
      records.push({ partition: p, offset, interval });
    }
    log.push(records);
  }
  return log;
}

/** The records as writeMeterData's input. */
export function meterInput(records: readonly MeterLogRecord[]): MeterDataInput {
  return {
    intervals: records.flatMap((r) => (r.interval === undefined ? [] : [r.interval])),
    registerReads: records.flatMap((r) => (r.read === undefined ? [] : [r.read])),
    deviceReadings: [],
  };
}

/** What `meter_intervals` must hold once the whole log is applied: `meter|ts` → value in thousandths. */
export function expectedIntervals(log: readonly MeterLogRecord[][]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  log.forEach((records, p) => {
    const reads: RegisterReadInput[] = [];
    for (const r of records) {
      if (r.interval !== undefined)
        out.set(`${r.interval.meterId}|${r.interval.ts}`, numericThousandths(r.interval.value));
      if (r.read !== undefined) reads.push(r.read);
    }
    for (let k = 1; k < reads.length; k++) {
      const [a, b] = [reads[k - 1], reads[k]] as [RegisterReadInput, RegisterReadInput];
      out.set(`r-${p}|${a.ts}`, numericThousandths(b.value) - numericThousandths(a.value));
    }
  });
  return out;
}

/** A numeric's text ("-12.3", "4", "0.045") as thousandths, exactly. */
export function numericThousandths(text: string): bigint {
  const negative = text.startsWith('-');
  const [int = '0', frac = ''] = (negative ? text.slice(1) : text).split('.');
  if (frac.replace(/0+$/, '').length > 3) throw new Error(`more than three decimals: ${text}`);
  const value = BigInt(int) * 1000n + BigInt((frac + '000').slice(0, 3));
  return negative ? -value : value;
}
