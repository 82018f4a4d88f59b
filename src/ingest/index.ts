/**
 * Device input: smart meters, SCADA and PMU readings over HTTP (`POST /ingest/meters`) and MQTT (a shared
 * subscription), parsed from their wire formats into the reading contract and written to `raw.meters`; lines that
 * are not readings go to `dlq-ingestion` with their position. Acknowledged only once durable in the log.
 */
export { ingestGateway, DEFAULT_INGEST_LIMITS, type IngestGatewayOptions, type IngestLimits } from './http-gateway.ts';
export { mqttIngest, type MqttIngestOptions } from './mqtt-subscriber.ts';
export { groupOfTopic } from './meter-groups.ts';
export {
  parseReadingBody,
  storeReadings,
  readingFormatOf,
  type ReadingFormat,
  type ParsedReadings,
  type IngestDeps,
} from './readings.ts';
