import { z } from 'zod';
import type { DeadLetter, RawElectricityMaps, DeadLetterSink, Publisher } from '../../contracts/index.ts';
import type { Logger } from '../../observability/index.ts';
import { ingestionDeadLetter } from '../http/index.ts';
import type { ElectricityMapsClient, ElectricityMapsEndpoint, ElectricityMapsRequest } from './client.ts';
import { ELECTRICITYMAPS_ENDPOINTS } from './client.ts';
import { ElectricityMapsError } from './client-errors.ts';

const RequestSchema = z.object({
  source: z.literal('electricitymaps'),
  endpoint: z.enum(ELECTRICITYMAPS_ENDPOINTS),
  zone: z.string().min(1).max(40),
});

export interface ElectricityMapsIngestorOptions {
  readonly client: ElectricityMapsClient;
  /** `raw.electricitymaps`. */
  readonly publisher: Publisher<RawElectricityMaps>;
  /** `dlq-ingestion`. */
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
}

export interface ElectricityMapsReport {
  requests: number;
  responses: number;
  readonly deadLetters: DeadLetter[];
}

/** Fetch → publish (`raw.electricitymaps`) → dead-letter (`dlq-ingestion`) for Electricity Maps. */
export class ElectricityMapsIngestor {
  readonly #options: ElectricityMapsIngestorOptions;

  constructor(options: ElectricityMapsIngestorOptions) {
    this.#options = options;
  }

  /** Polls every endpoint for every zone, one request at a time (the per-token limit is small). */
  async poll(
    zones: readonly string[],
    endpoints: readonly ElectricityMapsEndpoint[],
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<ElectricityMapsReport> {
    const report: ElectricityMapsReport = { requests: 0, responses: 0, deadLetters: [] };
    for (const zone of zones) {
      for (const endpoint of endpoints) {
        const one = await this.ingest({ source: 'electricitymaps', endpoint, zone }, options);
        report.requests += one.requests;
        report.responses += one.responses;
        report.deadLetters.push(...one.deadLetters);
      }
    }
    return report;
  }

  async ingest(
    request: ElectricityMapsRequest,
    options: {
      readonly signal?: AbortSignal | undefined;
      readonly origin?: RawElectricityMaps['origin'];
      readonly replays?: number;
    } = {},
  ): Promise<ElectricityMapsReport> {
    const { signal } = options;
    const result = await this.#options.client.fetch(request, { signal, origin: options.origin ?? 'api' });
    if (result.ok) {
      if (result.value !== null) await this.#options.publisher.publish([result.value], { signal });
      return { requests: 1, responses: result.value === null ? 0 : 1, deadLetters: [] };
    }
    const letter = ingestionDeadLetter(
      {
        ...result,
        request: { ...request },
        position: { source: 'electricitymaps', endpoint: request.endpoint, zone: request.zone },
        replays: options.replays ?? 0,
      },
      this.#options.client.scrub,
    );
    await this.#options.deadLetters.publish([letter], { signal });
    this.#options.logger.error(
      {
        reason: letter.reason,
        attempts: letter.attempts,
        httpStatus: letter.httpStatus ?? null,
        request,
        deadLetter: letter.id,
      },
      'Electricity Maps request failed for good: sent to dlq-ingestion',
    );
    return { requests: 1, responses: 0, deadLetters: [letter] };
  }

  /** True when a `dlq-ingestion` dead letter holds an Electricity Maps request (so {@link replay} can take it). */
  static handles(letter: DeadLetter): boolean {
    return RequestSchema.safeParse(letter.request).success;
  }

  /** Fetches a dead-lettered request again (`origin: 'dlq-replay'`). @throws ElectricityMapsError for other letters */
  async replay(
    letter: DeadLetter,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<ElectricityMapsReport> {
    const parsed = RequestSchema.safeParse(letter.request);
    if (!parsed.success) {
      throw new ElectricityMapsError(
        'electricitymaps.invalid_body',
        `dead letter ${letter.id} holds no Electricity Maps request`,
      );
    }
    return this.ingest(parsed.data, { signal: options.signal, origin: 'dlq-replay', replays: letter.replays + 1 });
  }
}
