import type { Admin } from '@platformatic/kafka';
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { LogError } from '../errors.ts';
import type { TopicSpec } from '../log.ts';
import { backoffDelay, sleep } from '../../common/index.ts';
import { findKafkaError, toLogError } from './errors.ts';

/** Kafka's rules for topic names (`org.apache.kafka.common.internals.Topic`). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Topic-level configuration for a spec. `max.message.bytes`, `retention.ms` and `retention.bytes` are set only
 * when the spec says so, leaving the broker's defaults (1 MiB, 7 days, no size limit — the Log's documented
 * defaults) otherwise; `null` retention is Kafka's `-1`, no limit.
 */
export function topicConfigs(spec: TopicSpec): { name: string; value: string }[] {
  const configs: { name: string; value: string }[] = [];
  if (spec.maxMessageBytes !== undefined)
    configs.push({ name: 'max.message.bytes', value: String(spec.maxMessageBytes) });
  if (spec.retentionMs !== undefined) configs.push({ name: 'retention.ms', value: String(spec.retentionMs ?? -1) });
  if (spec.retentionBytes !== undefined)
    configs.push({ name: 'retention.bytes', value: String(spec.retentionBytes ?? -1) });
  return configs;
}

function validate(spec: TopicSpec): void {
  if (!TOPIC_NAME.test(spec.name) || spec.name === '.' || spec.name === '..') {
    throw new LogError('log.invalid_argument', `invalid topic name ${JSON.stringify(spec.name)}`, {
      details: { topic: spec.name },
    });
  }
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
    throw new LogError('log.invalid_argument', `topic ${spec.name}: partitions must be a positive integer`, {
      details: { topic: spec.name, partitions: spec.partitions },
    });
  }
  const max = spec.maxMessageBytes;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new LogError('log.invalid_argument', `topic ${spec.name}: maxMessageBytes must be a positive integer`, {
      details: { topic: spec.name, maxMessageBytes: max },
    });
  }
}

/**
 * Creates the topics that do not exist yet. An existing topic keeps its partitions and size limit
 * (TOPIC_ALREADY_EXISTS is success) but takes the retention of its spec, when the spec names one: a release or a
 * setting that changes a retention policy (the dead-letter topics') applies it to existing installations. That
 * update is best effort: a broker that refuses it (no ALTER_CONFIGS permission) is reported to `onRetentionError`
 * and the topic keeps the retention it has.
 * Resolves only once every new partition has a leader: Kafka creates topics asynchronously, and a produce right
 * after creation would otherwise meet a transient "unknown topic".
 */
export async function createTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  replicationFactor: number,
  signal: AbortSignal,
  onRetentionError: (error: unknown, topic: string) => void = () => undefined,
): Promise<void> {
  for (const spec of specs) validate(spec);
  await Promise.all(
    specs.map(async (spec) => {
      try {
        await admin.createTopics({
          topics: [{ topic: spec.name, partitions: spec.partitions, replicas: replicationFactor }],
          configs: topicConfigs(spec),
        });
      } catch (error) {
        if (!findKafkaError(error, 'apiId', 'TOPIC_ALREADY_EXISTS'))
          throw toLogError(error, `create topic ${spec.name}`, { topic: spec.name });
        await updateRetention(admin, spec).catch((failure: unknown) => {
          onRetentionError(failure, spec.name);
        });
      }
    }),
  );
  await waitForLeaders(
    admin,
    specs.map((s) => s.name),
    signal,
  );
}

async function updateRetention(admin: Admin, spec: TopicSpec): Promise<void> {
  const configs = topicConfigs(spec).filter((c) => c.name.startsWith('retention.'));
  if (configs.length === 0) return;
  try {
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: spec.name,
          configs: configs.map((c) => ({ ...c, configOperation: IncrementalAlterConfigOperationTypes.SET })),
        },
      ],
    });
  } catch (error) {
    throw toLogError(error, `set the retention of topic ${spec.name}`, { topic: spec.name });
  }
}

async function waitForLeaders(admin: Admin, topics: readonly string[], signal: AbortSignal): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true, retries: 0 });
      const ready = topics.every((name) => {
        const topic = metadata.topics.get(name);
        return topic !== undefined && topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch {
      // Not visible to the broker we asked yet; ask again.
    }
    await sleep(backoffDelay(attempt + 1, { baseMs: 50, maxMs: 500, jitter: 0 }), { signal });
  }
}

/** Committed next-offsets of `groupId` for the partitions `0..partitions-1` of `topic`; `null` where none. */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<(number | null)[]> {
  const result: (number | null)[] = Array.from({ length: partitions }, () => null);
  let groups;
  try {
    groups = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: result.map((_, i) => i) }] }],
    });
  } catch (error) {
    // A group that never committed is not an error: it has committed nothing.
    if (findKafkaError(error, 'apiId', 'GROUP_ID_NOT_FOUND')) return result;
    throw toLogError(error, `committed offsets of ${groupId}`, { groupId, topic });
  }
  for (const group of groups) {
    for (const t of group.topics) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) {
        if (p.partitionIndex < partitions && p.committedOffset >= 0n)
          result[p.partitionIndex] = Number(p.committedOffset);
      }
    }
  }
  return result;
}
