import type { RawElectricityMaps, RawEntsoeDocument, RawMeterRecord } from './raw.ts';
import type { AlertEvent } from './alert.ts';
import { AlertEventSchema } from './alert.ts';
import { RawMeterRecordSchema, RawElectricityMapsSchema, RawEntsoeDocumentSchema } from './raw.ts';
import type { GridSeriesChunk } from './grid.ts';
import { GridSeriesChunkSchema } from './grid.ts';
import type { DeadLetter } from './dead-letter.ts';
import { DeadLetterSchema } from './dead-letter.ts';
import type { Topic } from './topic.ts';
import { DLQ_TOPICS, defineTopic } from './topic.ts';

const MiB = 1024 * 1024;

export const rawEntsoeTopic: Topic<RawEntsoeDocument> = defineTopic({
  name: 'raw.entsoe',
  schema: RawEntsoeDocumentSchema,
  key: (d) =>
    d.request === null
      ? (d.fileName ?? d.id)
      : `${d.request.documentType}|${Object.values(d.request.domains).join('|')}`,
  partitions: 3,
  stage: 'ingestion',
  description: 'Raw ENTSO-E Transparency Platform response documents (XML text) with the request that produced them.',
  maxMessageBytes: 16 * MiB,
});

export const rawElectricityMapsTopic: Topic<RawElectricityMaps> = defineTopic({
  name: 'raw.electricitymaps',
  schema: RawElectricityMapsSchema,
  key: (d) => d.zone,
  partitions: 3,
  stage: 'ingestion',
  description: 'Raw Electricity Maps API responses (power breakdown, carbon intensity).',
  maxMessageBytes: 4 * MiB,
});

export const rawMetersTopic: Topic<RawMeterRecord> = defineTopic({
  name: 'raw.meters',
  schema: RawMeterRecordSchema,
  key: (r) => ('v' in r ? r.meter_id : r.deviceId),
  partitions: 6,
  stage: 'ingestion',
  description:
    'Device readings (smart meters, SCADA, PMU) from the HTTP and MQTT input gateways: canonical readings (v 2), keyed by meter; the meters role stores them and their window results.',
  exactlyOnce: true,
});

export const gridObservationsTopic: Topic<GridSeriesChunk> = defineTopic({
  name: 'grid.observations',
  schema: GridSeriesChunkSchema,
  key: (c) => c.zone,
  partitions: 6,
  stage: 'processing',
  description:
    'Clean 15-minute observations (generation, load, prices, flows, forecasts) as series chunks, keyed by zone.',
});

export const gridCarbonTopic: Topic<GridSeriesChunk> = defineTopic({
  name: 'grid.carbon',
  schema: GridSeriesChunkSchema,
  key: (c) => c.zone,
  partitions: 3,
  stage: 'processing',
  description:
    'Carbon intensity (production and consumption based), renewable and fossil-free shares per zone and slot.',
});

export const alertsTopic: Topic<AlertEvent> = defineTopic({
  name: 'alerts',
  schema: AlertEventSchema,
  key: (e) => e.alert.key,
  partitions: 1,
  stage: 'processing',
  description:
    'Alert transitions (opened, escalated, acknowledged, resolved) with the alert: detectors on meters and grid signals. At least once: deduplicate on event_id.',
});

/**
 * Retention of the dead-letter topics unless configured otherwise (`GRIDSTREAM_DLQ_RETENTION_MS`,
 * `GRIDSTREAM_DLQ_RETENTION_BYTES`): dead letters are kept 30 days and at most 1 GiB per partition, the oldest
 * going first, so that a flood of bad input cannot fill the disk.
 */
export const DLQ_RETENTION = { ms: 30 * 24 * 3600 * 1000, bytes: 1024 * MiB } as const;

function dlq(stage: keyof typeof DLQ_TOPICS, description: string): Topic<DeadLetter> {
  return defineTopic({
    name: DLQ_TOPICS[stage],
    schema: DeadLetterSchema,
    key: (d) => d.source?.key ?? d.reason,
    partitions: 1,
    stage,
    description,
    maxMessageBytes: 32 * MiB,
    retentionMs: DLQ_RETENTION.ms,
    retentionBytes: DLQ_RETENTION.bytes,
  });
}

export const dlqIngestionTopic = dlq(
  'ingestion',
  'Failed fetches and raw values that could not be read, with the request to replay.',
);
export const dlqProcessingTopic = dlq(
  'processing',
  'Records the processors rejected (unmapped areas, invalid values, bad documents).',
);
export const dlqStorageTopic = dlq('storage', 'Rows the database rejected, with their payload in base64.');

export const DLQ_TOPIC_HANDLES = {
  ingestion: dlqIngestionTopic,
  processing: dlqProcessingTopic,
  storage: dlqStorageTopic,
} as const;

/** Every topic of the platform, in data-flow order. */
export const ALL_TOPICS = [
  rawEntsoeTopic,
  rawElectricityMapsTopic,
  rawMetersTopic,
  gridObservationsTopic,
  gridCarbonTopic,
  alertsTopic,
  dlqIngestionTopic,
  dlqProcessingTopic,
  dlqStorageTopic,
] as const;
