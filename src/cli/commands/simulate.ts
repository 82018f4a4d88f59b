import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { ReadingSink, SimulationStats } from '../../simulator/index.ts';
import {
  FaultSpecError,
  NO_FAULTS,
  SendError,
  emptyStats,
  fleetCsv,
  generateFleet,
  httpSink,
  loadBdewProfiles,
  mqttSink,
  parseFaults,
  simulate,
  toWireReading,
} from '../../simulator/index.ts';
import { sleep } from '../../common/index.ts';
import { fromLocal, isValidTimeZone } from '../../time/index.ts';
import type { Command, ParsedArgs } from '../command.ts';
import { Checkpoint, EXIT, UsageError, listOption, stringOption } from '../command.ts';
import { LineWriter } from '../output.ts';

function intOption(args: ParsedArgs, name: string, fallback: number, min: number): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return value;
}

/** A local date (`2026-10-25`, local midnight in `tz`) or an instant with `Z` or an offset. */
function timeOption(args: ParsedArgs, name: string, tz: string): number {
  const text = stringOption(args, name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (date !== null) return fromLocal(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])), tz);
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text)))
    throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or a timestamp with Z or an offset (got "${text}")`);
  return Date.parse(text);
}

/** Writes lines to a file with backpressure. */
class FileLines {
  readonly #stream: ReturnType<typeof createWriteStream>;
  constructor(path: string) {
    this.#stream = createWriteStream(path);
  }
  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.#stream.write(`${lines.join('\n')}\n`)) await once(this.#stream, 'drain');
  }
  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

/**
 * The API key from `--key-file` (the file's first line) or `--key`. A key on the command line is
 * visible to other users in the process list, hence the file.
 */
async function apiKeyOption(args: ParsedArgs, ctx: { readonly cwd: string }): Promise<string | undefined> {
  const file = stringOption(args, 'key-file');
  const inline = stringOption(args, 'key');
  if (file !== undefined && inline !== undefined) throw new UsageError('give --key-file or --key, not both');
  if (file === undefined) return inline;
  let text: string;
  try {
    text = await readFile(resolve(ctx.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`--key-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const key = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (key === '') throw new UsageError(`--key-file: ${file} holds no key`);
  return key;
}

export const simulateMetersCommand: Command = {
  name: 'simulate meters',
  summary: 'A simulated smart-meter fleet (BDEW load profiles, faults, ground truth) sent to the ingest gateway',
  usage:
    'simulate meters --count N --from <date|ts> --to <date|ts> [--target http://…|mqtt://…] [--key-file <file> | --key <api key>] [--rate readings/s] [--faults …] [--seed N] [--truth <file>] [--fleet <file.csv>]',
  details: [
    'Meters sim-000001… with BDEW 1999 standard load profiles (mostly H0, some G0–G6 and L0–L2), annual',
    'consumption drawn per profile (H0 1,500–6,000 kWh), groups sim-feeder-001… (100 meters each), 10 % register',
    'meters. Energy of a quarter hour = profile watts × 0.25 h / 1000 × annual kWh / 1000 × seeded noise, no',
    'dynamisation, holidays only with --holidays; rounded to 4 decimals (kWh), the same in the wire value and the ground truth.',
    'Readings are in the device input schema (the gateway maps them to canonical readings): interval meters send',
    'energy_import for [ts, ts + 15 min), register',
    'meters send register_import (their counter) at --from and at every interval end.',
    '  --from, --to        a local date (midnight in --time-zone) or a timestamp with Z or an offset; --to exclusive',
    "  --time-zone         the meters' time zone (profiles follow local wall-clock time) (default Europe/Berlin)",
    '  --target            http(s)://host:port[/ingest/meters] (gzip NDJSON POSTs) or mqtt://host:port/<topic>',
    '                      (default topic gridstream/meters/simulated); without it NDJSON goes to stdout',
    '  --key-file          file holding the API key (operator) for the HTTP gateway (its first line)',
    '  --key               the key itself (visible to other users in the process list: prefer --key-file)',
    '  --rate              readings per second at most (default: as fast as the target takes them)',
    '  --batch             readings per request or message (default 1000)',
    '  --faults            gaps=0.5%,late=2%,duplicates=1%,spikes=0.1%,frozen=0.01%,negative=0.05%,clock-skew=0.05%,',
    '                      rollover (any subset; "default" for these rates; default none)',
    '  --holidays          local dates counted as Sundays, e.g. 2026-12-25,2026-12-26 (default none)',
    '  --seed              integer seed: the same seed gives the same fleet, truth and faults (default 1)',
    '  --truth             file for the ground truth: one NDJSON line per meter and quarter hour',
    '                      {meterId, group, ts, quantity, value, register?}, whatever the faults did to the stream',
    '  --fleet             file for the fleet as CSV, ready for `gridstream meters import` (…,profile,register_capacity_kwh)',
    'A JSON summary (counts of intervals, emitted, accepted, rejected, faults) goes to stderr at the end.',
    'Stops cleanly on SIGINT/SIGTERM (the truth file then holds what was generated so far).',
  ].join('\n'),
  options: {
    count: { type: 'string', short: 'n' },
    from: { type: 'string' },
    to: { type: 'string' },
    'time-zone': { type: 'string' },
    target: { type: 'string' },
    key: { type: 'string' },
    'key-file': { type: 'string' },
    rate: { type: 'string' },
    batch: { type: 'string' },
    faults: { type: 'string' },
    seed: { type: 'string' },
    holidays: { type: 'string' },
    truth: { type: 'string' },
    fleet: { type: 'string' },
  },
  async run(ctx, args) {
    const count = intOption(args, 'count', 0, 1);
    if (count === 0) throw new UsageError('--count is required');
    const timeZone = stringOption(args, 'time-zone') ?? 'Europe/Berlin';
    if (!isValidTimeZone(timeZone)) throw new UsageError(`--time-zone: unknown time zone "${timeZone}"`);
    const from = timeOption(args, 'from', timeZone);
    const to = timeOption(args, 'to', timeZone);
    if (!(to > from)) throw new UsageError('--to must be after --from');
    const seed = intOption(args, 'seed', 1, 0);
    const holidayList = listOption(args, 'holidays') ?? [];
    for (const d of holidayList)
      if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new UsageError(`--holidays: "${d}" is not a date (YYYY-MM-DD)`);
    const holidays = new Set(holidayList);
    const batchSize = intOption(args, 'batch', 1000, 1);
    const rate = intOption(args, 'rate', 0, 1);
    let faults = NO_FAULTS;
    try {
      const spec = stringOption(args, 'faults');
      if (spec !== undefined) faults = parseFaults(spec);
    } catch (error) {
      if (error instanceof FaultSpecError) throw new UsageError(`--faults: ${error.message}`);
      throw error;
    }
    const target = stringOption(args, 'target');
    let targetUrl: URL | undefined;
    if (target !== undefined) {
      if (!URL.canParse(target) || !/^(https?|mqtts?):$/.test(new URL(target).protocol))
        throw new UsageError('--target must be an http(s):// or mqtt(s):// URL');
      targetUrl = new URL(target);
      // A bare gateway address means its readings endpoint.
      if (targetUrl.protocol.startsWith('http') && targetUrl.pathname === '/') targetUrl.pathname = '/ingest/meters';
    }

    const profiles = loadBdewProfiles();
    const meters = generateFleet({ count, seed, rolloverShare: faults.rollover });
    const fleetFile = stringOption(args, 'fleet');
    if (fleetFile !== undefined) {
      const out = new FileLines(resolve(ctx.cwd, fleetFile));
      await out.write([fleetCsv(meters, 'DE_LU', timeZone).trimEnd()]);
      await out.close();
    }
    const truthFile = stringOption(args, 'truth');
    const truth = truthFile === undefined ? undefined : new FileLines(resolve(ctx.cwd, truthFile));
    const key = await apiKeyOption(args, ctx);
    let sink: ReadingSink | undefined;
    if (targetUrl?.protocol.startsWith('http') === true) {
      sink = httpSink(targetUrl.href, key === undefined ? {} : { key });
    } else if (targetUrl !== undefined) {
      const topic = targetUrl.pathname.replace(/^\//, '') || 'gridstream/meters/simulated';
      const broker = `${targetUrl.protocol}//${targetUrl.host}`;
      sink = await mqttSink(broker, {
        topic,
        ...(targetUrl.username === '' ? {} : { username: decodeURIComponent(targetUrl.username) }),
        ...(targetUrl.password === '' ? {} : { password: decodeURIComponent(targetUrl.password) }),
      });
    }
    const stdout = sink === undefined ? new LineWriter(ctx.stdout) : undefined;
    const stats: SimulationStats = emptyStats();
    let accepted = 0;
    let rejected = 0;
    let pending: string[] = [];
    const started = performance.now();
    let paced = 0;
    const checkpoint = new Checkpoint(ctx.signal);
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const lines = pending;
      pending = [];
      if (rate > 0) {
        const due = (paced / rate) * 1000 - (performance.now() - started);
        if (due > 0 && !(await sleep(due, { signal: ctx.signal }))) ctx.signal.throwIfAborted();
        paced += lines.length;
      }
      if (sink !== undefined) {
        const answer = await sink.send(lines, ctx.signal);
        accepted += answer.accepted;
        rejected += answer.rejected;
      } else if (stdout !== undefined) {
        for (const line of lines) await stdout.line(line);
        accepted += lines.length;
      }
    };
    let failure: string | undefined;
    try {
      for (const step of simulate({ meters, profiles, from, to, seed, timeZone, holidays, faults, stats })) {
        await truth?.write(step.truth.map((t) => JSON.stringify(t)));
        for (const r of step.send) {
          pending.push(JSON.stringify(toWireReading(r)));
          if (pending.length >= batchSize) await flush();
        }
        await checkpoint.pass();
      }
      await flush();
    } catch (error) {
      if (!(error instanceof SendError)) throw error;
      failure = error.message;
    } finally {
      await stdout?.flush();
      await truth?.close();
      await sink?.close();
      const summary = {
        meters: count,
        intervals: stats.intervals,
        emitted: stats.emitted,
        accepted,
        rejected,
        droppedByDesign: stats.faults.gaps,
        faults: stats.faults,
        rollovers: stats.rollovers,
        seconds: Math.round(performance.now() - started) / 1000,
      };
      ctx.stderr.write(`${JSON.stringify(summary)}\n`);
    }
    if (failure !== undefined) ctx.stderr.write(`gridstream simulate meters: ${failure}\n`);
    return failure !== undefined || rejected > 0 ? EXIT.failure : EXIT.ok;
  },
};
