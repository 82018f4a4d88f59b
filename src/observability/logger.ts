import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';
import type { LogFormat, LogLevel } from '../config/index.ts';
import { Secret } from '../config/index.ts';
import { prettyLine } from './pretty.ts';
import { redactUrl, secretScrubber } from './redact.ts';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where JSON lines go. @default process.stderr (stdout stays free for command output) */
  readonly destination?: { write(line: string): unknown; readonly isTTY?: boolean };
  /** `pretty` (short lines), `json`, or `auto`: pretty when the destination is a terminal. @default 'json' */
  readonly format?: LogFormat;
  /**
   * Secret values to scrub from every line, wherever they appear (a token inside a URL, an upstream error echoing
   * the request). A second line of defence behind field redaction and URL redaction at the call sites.
   */
  readonly secrets?: readonly (Secret | null | undefined)[];
  readonly name?: string;
}

const REDACT_PATHS = [
  'token',
  'securityToken',
  'apiKey',
  'password',
  'authorization',
  '*.token',
  '*.securityToken',
  '*.apiKey',
  '*.password',
  '*.authorization',
  'headers["auth-token"]',
  'headers["x-api-key"]',
];

/** A pino JSON logger whose output can never contain the given secrets. */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber((options.secrets ?? []).filter((s): s is Secret => s instanceof Secret));
  const target = options.destination ?? process.stderr;
  const tty = target.isTTY === true;
  const pretty = options.format === 'pretty' || (options.format === 'auto' && tty);
  const stacks = options.level === 'debug' || options.level === 'trace';
  const destination = {
    write(line: string): void {
      // Scrubbed before formatting and after: a secret can never survive either form.
      const clean = redactUrl(scrub(line));
      target.write(pretty ? redactUrl(scrub(prettyLine(clean, { colour: tty, stacks }))) : clean);
    },
  };
  return pino(
    {
      level: options.level,
      name: options.name ?? 'gridstream',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
