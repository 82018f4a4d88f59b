import type { Command } from './command.ts';
import { asyncapiCommand } from './commands/asyncapi.ts';
import { carbonCommand } from './commands/carbon.ts';
import { entsoeParseCommand } from './commands/entsoe-parse.ts';
import { processCommand } from './commands/process.ts';
import { runCommand, startCommand } from './commands/run.ts';
import { createBackfillCommand } from './commands/backfill.ts';
import { dlqListCommand, dlqReplayCommand, dlqShowCommand } from './commands/dlq.ts';
import { exportCommand } from './commands/export.ts';
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { metersImportCommand, metersListCommand, metersReadingsCommand } from './commands/meters.ts';
import { LOG_COMMANDS } from './commands/log.ts';
import { simulateMetersCommand } from './commands/simulate.ts';
import { openBackfillRuntime } from '../runtime/index.ts';

export { runCli } from './run-cli.ts';
export { type Command, type CommandContext, EXIT, UsageError, StopSignal, stopExitCode } from './command.ts';

/** Every `gridstream` command, in help order. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  runCommand,
  entsoeParseCommand,
  processCommand,
  carbonCommand,
  createBackfillCommand(openBackfillRuntime),
  exportCommand,
  migrateCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqReplayCommand,
  keysCreateCommand,
  keysListCommand,
  keysRevokeCommand,
  metersImportCommand,
  metersListCommand,
  metersReadingsCommand,
  ...LOG_COMMANDS,
  simulateMetersCommand,
  asyncapiCommand,
];
