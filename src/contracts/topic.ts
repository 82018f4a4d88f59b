import type { z } from 'zod';

/** The pipeline stage a topic belongs to; a value that fails there goes to that stage's dead-letter topic. */
export const STAGES = ['ingestion', 'processing', 'storage'] as const;
export type Stage = (typeof STAGES)[number];

export const DLQ_TOPICS = { ingestion: 'dlq-ingestion', processing: 'dlq-processing', storage: 'dlq-storage' } as const;
export type DlqTopicName = (typeof DLQ_TOPICS)[Stage];

/**
 * A typed handle on a topic: its name, the zod schema every value is validated against when produced and when
 * consumed, the function giving a value's key (which decides its partition, hence its ordering), and how it is
 * created. Producers and consumers only ever talk about topics through these handles.
 */
export interface Topic<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
  readonly key: (value: T) => string;
  readonly partitions: number;
  /** Stage whose DLQ receives values of this topic that fail validation or processing. */
  readonly stage: Stage;
  readonly description: string;
  /** Largest serialised value the topic accepts (Kafka `max.message.bytes`). @default 1 MiB */
  readonly maxMessageBytes?: number;
  /** Consumers store offsets in the same database transaction as their output (settlement aggregates). */
  readonly exactlyOnce?: boolean;
  /** Retention; `null` keeps records forever (DLQs). @default 7 days */
  readonly retentionMs?: number | null;
  /** Most bytes kept per partition (Kafka `retention.bytes`); `null` or unset: no size limit. */
  readonly retentionBytes?: number | null;
}

export function defineTopic<T>(topic: Topic<T>): Topic<T> {
  return Object.freeze(topic);
}
