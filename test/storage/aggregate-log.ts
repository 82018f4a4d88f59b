import type { MeterAggregate } from '../../src/contracts/index.ts';
import type { PositionedAggregate } from '../../src/storage/index.ts';

export const AGGREGATE_TOPIC = 'meters.aggregates';
export const PARTITIONS = 3;

/** Values in thousandths, so that expected sums are exact integers in the test and exact decimals in the database. */
function milli(i: number, salt: number): number {
  return ((i * 7919 + salt * 104_729) % 200_000) - 50_000;
}

/**
 * A deterministic stand-in for the `meters.aggregates` topic: `perPartition` records in each partition, with
 * many records per (group, window) so that merging is exercised, and values with three decimals.
 */
export function aggregateLog(perPartition: number): PositionedAggregate[][] {
  const log: PositionedAggregate[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const records: PositionedAggregate[] = [];
    for (let offset = 0; offset < perPartition; offset++) {
      const i = p * perPartition + offset;
      const window = i % 24;
      const start = Date.UTC(2025, 9, 21) + window * 900_000;
      const a = milli(i, 1);
      const b = milli(i, 2);
      const aggregate: MeterAggregate = {
        group: `feeder-${p}-${i % 4}`,
        quantity: 'energy_import',
        unit: 'kWh',
        windowStart: new Date(start).toISOString(),
        windowEnd: new Date(start + 900_000).toISOString(),
        count: 1 + (i % 5),
        sum: milli(i, 0) / 1000,
        min: Math.min(a, b) / 1000,
        max: Math.max(a, b) / 1000,
      };
      records.push({ topic: AGGREGATE_TOPIC, partition: p, offset, aggregate });
    }
    log.push(records);
  }
  return log;
}

/** Expected table: key → { count, sum (thousandths), min, max }. */
export function expectedAggregates(
  log: PositionedAggregate[][],
): Map<string, { count: number; sum: bigint; min: bigint; max: bigint }> {
  const out = new Map<string, { count: number; sum: bigint; min: bigint; max: bigint }>();
  const thousandths = (v: number): bigint => BigInt(Math.round(v * 1000));
  for (const { aggregate: a } of log.flat()) {
    const key = `${a.group}|${a.windowStart}`;
    const e = out.get(key);
    const [sum, min, max] = [thousandths(a.sum), thousandths(a.min), thousandths(a.max)];
    if (e === undefined) out.set(key, { count: a.count, sum, min, max });
    else {
      e.count += a.count;
      e.sum += sum;
      if (min < e.min) e.min = min;
      if (max > e.max) e.max = max;
    }
  }
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
