/**
 * The Log port on Apache Kafka (distributed mode). See docs/kafka-client.md for why it is built on
 * @platformatic/kafka and how it behaves across rebalances and broker restarts.
 */
export { createKafkaLog } from './kafka-log.ts';
export { KAFKA_COMPRESSIONS, type KafkaCompression, type KafkaLogOptions } from './options.ts';
