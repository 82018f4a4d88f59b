import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MeterError, importMeters, listMeters, parseInstant } from '../../meters/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { MeterQuantity, MeterResolution } from '../../storage/index.ts';
import {
  METER_QUANTITIES,
  METER_RESOLUTIONS,
  meterValidities,
  meterWindows,
  readMeterAudited,
  METER_READ_LIMITS,
} from '../../storage/index.ts';
import { fromLocal } from '../../time/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError, choiceOption, cliPrincipal, stringOption } from '../command.ts';
import { csvField } from '../../common/index.ts';
import { withDb } from '../data.ts';

export const metersImportCommand: Command = {
  name: 'meters import',
  summary: 'Import the meter registry from a CSV file (idempotent; rejects reported by line)',
  usage: 'meters import <file.csv>',
  details:
    'Header: meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile, optionally ' +
    "lat,lon,valid_from,valid_to (empty cells: not given; time_zone defaults to the zone's, interval to PT15M). " +
    'A row is identified by meter_id and valid_from: new rows are inserted, changed rows updated, equal rows left ' +
    'alone. Exit 1 when any line was rejected (the others are imported), 2 when the file cannot be read or its ' +
    'header lacks a column.',
  usesData: true,
  positionals: [1, 1],
  run: async (ctx, args) => {
    const file = resolve(ctx.cwd, args.positionals[0] ?? '');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const reference = loadReference();
    return withDb(ctx, { migrate: true }, async (db) => {
      let result;
      try {
        result = await importMeters(db, reference, text, { signal: ctx.signal });
      } catch (error) {
        if (error instanceof MeterError && error.field === 'header') throw new UsageError(error.message);
        throw error;
      }
      for (const r of result.rejects)
        ctx.stderr.write(`line ${r.line}${r.meterId === null ? '' : ` (${r.meterId})`}: ${r.reason}\n`);
      const changed = result.inserted + result.updated;
      ctx.stderr.write(
        `${changed === 0 ? 'nothing changed: ' : ''}${result.inserted} inserted, ${result.updated} updated, ` +
          `${result.unchanged} unchanged, ${result.rejects.length} rejected\n`,
      );
      return result.rejects.length > 0 ? EXIT.failure : EXIT.ok;
    });
  },
};

/** The CSV header `meters list` prints (the import's columns: its output imports again). */
export const METERS_CSV_HEADER =
  'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile,lat,lon,valid_from,valid_to';

const LIST_PAGE_METERS = 10_000;

export const metersListCommand: Command = {
  name: 'meters list',
  summary: 'List the meter registry as CSV (every validity)',
  usage: 'meters list [--group g] [--zone DE_LU]',
  usesData: true,
  options: { group: { type: 'string', short: 'g' }, zone: { type: 'string', short: 'z' } },
  run: (ctx, args) => {
    const group = stringOption(args, 'group');
    const zone = stringOption(args, 'zone');
    if (zone !== undefined && !loadReference().hasZone(zone)) throw new UsageError(`unknown zone ${zone}`);
    return withDb(ctx, { migrate: true }, async (db) => {
      ctx.stdout.write(`${METERS_CSV_HEADER}\n`);
      // Page by meter id: a registry of millions of meters is never held in memory at once.
      let after: string | undefined;
      for (;;) {
        const rows = await listMeters(db, {
          ...(group === undefined ? {} : { group }),
          ...(zone === undefined ? {} : { zone }),
          ...(after === undefined ? {} : { after }),
          limit: LIST_PAGE_METERS,
        });
        for (const m of rows)
          ctx.stdout.write(
            `${[m.meter_id, m.zone, m.group, m.time_zone, m.register_type, m.interval, m.annual_consumption_kwh, m.profile, m.lat, m.lon, m.valid_from, m.valid_to].map(csvField).join(',')}\n`,
          );
        const last = rows.at(-1);
        if (last === undefined) break;
        after = last.meter_id;
        ctx.signal.throwIfAborted();
      }
      return EXIT.ok;
    });
  },
};

/** A bare date is 00:00 in the meter's time zone; else an instant with Z or an offset. */
function placeTime(text: string, name: string, timeZone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const local = Date.parse(`${text}T00:00:00Z`);
    if (Number.isFinite(local)) return fromLocal(local, timeZone);
  }
  const ms = parseInstant(text);
  if (ms === undefined) throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or a time with Z or an offset`);
  return ms;
}

export const metersReadingsCommand: Command = {
  name: 'meters readings',
  summary: "Print a meter's energy per window (exact decimals, quality, final); the read is audited",
  usage:
    'meters readings <meter-id> --from <date|time> --to <date|time> [--resolution PT15M|PT1H|P1D|P1M] ' +
    '[--quantity energy_import|energy_export] [--format csv|ndjson]',
  details:
    "Bare dates are 00:00 in the meter's time zone; P1D and P1M follow its calendar. Every window of [from, to) " +
    'is printed, a window without a value as an empty value with quality missing. The read is written to the ' +
    'meter-read audit log as cli:<os user>. Exit 1 when there is no such meter.',
  usesData: true,
  positionals: [1, 1],
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    resolution: { type: 'string' },
    quantity: { type: 'string' },
    format: { type: 'string' },
  },
  run: (ctx, args) => {
    const id = args.positionals[0] ?? '';
    const fromText = stringOption(args, 'from');
    const toText = stringOption(args, 'to');
    if (fromText === undefined || toText === undefined) throw new UsageError('--from and --to are required');
    const resolution = choiceOption<MeterResolution>(args, 'resolution', METER_RESOLUTIONS, 'PT15M');
    const quantity = choiceOption<MeterQuantity>(args, 'quantity', METER_QUANTITIES, 'energy_import');
    const format = choiceOption(args, 'format', ['csv', 'ndjson'] as const, 'csv');
    return withDb(ctx, { migrate: true }, async (db) => {
      const latest = (await meterValidities(db, id)).at(-1);
      if (latest === undefined) {
        ctx.stderr.write(`no meter ${id}\n`);
        return EXIT.failure;
      }
      const from = placeTime(fromText, 'from', latest.time_zone);
      const to = placeTime(toText, 'to', latest.time_zone);
      if (to - from > METER_READ_LIMITS.days * 86_400_000)
        throw new UsageError(`the range may span at most ${METER_READ_LIMITS.days} days`);
      const result = meterWindows(from, to, resolution, latest.time_zone, METER_READ_LIMITS.points);
      if ('refused' in result) throw new UsageError(`--${result.refused.param}: ${result.refused.message}`);
      const { points } = await readMeterAudited(
        db,
        { meterId: id, quantity, resolution, windows: result.windows },
        { principal: cliPrincipal(ctx), path: 'cli', from, to },
      );
      if (format === 'csv') ctx.stdout.write('meter_id,quantity,ts,value,quality,final\n');
      for (const p of points) {
        const { ts, value, quality, final } = p;
        ctx.stdout.write(
          format === 'csv'
            ? `${[id, quantity, ts, value ?? '', quality, String(final)].map(csvField).join(',')}\n`
            : `${JSON.stringify({ meter_id: id, quantity, ts, value, quality, final })}\n`,
        );
      }
      return EXIT.ok;
    });
  },
};
