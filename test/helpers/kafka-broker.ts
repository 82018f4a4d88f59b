import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './services.ts';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

/** A private broker: its bootstrap address and scripts/kafka.sh bound to its ports and state dir. */
export interface PrivateBroker {
  readonly brokers: string[];
  kafka(command: 'start' | 'stop' | 'restart' | 'reset'): Promise<string>;
}

/**
 * A broker of our own (own ports, own state dir) run by scripts/kafka.sh: restarting the shared dev broker would
 * break every other suite running against it. `reset` stops it and deletes its state (call it in a finally).
 */
export async function privateBroker(
  stateDir: string,
  options: {
    /** Ports chosen by the caller (e.g. named in its extra listener properties); free ones otherwise. */
    readonly ports?: { readonly port: number; readonly controllerPort: number };
    /** More of scripts/kafka.sh's settings, e.g. its test hooks KAFKA_EXTRA_PROPERTIES and KAFKA_FORMAT_SCRAM. */
    readonly env?: Readonly<Record<string, string>>;
  } = {},
): Promise<PrivateBroker> {
  const { port, controllerPort } = options.ports ?? { port: await freePort(), controllerPort: await freePort() };
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    GRIDSTREAM_KAFKA_STATE: stateDir,
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
    ...options.env,
  };
  const kafka = async (command: 'start' | 'stop' | 'restart' | 'reset') => {
    const { stdout } = await run('bash', [SCRIPT, command], { env, timeout: 180_000 });
    return stdout;
  };
  await kafka('start');
  return { brokers: [`127.0.0.1:${port}`], kafka };
}
