import type { Command } from './command.ts';
import { asyncapiCommand } from './commands/asyncapi.ts';
import { carbonCommand } from './commands/carbon.ts';
import { entsoeParseCommand } from './commands/entsoe-parse.ts';
import { processCommand } from './commands/process.ts';

export { runCli } from './run-cli.ts';
export { type Command, type CommandContext, EXIT, UsageError } from './command.ts';

/** Every `gridstream` command, in help order. */
export const COMMANDS: readonly Command[] = [entsoeParseCommand, processCommand, carbonCommand, asyncapiCommand];
