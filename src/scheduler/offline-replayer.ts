import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeriodicTask } from '../common/index.ts';
import { errorMessage, periodic } from '../common/index.ts';
import type { Publisher, RawEntsoeDocument } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import { SchedulerError } from './errors.ts';
import type { ReplayedDocumentStore } from './replayed-document-store.ts';

/** The bundled real ENTSO-E documents (`data/replay/entsoe/` of the package). */
export const DEFAULT_REPLAY_DIR = new URL('../../data/replay/entsoe/', import.meta.url);

export interface OfflineReplayerOptions {
  /** `raw.entsoe`. */
  readonly publisher: Publisher<RawEntsoeDocument>;
  readonly logger: Logger;
  /** What has been published already (the `replayed_documents` table, so that it survives restarts). */
  readonly store: ReplayedDocumentStore;
  /** @default {@link DEFAULT_REPLAY_DIR} */
  readonly dir?: URL | string;
  /** Delay between two documents. @default 5 000 ms */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** Where the offline replay stands, since this process started it (the admin connectors page shows it). */
export interface ReplayProgress {
  /** Bundled documents found by the last scan of the directory (0 before the first). */
  readonly documents: number;
  /** Documents published. */
  readonly published: number;
  /** Documents passed over because their content was published before (by an earlier pass or process). */
  readonly skipped: number;
  /** Documents of the current pass still to publish. */
  readonly pending: number;
  /** Finished passes over the directory (one that found nothing new counts too). */
  readonly cycles: number;
  /** The last document published, and when (epoch ms). */
  readonly lastFile: string | null;
  readonly lastPublishedAt: number | null;
  /** The last pass found everything published: the replay only looks at the directory again now and then. */
  readonly idle: boolean;
  readonly intervalMs: number;
}

interface ReplayFile {
  readonly fileName: string;
  readonly contentHash: string;
  readonly body: string;
}

/**
 * The embedded default without `ENTSOE_TOKEN`: publishes the bundled real ENTSO-E documents to `raw.entsoe` one
 * at a time on a timer, with `origin: 'replay'` — the same path live data takes, so a newcomer sees the whole
 * pipeline work offline. It says so loudly in the logs, once.
 *
 * Each pass reads the directory again and publishes only the documents whose content (SHA-256) the store does not
 * list yet, then records them. Publishing a document again would store nothing (its values are already there) but
 * would still grow the log: ~1.3 MB per pass over the bundle, all topics together, ~0.8 MB a minute at the default
 * interval, ~8 GB at the default 7-day retention. A new or edited file has a new hash and is published on the next
 * pass. When everything is published the replay is idle: it looks at the directory once per `documents × intervalMs`
 * (as long as one pass of the bundle takes), so a change shows up no later than it would have been replayed before.
 */
export class OfflineReplayer {
  readonly #options: OfflineReplayerOptions;
  readonly #intervalMs: number;
  readonly #task: PeriodicTask;
  /** The current pass: documents still to publish, in file name order. */
  #pending: ReplayFile[] = [];
  /** The head of `#pending` is in the log but not yet in the store (recording failed): retry only the record. */
  #headInLog = false;
  #scans = 0;
  #documents = 0;
  #published = 0;
  #skipped = 0;
  #cycles = 0;
  #lastFile: string | null = null;
  #lastPublishedAt: number | null = null;
  #idle = false;

  constructor(options: OfflineReplayerOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#task = periodic({
      name: 'offline-replay',
      logger: options.logger,
      intervalMs: this.#intervalMs,
      backoff: { baseMs: Math.max(1000, this.#intervalMs), maxMs: 60_000 },
      run: (signal) => this.#step(signal),
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

  /** Where the replay stands, counted since this replayer started. */
  get progress(): ReplayProgress {
    return {
      documents: this.#documents,
      published: this.#published,
      skipped: this.#skipped,
      pending: this.#pending.length,
      cycles: this.#cycles,
      lastFile: this.#lastFile,
      lastPublishedAt: this.#lastPublishedAt,
      idle: this.#idle,
      intervalMs: this.#intervalMs,
    };
  }

  get #dir(): string {
    const dir = this.#options.dir ?? DEFAULT_REPLAY_DIR;
    return typeof dir === 'string' ? dir : fileURLToPath(dir);
  }

  /** One iteration: starts a pass when the last one is done, publishes its next document; returns the delay. */
  async #step(signal: AbortSignal): Promise<number> {
    if (this.#pending.length === 0) {
      const pending = await this.#scan(signal);
      if (pending === 0) {
        this.#cycles++;
        if (!this.#idle) {
          this.#idle = true;
          this.#options.logger.info(
            { mode: 'offline-replay', documents: this.#documents, published: this.#published, cycles: this.#cycles },
            'offline replay: every bundled document is published; idle until a file in the replay directory changes',
          );
        }
        return this.#intervalMs * Math.max(1, this.#documents);
      }
      this.#idle = false;
    }
    const doc = this.#pending[0];
    if (doc === undefined) return this.#intervalMs;
    if (!this.#headInLog) {
      const document: RawEntsoeDocument = {
        id: `replay-${doc.contentHash.slice(0, 16)}-${doc.fileName}`.slice(0, 100),
        origin: 'replay',
        fetchedAt: new Date((this.#options.now ?? Date.now)()).toISOString(),
        request: null,
        httpStatus: null,
        body: doc.body,
        fileName: doc.fileName,
      };
      await this.#options.publisher.publish([document], { signal });
      this.#headInLog = true;
      this.#published++;
      this.#lastFile = doc.fileName;
      this.#lastPublishedAt = (this.#options.now ?? Date.now)();
    }
    // Recorded after the log has it: a crash in between publishes the document once more, which stores nothing.
    await this.#storeCall('record', () =>
      this.#options.store.record({ contentHash: doc.contentHash, fileName: doc.fileName }, { signal }),
    );
    this.#pending.shift();
    this.#headInLog = false;
    if (this.#pending.length === 0) this.#cycles++;
    this.#options.logger.debug(
      { mode: 'offline-replay', file: doc.fileName, cycle: this.#cycles },
      'replayed an ENTSO-E document',
    );
    return this.#intervalMs;
  }

  /** Reads the directory and makes the documents the store does not list the next pass; returns how many. */
  async #scan(signal: AbortSignal): Promise<number> {
    const dir = this.#dir;
    const names = (await readdir(dir)).filter((f) => f.endsWith('.xml')).sort();
    if (names.length === 0) {
      throw new SchedulerError('scheduler.no_replay_documents', `no ENTSO-E documents to replay in ${dir}`);
    }
    const files = await Promise.all(
      names.map(async (fileName): Promise<ReplayFile> => {
        const bytes = await readFile(join(dir, fileName), { signal });
        return {
          fileName,
          contentHash: createHash('sha256').update(bytes).digest('hex'),
          body: bytes.toString('utf8'),
        };
      }),
    );
    const published = await this.#storeCall('published', () =>
      this.#options.store.published(
        files.map((f) => f.contentHash),
        { signal },
      ),
    );
    // Two files with the same bytes are one document: the second would store nothing either.
    const seen = new Set<string>();
    const pending = files.filter((f) => {
      const fresh = !published.has(f.contentHash) && !seen.has(f.contentHash);
      seen.add(f.contentHash);
      return fresh;
    });
    const first = this.#scans === 0;
    this.#scans++;
    this.#documents = files.length;
    this.#skipped += files.length - pending.length;
    this.#pending = pending;
    if (first) {
      this.#options.logger.warn(
        {
          mode: 'offline-replay',
          dir,
          documents: files.length,
          alreadyPublished: files.length - pending.length,
          intervalMs: this.#intervalMs,
        },
        'ENTSOE_TOKEN is not set: OFFLINE REPLAY of bundled real ENTSO-E documents (historic data, not live); set ENTSOE_TOKEN to poll the ENTSO-E service',
      );
    } else if (pending.length > 0) {
      this.#options.logger.info(
        { mode: 'offline-replay', files: pending.map((f) => f.fileName) },
        'offline replay: new or changed bundled documents to publish',
      );
    }
    // Every idle pass skips every document: worth a debug line, never an info one.
    this.#options.logger.debug(
      { mode: 'offline-replay', documents: files.length, skipped: files.length - pending.length },
      'offline replay: skipped documents published before',
    );
    return pending.length;
  }

  async #storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new SchedulerError(
        'scheduler.replay_store_unavailable',
        `offline replay: the replayed-document store failed (${errorMessage(error)})`,
        { retryable: true, cause: error, details: { operation } },
      );
    }
  }
}
