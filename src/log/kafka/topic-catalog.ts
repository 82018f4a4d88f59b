import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import { LogError } from '../errors.ts';
import { isUnknownTopic, toLogError } from './errors.ts';

/** What the producer and readers need to know about a topic. */
export interface TopicInfo {
  readonly name: string;
  readonly partitions: number;
  /** The topic's `max.message.bytes`: the largest record batch the broker accepts. */
  readonly maxMessageBytes: number;
}

/** Kafka's default `max.message.bytes` (1 MiB + 12), used when the broker does not say. */
const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Partition counts only grow, and rarely: a minute-old answer is good enough to place records. */
const TTL_MS = 60_000;

/**
 * Partition counts and size limits of topics, asked from the brokers once and cached. Knowing
 * `max.message.bytes` lets the producer split batches before the broker rejects them, and reject a too-large
 * record before sending anything, whatever the compression makes of it (the embedded log checks the same way).
 */
export class TopicCatalog {
  readonly #admin: Admin;
  readonly #cache = new Map<string, { info: TopicInfo; at: number }>();

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  /** The topic's partitions and limits; rejects with `unknown_topic` when it does not exist. */
  async describe(topic: string): Promise<TopicInfo> {
    const cached = this.#cache.get(topic);
    if (cached !== undefined && Date.now() - cached.at < TTL_MS) return cached.info;
    const partitions = await this.#partitionCount(topic);
    const maxMessageBytes = await this.#maxMessageBytes(topic);
    const info: TopicInfo = { name: topic, partitions, maxMessageBytes };
    this.#cache.set(topic, { info, at: Date.now() });
    return info;
  }

  /** Forgets what is known about `topic` (after it was created, or when the broker disagrees with the cache). */
  invalidate(topic: string): void {
    this.#cache.delete(topic);
  }

  /** Rejects with `unknown_partition` when `partition` is not one of the topic's. */
  async checkPartition(topic: string, partition: number): Promise<TopicInfo> {
    const info = await this.describe(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw new LogError('log.unknown_partition', `topic ${topic} has no partition ${partition}`, {
        details: { topic, partition, partitions: info.partitions },
      });
    }
    return info;
  }

  async #partitionCount(topic: string): Promise<number> {
    try {
      // No retries first: an unknown topic would otherwise cost the client's whole retry series.
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true, retries: 0 });
      return metadata.topics.get(topic)?.partitionsCount ?? 0;
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(topic, error);
    }
    try {
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitionsCount ?? 0;
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(topic, error);
      throw toLogError(error, `metadata of topic ${topic}`, { topic });
    }
  }

  async #maxMessageBytes(topic: string): Promise<number> {
    try {
      const [description] = await this.#admin.describeConfigs({
        resources: [
          { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['max.message.bytes'] },
        ],
      });
      const value = description?.configs.find((c) => c.name === 'max.message.bytes')?.value;
      const parsed = value === null || value === undefined ? Number.NaN : Number.parseInt(value, 10);
      return Number.isFinite(parsed) && parsed > 0 ? parsed : KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    } catch (error) {
      if (isUnknownTopic(error)) throw unknownTopic(topic, error);
      throw toLogError(error, `configuration of topic ${topic}`, { topic });
    }
  }
}

function unknownTopic(topic: string, cause: unknown): LogError {
  return new LogError('log.unknown_topic', `topic ${topic} does not exist`, { cause, details: { topic } });
}
