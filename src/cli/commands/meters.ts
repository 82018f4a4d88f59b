import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MeterError, importMeters, listMeters } from '../../meters/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError, stringOption } from '../command.ts';
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
