import { z } from 'zod';
import { parseCsvRows } from '../common/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db, DbTransaction } from '../storage/index.ts';
import { isDataError } from '../storage/index.ts';
import { MeterError } from './errors.ts';
import type { UpsertOutcome } from './meter-store.ts';
import { insertNewMeters, meterTransaction, resolveMeter, upsertMeter } from './meter-store.ts';
import type { Meter } from './types.ts';
import { MeterInputSchema } from './types.ts';

/** Lines written per transaction. */
const IMPORT_BATCH_LINES = 500;

/** The columns a registry CSV must have, in any order. */
export const METER_CSV_REQUIRED = [
  'meter_id',
  'zone',
  'group',
  'time_zone',
  'register_type',
  'interval',
  'annual_consumption_kwh',
  'profile',
] as const;
/** Columns a registry CSV may add. */
export const METER_CSV_OPTIONAL = ['lat', 'lon', 'register_capacity_kwh', 'valid_from', 'valid_to'] as const;

/** A line the import refused: its 1-based line number in the file, and why. */
export interface MeterImportReject {
  readonly line: number;
  readonly meterId: string | null;
  readonly reason: string;
}

/** What {@link importMeters} did. */
export interface MeterImportResult {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly rejects: readonly MeterImportReject[];
}

const number = (field: string) =>
  z.string().transform((s, ctx) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `${field} must be a number` });
      return z.NEVER;
    }
    return n;
  });

const CsvRowSchema = MeterInputSchema.extend({ lat: number('lat').optional(), lon: number('lon').optional() });

function issueText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ');
}

/**
 * Imports a registry CSV (header `meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,
 * profile`, optionally `lat,lon,register_capacity_kwh,valid_from,valid_to`; empty optional cells mean "not given"). Rows are identified
 * by (meter_id, valid_from): a new row is inserted, a changed one updated, an equal one left alone — importing a
 * file twice changes nothing. Lines are written by meter id and valid_from, 500 to a transaction, each on its own (a savepoint):
 * a refused line is reported with its line number and reason and the others are still imported.
 * @throws MeterError `meters.invalid` when the header lacks a required column (nothing is imported).
 */
export async function importMeters(
  db: Db,
  reference: ReferenceData,
  text: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<MeterImportResult> {
  const rows = parseCsvRows(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const header = (rows[0] ?? []).map((h) => h.trim());
  const missing = METER_CSV_REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new MeterError('meters.invalid', `the header lacks column(s) ${missing.join(', ')}`, { field: 'header' });
  const known = new Set<string>([...METER_CSV_REQUIRED, ...METER_CSV_OPTIONAL]);
  const extra = header.filter((h) => !known.has(h));
  if (extra.length > 0)
    throw new MeterError('meters.invalid', `unknown column(s) ${extra.join(', ')}`, { field: 'header' });

  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0 };
  const rejects: MeterImportReject[] = [];
  const seen = new Map<string, number>();
  const valid: { readonly line: number; readonly meter: Meter }[] = [];
  // Line numbers count records (a quoted field spanning lines is not counted twice): exact for registry files,
  // which have no line breaks inside fields.
  for (let i = 1; i < rows.length; i++) {
    const cells = rows[i] ?? [];
    const line = i + 1;
    if (cells.length === 1 && (cells[0] ?? '').trim() === '') continue;
    const record: Record<string, string> = {};
    header.forEach((name, c) => {
      const v = (cells[c] ?? '').trim();
      if (v !== '') record[name] = v;
    });
    const meterId = record['meter_id'] ?? null;
    if (cells.length !== header.length) {
      rejects.push({ line, meterId, reason: `expected ${header.length} fields, found ${cells.length}` });
      continue;
    }
    const parsed = CsvRowSchema.safeParse(record);
    if (!parsed.success) {
      rejects.push({ line, meterId, reason: issueText(parsed.error) });
      continue;
    }
    const key = `${parsed.data.meter_id}\u0000${parsed.data.valid_from ?? ''}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      rejects.push({ line, meterId, reason: `repeats the meter and valid_from of line ${earlier}` });
      continue;
    }
    seen.set(key, line);
    try {
      valid.push({ line, meter: resolveMeter(parsed.data, reference) });
    } catch (error) {
      if (!(error instanceof MeterError)) throw error;
      rejects.push({ line, meterId, reason: `${error.code}: ${error.message}` });
    }
  }
  // One transaction per batch of lines: a writer locks each meter id it writes until it commits (the overlap
  // check), and PostgreSQL's lock table is small (out of shared memory at ~10 000 in one transaction). A line of
  // its own (a savepoint) so that a refused line leaves the others of its batch in. An interrupted import is
  // completed by running it again (rows already written are unchanged).
  // Each meter's validities oldest first, whatever the file's order: an exchange in a file (the old row closed, the
  // new one opened) then closes before it opens.
  valid.sort((a, b) =>
    a.meter.meter_id === b.meter.meter_id
      ? (a.meter.valid_from === null ? -Infinity : Date.parse(a.meter.valid_from)) -
        (b.meter.valid_from === null ? -Infinity : Date.parse(b.meter.valid_from))
      : a.meter.meter_id < b.meter.meter_id
        ? -1
        : 1,
  );
  for (let b = 0; b < valid.length; b += IMPORT_BATCH_LINES) {
    options.signal?.throwIfAborted();
    const batch = valid.slice(b, b + IMPORT_BATCH_LINES);
    const done = await meterTransaction(
      db,
      async (tx) => {
        const outcomes: (UpsertOutcome | MeterImportReject)[] = [];
        const rest = await insertNewOnes(tx, batch, outcomes);
        for (const { line, meter } of rest) {
          await tx.exec('SAVEPOINT meter_line');
          try {
            outcomes.push(await upsertMeter(tx, meter));
            await tx.exec('RELEASE SAVEPOINT meter_line');
          } catch (error) {
            await tx.exec('ROLLBACK TO SAVEPOINT meter_line');
            if (!(error instanceof MeterError)) throw error;
            outcomes.push({ line, meterId: meter.meter_id, reason: `${error.code}: ${error.message}` });
          }
        }
        return outcomes;
      },
      options,
    );
    for (const outcome of done) {
      if (typeof outcome === 'string') counts[outcome]++;
      else rejects.push(outcome);
    }
  }
  rejects.sort((a, b) => a.line - b.line);
  return { ...counts, rejects };
}

/**
 * Writes the lines of `batch` whose meter the registry has no row of (and that the batch names once) in one
 * statement, each counted `inserted` in `outcomes`; returns the other lines, for the row-by-row path (existing
 * meters, exchanges, anything the statement refused: then all of them, so each refusal is reported by line).
 */
async function insertNewOnes(
  tx: DbTransaction,
  batch: readonly { readonly line: number; readonly meter: Meter }[],
  outcomes: (UpsertOutcome | MeterImportReject)[],
): Promise<readonly { readonly line: number; readonly meter: Meter }[]> {
  const times = new Map<string, number>();
  for (const { meter } of batch) times.set(meter.meter_id, (times.get(meter.meter_id) ?? 0) + 1);
  const once = batch.filter(({ meter }) => times.get(meter.meter_id) === 1);
  if (once.length === 0) return batch;
  await tx.exec('SAVEPOINT meter_new');
  try {
    const existing = await insertNewMeters(
      tx,
      once.map((l) => l.meter),
    );
    await tx.exec('RELEASE SAVEPOINT meter_new');
    const inserted = new Set(once.filter(({ meter }) => !existing.has(meter.meter_id)));
    for (let i = 0; i < inserted.size; i++) outcomes.push('inserted');
    return batch.filter((l) => !inserted.has(l));
  } catch (error) {
    await tx.exec('ROLLBACK TO SAVEPOINT meter_new');
    if (!isDataError(error)) throw error;
    return batch;
  }
}
