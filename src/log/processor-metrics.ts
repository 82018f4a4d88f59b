import type { Metrics } from '../observability/index.ts';
import type { ProcessorMetrics } from './processor.ts';

/** The processor runner's metric callbacks, labelled with the stage. */
export function processorMetrics(metrics: Metrics, stage: string): ProcessorMetrics {
  return {
    recordsIn: (topic, count) => {
      metrics.recordsIn(stage, topic, count);
    },
    recordsOut: (topic, count) => {
      metrics.recordsOut(stage, topic, count);
    },
    recordsRejected: (topic, reason, count) => {
      metrics.recordsRejected(stage, topic, reason, count);
    },
    batchSeconds: (seconds) => {
      metrics.batchSeconds(stage, seconds);
    },
    retries: (code) => {
      metrics.retries(stage, code);
    },
  };
}
