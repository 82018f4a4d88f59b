#!/usr/bin/env node
/**
 * The `gridstream` entry point: the only place that reads `process.env` and installs signal handlers. It hands the
 * environment to the CLI, which builds a typed config from it.
 */
import { COMMANDS, StopSignal, runCli, stopExitCode } from '../cli/index.ts';

const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`gridstream: second ${signal}, exiting now\n`);
      process.exit(stopExitCode(new StopSignal(signal)));
    }
    controller.abort(new StopSignal(signal));
  });
}

try {
  process.exitCode = await runCli(process.argv.slice(2), COMMANDS, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
    cwd: process.cwd(),
  });
} catch (error) {
  process.stderr.write(
    `gridstream: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}

// Once stopped by a signal, do not wait for work the command gave up on (runCli has already said so): exit.
if (controller.signal.aborted) setTimeout(() => process.exit(), 200).unref();
