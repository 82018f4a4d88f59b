import type { DeadLetterSink, Publisher, DeadLetter, Topic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { produceDeadLetters, produceValues } from '../log/index.ts';

/**
 * A connector's `Publisher` on a topic of the log: resolves once the values are durable. Values that fail the
 * topic's schema are not produced but dead-lettered by `produceValues` (nothing vanishes).
 */
export function topicPublisher<T>(log: Log, topic: Topic<T>, scrub: (text: string) => string): Publisher<T> {
  return {
    async publish(values, options = {}) {
      await produceValues(log, topic, values, {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        scrub,
      });
    },
  };
}

/** The connectors' dead-letter sink on the log (`dlq-ingestion`, as the envelopes say). */
export function deadLetterSink(log: Log): DeadLetterSink {
  return {
    async publish(letters: readonly DeadLetter[], options = {}) {
      await produceDeadLetters(log, letters, options.signal === undefined ? {} : { signal: options.signal });
    },
  };
}
