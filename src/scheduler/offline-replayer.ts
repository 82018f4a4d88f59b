import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { PeriodicTask } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { Publisher, RawEntsoeDocument } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import { SchedulerError } from './errors.ts';

/** The bundled real ENTSO-E documents (`data/replay/entsoe/` of the package). */
export const DEFAULT_REPLAY_DIR = new URL('../../data/replay/entsoe/', import.meta.url);

export interface OfflineReplayerOptions {
  /** `raw.entsoe`. */
  readonly publisher: Publisher<RawEntsoeDocument>;
  readonly logger: Logger;
  /** @default {@link DEFAULT_REPLAY_DIR} */
  readonly dir?: URL | string;
  /** Delay between two documents. @default 5 000 ms */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

interface ReplayDocument {
  readonly fileName: string;
  readonly body: string;
}

/**
 * The embedded default without `ENTSOE_TOKEN`: publishes the bundled real ENTSO-E documents to `raw.entsoe` one
 * at a time on a timer, cycling through them forever, with `origin: 'replay'` — the same path live data takes,
 * so a newcomer sees the whole pipeline work offline. It says so loudly in the logs.
 */
export class OfflineReplayer {
  readonly #options: OfflineReplayerOptions;
  readonly #task: PeriodicTask;
  #documents: ReplayDocument[] | undefined;
  #next = 0;
  #published = 0;

  constructor(options: OfflineReplayerOptions) {
    this.#options = options;
    this.#task = periodic({
      name: 'offline-replay',
      logger: options.logger,
      intervalMs: options.intervalMs ?? 5000,
      backoff: { baseMs: Math.max(1000, options.intervalMs ?? 5000), maxMs: 60_000 },
      run: async (signal) => {
        await this.#publishNext(signal);
        return options.intervalMs ?? 5000;
      },
    });
  }

  /** The replay loop as a component (states, `/readyz`). */
  get task(): PeriodicTask {
    return this.#task;
  }

  /** Documents published so far. */
  get published(): number {
    return this.#published;
  }

  async #load(): Promise<ReplayDocument[]> {
    const dir = this.#options.dir ?? DEFAULT_REPLAY_DIR;
    const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
    const names = (await readdir(path)).filter((f) => f.endsWith('.xml')).sort();
    if (names.length === 0) {
      throw new SchedulerError('scheduler.no_replay_documents', `no ENTSO-E documents to replay in ${path}`);
    }
    const documents = await Promise.all(
      names.map(async (fileName) => ({ fileName, body: await readFile(`${path}/${fileName}`, 'utf8') })),
    );
    this.#options.logger.warn(
      { mode: 'offline-replay', dir: path, documents: documents.length, intervalMs: this.#options.intervalMs ?? 5000 },
      'ENTSOE_TOKEN is not set: OFFLINE REPLAY of bundled real ENTSO-E documents (historic data, not live); set ENTSOE_TOKEN to poll the ENTSO-E service',
    );
    return documents;
  }

  async #publishNext(signal: AbortSignal): Promise<void> {
    this.#documents ??= await this.#load();
    const documents = this.#documents;
    const doc = documents[this.#next % documents.length];
    if (doc === undefined) return;
    const cycle = Math.floor(this.#next / documents.length);
    const document: RawEntsoeDocument = {
      id: `replay-${cycle}-${doc.fileName}`.slice(0, 100),
      origin: 'replay',
      fetchedAt: new Date((this.#options.now ?? Date.now)()).toISOString(),
      request: null,
      httpStatus: null,
      body: doc.body,
      fileName: doc.fileName,
    };
    await this.#options.publisher.publish([document], { signal });
    this.#next++;
    this.#published++;
    this.#options.logger.debug({ mode: 'offline-replay', file: doc.fileName, cycle }, 'replayed an ENTSO-E document');
  }
}
