export { type Topic, type Stage, type DlqTopicName, STAGES, DLQ_TOPICS, defineTopic } from './topic.ts';
export {
  METRICS,
  MetricSchema,
  type Metric,
  UNITS,
  UnitSchema,
  type Unit,
  FLAGS,
  FlagSchema,
  type Flag,
  SOURCES,
  type Source,
  ObservationPointSchema,
  type ObservationPoint,
  GridSeriesChunkSchema,
  type GridSeriesChunk,
  type ObservationKey,
} from './grid.ts';
export {
  EntsoeRequestSchema,
  type EntsoeRequest,
  RawEntsoeDocumentSchema,
  type RawEntsoeDocument,
  RawElectricityMapsSchema,
  type RawElectricityMaps,
  MeterReadingSchema,
  type MeterReading,
  MeterAggregateSchema,
  type MeterAggregate,
  AlertSchema,
  type Alert,
} from './raw.ts';
export { DeadLetterSchema, type DeadLetter, DLQ_HEADERS } from './dead-letter.ts';
export { type Publisher, type DeadLetterSink, MemoryPublisher } from './ports.ts';
export {
  rawEntsoeTopic,
  rawElectricityMapsTopic,
  rawMetersTopic,
  gridObservationsTopic,
  gridCarbonTopic,
  meterAggregatesTopic,
  alertsTopic,
  dlqIngestionTopic,
  dlqProcessingTopic,
  dlqStorageTopic,
  DLQ_TOPIC_HANDLES,
  DLQ_RETENTION,
  ALL_TOPICS,
} from './topics.ts';
export { asyncApiDocument } from './asyncapi.ts';
