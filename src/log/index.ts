/**
 * The event log: the Log port (Kafka's model), its two implementations, and what every role builds on it — typed
 * produce/decode, dead letters, and the stream-processor runner.
 */
export type {
  Log,
  LogRecord,
  ConsumedRecord,
  RecordPosition,
  PartitionOffset,
  TopicSpec,
  ConsumerOptions,
  ConsumedBatch,
  LogConsumer,
} from './log.ts';
export { LogError, LOG_ERROR_CODES, type LogErrorCode, isLogError } from './errors.ts';
export { murmur2, toPositive, partitionForKey, createPartitioner, type Partitioner } from './partitioner.ts';
export {
  createEmbeddedLog,
  type EmbeddedLog,
  type EmbeddedLogOptions,
  listQuarantine,
  pendingCorruption,
  acknowledgeQuarantine,
  quarantineDir,
  type QuarantineReport,
  verifyLogDir,
  type VerifyReport,
  type VerifyProblem,
} from './embedded/index.ts';
export {
  produceValues,
  decodeRecord,
  topicSpecOf,
  type ProduceValuesOptions,
  type ProduceValuesResult,
  type RejectedValue,
  type DecodeResult,
} from './topic-io.ts';
export {
  buildDeadLetter,
  buildLineDeadLetters,
  type RefusedLine,
  deadLetterFromRecord,
  deadLetterRecord,
  produceDeadLetters,
  dlqTopicFor,
  scrubCredentials,
  type DeadLetterInput,
  type DeadLetterOptions,
  type DeadLetterSource,
} from './dead-letters.ts';
export {
  createProcessor,
  output,
  DEFAULT_PROCESSOR_RETRY,
  type Processor,
  type ProcessorOptions,
  type ProcessorItem,
  type ProcessorOutput,
  type ProcessorReject,
  type ProcessorMetrics,
  type HandleContext,
  type HandleResult,
  type OutputTopic,
} from './processor.ts';
export { processorMetrics } from './processor-metrics.ts';
export { consumerLag, totalLag, type PartitionLag } from './consumer-lag.ts';
export { createKafkaLog, type KafkaLogOptions } from './kafka/index.ts';
export { namespacedLog } from './namespace.ts';
