import type { DeadLetter, EntsoeRequest, RawEntsoeDocument, DeadLetterSink, Publisher } from '../../contracts/index.ts';
import { EntsoeRequestSchema } from '../../contracts/index.ts';
import type { Logger } from '../../observability/index.ts';
import { ingestionDeadLetter } from '../http/index.ts';
import type { EntsoeClient } from './client.ts';
import { EntsoeError } from './errors.ts';

export interface EntsoeIngestorOptions {
  readonly client: EntsoeClient;
  /** `raw.entsoe`. */
  readonly publisher: Publisher<RawEntsoeDocument>;
  /** `dlq-ingestion`. */
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
}

/** What an ingestion did: counts, and the dead letters it wrote. */
export interface IngestReport {
  /** Logical requests handled. */
  requests: number;
  /** HTTP exchanges, pages and retries included. */
  exchanges: number;
  documents: number;
  points: number;
  /** Requests (or parts) the service had no data for. */
  noData: number;
  readonly deadLetters: DeadLetter[];
}

export function emptyReport(): IngestReport {
  return { requests: 0, exchanges: 0, documents: 0, points: 0, noData: 0, deadLetters: [] };
}

/** Adds `b` into `a`. */
export function addReport(a: IngestReport, b: IngestReport): IngestReport {
  a.requests += b.requests;
  a.exchanges += b.exchanges;
  a.documents += b.documents;
  a.points += b.points;
  a.noData += b.noData;
  a.deadLetters.push(...b.deadLetters);
  return a;
}

/**
 * Fetch → publish → dead-letter: documents go to `raw.entsoe`, parts that failed for good go to `dlq-ingestion`
 * (reason = error code, message scrubbed, the request to replay, attempts, failure times, HTTP status — never the
 * token). Documents are published before the call returns, so a caller that records progress afterwards never
 * records an unpublished fetch.
 */
export class EntsoeIngestor {
  readonly #options: EntsoeIngestorOptions;

  constructor(options: EntsoeIngestorOptions) {
    this.#options = options;
  }

  get client(): EntsoeClient {
    return this.#options.client;
  }

  /** Ingests one request (split, paged, retried). @throws when cancelled, or when publishing fails */
  async ingest(
    request: EntsoeRequest,
    options: {
      readonly signal?: AbortSignal | undefined;
      readonly origin?: RawEntsoeDocument['origin'];
      readonly replays?: number;
    } = {},
  ): Promise<IngestReport> {
    const { signal } = options;
    const fetched = await this.#options.client.fetch(request, { signal, origin: options.origin ?? 'api' });
    if (fetched.documents.length > 0) await this.#options.publisher.publish(fetched.documents, { signal });
    const scrub = this.#options.client.scrub;
    const deadLetters = fetched.failures.map((f) =>
      ingestionDeadLetter({ ...f, replays: options.replays ?? 0 }, scrub),
    );
    if (deadLetters.length > 0) {
      await this.#options.deadLetters.publish(deadLetters, { signal });
      for (const d of deadLetters) {
        this.#options.logger.error(
          {
            reason: d.reason,
            attempts: d.attempts,
            httpStatus: d.httpStatus ?? null,
            request: d.request,
            deadLetter: d.id,
          },
          'ENTSO-E request failed for good: sent to dlq-ingestion',
        );
      }
    }
    return {
      requests: 1,
      exchanges: fetched.exchanges,
      documents: fetched.documents.length,
      points: fetched.points,
      noData: fetched.noData,
      deadLetters,
    };
  }

  /**
   * Ingests many requests, `concurrency` at a time (the rate limiter keeps the pace; concurrency only hides
   * latency). Stops starting new requests when `signal` aborts and then rejects with its reason.
   */
  async ingestAll(
    requests: readonly EntsoeRequest[],
    options: {
      readonly signal?: AbortSignal | undefined;
      readonly concurrency?: number;
      readonly onDone?: (request: EntsoeRequest, report: IngestReport) => void;
    } = {},
  ): Promise<IngestReport> {
    const total = emptyReport();
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < requests.length && !failed) {
        options.signal?.throwIfAborted();
        const request = requests[next++];
        if (request === undefined) return;
        try {
          const report = await this.ingest(request, { signal: options.signal });
          addReport(total, report);
          options.onDone?.(request, report);
        } catch (error) {
          failed = true; // the other workers finish their current request and stop
          throw error;
        }
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, requests.length)) }, worker);
    await Promise.all(workers);
    return total;
  }

  /**
   * Fetches the request of a `dlq-ingestion` dead letter again (`gridstream dlq replay dlq-ingestion`). Documents
   * are published with origin `dlq-replay`; a part that fails again becomes a new dead letter with `replays` + 1.
   * @throws EntsoeError `invalid_request` when the dead letter holds no ENTSO-E request
   */
  async replay(letter: DeadLetter, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<IngestReport> {
    const parsed = EntsoeRequestSchema.safeParse(letter.request);
    if (!parsed.success) {
      throw new EntsoeError('entsoe.invalid_request', `dead letter ${letter.id} holds no ENTSO-E request to replay`);
    }
    this.#options.logger.info(
      { deadLetter: letter.id, request: parsed.data },
      'replaying a dead-lettered ENTSO-E request',
    );
    return this.ingest(parsed.data, { signal: options.signal, origin: 'dlq-replay', replays: letter.replays + 1 });
  }
}
