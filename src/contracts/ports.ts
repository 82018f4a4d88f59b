import type { DeadLetter } from './dead-letter.ts';

/**
 * Where fetched values go: the lead wires it to a topic of the event log (`raw.entsoe`, `raw.electricitymaps`,
 * `dlq-ingestion`). `publish` resolves once the values are durable (acknowledged by the log), so a caller that
 * records progress after it never records something that could still be lost.
 */
export interface Publisher<T> {
  publish(values: readonly T[], options: { readonly signal?: AbortSignal | undefined }): Promise<void>;
}

/** The `dlq-ingestion` side: fetches that still failed after their retries. */
export type DeadLetterSink = Publisher<DeadLetter>;

/** A publisher that keeps everything in memory (tests, dry runs, benchmarks). */
export class MemoryPublisher<T> implements Publisher<T> {
  readonly values: T[] = [];

  publish(values: readonly T[]): Promise<void> {
    this.values.push(...values);
    return Promise.resolve();
  }
}
