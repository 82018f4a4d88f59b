import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { codedError, errorCode, errorMessage, isRetryable } from '../common/index.ts';
import { CONFIG_VARIABLES, ConfigError, SECRET_FILE_VARIABLES, loadConfig } from '../config/index.ts';
import type { Config } from '../config/index.ts';
import type { Command, CommandContext } from './command.ts';
import { EXIT, UsageError, stopExitCode, stopName } from './command.ts';
import { ownsDataDir, runInInstance } from './instance.ts';

const PROGRAM = 'gridstream';
const HELP_OPTION: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };

/**
 * Runs one command line (`argv` without node and script) and returns the exit code. Every command answers
 * `--help`; an unknown command or option is a usage error (exit 2).
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly Command[],
  ctx: CommandContext,
): Promise<number> {
  const write = (text: string): void => {
    ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const fail = (text: string): void => {
    ctx.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const words = argv.filter((a) => !a.startsWith('-'));
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && words.length === 1)) {
    write(overview(commands));
    return EXIT.ok;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    write('gridstream 0.1.0');
    return EXIT.ok;
  }
  const helpFor = argv[0] === 'help';
  const rest = helpFor ? argv.slice(1) : argv;
  const command = findCommand(rest, commands);
  if (command === undefined) {
    const group = commands.filter((c) => c.name.startsWith(`${rest[0] ?? ''} `));
    if (group.length > 0 && (rest.length === 1 || rest.includes('--help') || rest.includes('-h'))) {
      const asked = helpFor || rest.includes('--help') || rest.includes('-h');
      (asked ? write : fail)(overview(group));
      return asked ? EXIT.ok : EXIT.usage;
    }
    fail(
      `${PROGRAM}: unknown command "${rest.filter((a) => !a.startsWith('-')).join(' ')}"\nRun "${PROGRAM} --help" for the list of commands.`,
    );
    return EXIT.usage;
  }
  const args = rest.slice(command.name.split(' ').length);
  if (helpFor || args.includes('--help') || args.includes('-h')) {
    write(commandHelp(command));
    return EXIT.ok;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...HELP_OPTION, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    const [min, max] = command.positionals ?? [0, 0];
    if (parsed.positionals.length < min) throw new UsageError('missing argument');
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max] ?? ''}"`);
  } catch (error) {
    fail(`${PROGRAM} ${command.name}: ${errorMessage(error)}\nusage: ${PROGRAM} ${command.usage}`);
    return EXIT.usage;
  }
  try {
    if (ctx.instance !== undefined && command.usesData !== true) {
      fail(`${PROGRAM} ${command.name}: does not run through a running instance`);
      return EXIT.usage;
    }
    return await untilStopped(command, ctx, fail, async () => {
      if (command.usesData === true && ctx.instance === undefined) {
        const config = loadConfig(ctx.env);
        if (ownsDataDir(config)) {
          const code = await runInInstance(config, rest, ctx);
          if (code !== undefined) return code;
        }
      }
      return await command.run({ ...ctx, commands }, parsed);
    });
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`${PROGRAM} ${command.name}: ${error.message}\nusage: ${PROGRAM} ${command.usage}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      fail(`${PROGRAM}: ${error.message}`);
      return EXIT.usage;
    }
    // An expected failure (a database that is down, a locked directory, an upstream refusal) is a message, never a
    // stack trace; only a bug (an error without a gridstream code) reaches the entry point's handler.
    if (codedError(error) !== undefined) {
      const code = errorCode(error);
      const hint =
        code === 'db.locked' || code === 'log.locked'
          ? ' (a gridstream instance holds this data directory: when it has just been started, try again in a moment; commands reach it once it runs)'
          : isRetryable(error)
            ? ' (this may pass: try again)'
            : '';
      fail(`${PROGRAM} ${command.name}: ${errorCode(error)}: ${errorMessage(error)}${hint}`);
      return EXIT.failure;
    }
    throw error;
  }
}

/** Commands that stop their own components within `GRIDSTREAM_SHUTDOWN_GRACE_MS` and choose their exit code. */
const SUPERVISED = new Set(['start', 'run']);
/** How long any other command may take to stop once asked before the CLI gives up on it. */
export const CLI_STOP_GRACE_MS = 1500;

/**
 * Runs a command so that SIGTERM/SIGINT (`ctx.signal`) always ends it: a command that stops (returns or throws)
 * after the signal exits 130/143 with one line saying so; one that has not stopped `CLI_STOP_GRACE_MS` later is
 * given up on (the entry point then exits the process). `start` and `run` stop their components within
 * GRIDSTREAM_SHUTDOWN_GRACE_MS and keep their own exit code; they are given up on 5 s after that.
 */
async function untilStopped(
  command: Command,
  ctx: CommandContext,
  fail: (text: string) => void,
  run: () => Promise<number>,
): Promise<number> {
  const supervised = SUPERVISED.has(command.name);
  const graceMs = supervised ? shutdownGraceOf(ctx) + 5000 : CLI_STOP_GRACE_MS;
  const stopped = (): string => `${PROGRAM} ${command.name}: stopped by ${stopName(ctx.signal.reason)}`;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<{ late: true }>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => {
        resolve({ late: true });
      }, graceMs);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([
      run().then(
        (code) => ({ code }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
    if ('late' in outcome) {
      fail(`${stopped()} (it did not finish stopping within ${graceMs} ms; exiting)`);
      return stopExitCode(ctx.signal.reason);
    }
    if ('error' in outcome) {
      if (!ctx.signal.aborted || supervised) throw outcome.error;
      // Whatever a command throws once it was asked to stop (an abort, a closed connection) is the stop.
      fail(stopped());
      return stopExitCode(ctx.signal.reason);
    }
    if (ctx.signal.aborted && !supervised) {
      fail(stopped());
      return stopExitCode(ctx.signal.reason);
    }
    return outcome.code;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) ctx.signal.removeEventListener('abort', onAbort);
  }
}

function shutdownGraceOf(ctx: CommandContext): number {
  let config: Config;
  try {
    config = loadConfig(ctx.env);
  } catch {
    return 30_000;
  }
  return config.shutdownGraceMs;
}

function findCommand(argv: readonly string[], commands: readonly Command[]): Command | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (best === undefined || words.length > best.name.split(' ').length))
      best = c;
  }
  return best;
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  const nameWidth = Math.max(...CONFIG_VARIABLES.map(([name]) => name.length)) + 2;
  return [
    `${PROGRAM} — real-time energy-grid data platform`,
    '',
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...lines,
    '',
    `Run "${PROGRAM} <command> --help" for a command's options.`,
    '',
    'environment (every variable gridstream reads; default in brackets):',
    ...CONFIG_VARIABLES.map(([name, shown]) => `  ${name.padEnd(nameWidth)}[${shown}]`),
    '',
    'secrets from files (container secrets): each names a file holding its variable, which must then be unset:',
    ...SECRET_FILE_VARIABLES.map((name) => `  ${name}`),
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, ...HELP_OPTION }).map(([name, o]) => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag}`;
  });
  return [
    `usage: ${PROGRAM} ${command.usage}`,
    '',
    command.summary,
    ...(command.details === undefined ? [] : ['', command.details]),
    '',
    'options:',
    ...options,
  ].join('\n');
}
