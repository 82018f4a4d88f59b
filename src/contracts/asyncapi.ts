import { z } from 'zod';
import type { Topic } from './topic.ts';

/** camelCase identifier of a topic name: `raw.entsoe` → `rawEntsoe`, `dlq-storage` → `dlqStorage`. */
function idOf(name: string): string {
  return name.replace(/[.-]([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What the document needs of a topic handle (everything but the key function, which is contravariant). */
export type DescribedTopic = Omit<Topic<unknown>, 'key'>;

function messageName(topic: DescribedTopic): string {
  const id = idOf(topic.name);
  return `${id.charAt(0).toUpperCase()}${id.slice(1)}Message`;
}

/**
 * An AsyncAPI 3.1 document generated from the topic handles: one channel per topic (with its Kafka binding:
 * partitions, max message size, retention), one message per topic whose payload is the JSON Schema of the
 * topic's zod schema, and send/receive operations for the roles that produce and consume it.
 */
export function asyncApiDocument(topics: readonly DescribedTopic[], version: string): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const topic of topics) {
    const id = idOf(topic.name);
    const message = messageName(topic);
    const schema = z.toJSONSchema(topic.schema, { target: 'draft-7', io: 'output', unrepresentable: 'any' });
    schemas[`${message}Payload`] = schema;
    messages[message] = {
      name: message,
      title: topic.name,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${message}Payload` },
      bindings: {
        kafka: { key: { type: 'string', description: 'Partition key (decides ordering)' }, bindingVersion: '0.5.0' },
      },
    };
    const topicConfiguration: Record<string, number> = {};
    if (topic.maxMessageBytes !== undefined) topicConfiguration['max.message.bytes'] = topic.maxMessageBytes;
    if (topic.retentionMs !== undefined) topicConfiguration['retention.ms'] = topic.retentionMs ?? -1;
    if (topic.retentionBytes !== undefined) topicConfiguration['retention.bytes'] = topic.retentionBytes ?? -1;
    channels[id] = {
      address: topic.name,
      description: `${topic.description} Failures go to ${topic.stage === 'ingestion' ? 'dlq-ingestion' : topic.stage === 'processing' ? 'dlq-processing' : 'dlq-storage'}.${
        topic.exactlyOnce === true ? ' Consumed exactly once (offsets stored with the output in PostgreSQL).' : ''
      }`,
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
      bindings: {
        kafka: { topic: topic.name, partitions: topic.partitions, topicConfiguration, bindingVersion: '0.5.0' },
      },
    };
    operations[`send${id.charAt(0).toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
    };
    operations[`receive${id.charAt(0).toUpperCase()}${id.slice(1)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
    };
  }
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'gridstream',
      version,
      description:
        'Topics of the gridstream energy-grid data platform: raw upstream documents, clean 15-minute observations, carbon intensity, device readings, alerts and dead letters. Values are JSON validated by these schemas when produced and when consumed.',
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: 'localhost:9092',
        protocol: 'kafka',
        description: 'Distributed mode: any Kafka-protocol broker (KAFKA_BROKERS).',
      },
      embedded: {
        host: 'localhost',
        protocol: 'kafka',
        description: 'Embedded mode: the same topics in an in-process log under GRIDSTREAM_DATA_DIR.',
      },
    },
    channels,
    operations,
    components: { messages, schemas },
  };
}
