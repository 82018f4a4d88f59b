import { mkdir, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../observability/index.ts';
import type { TopicSpec } from '../log.ts';
import { LogError, ioError } from '../errors.ts';
import { hasErrno, syncDir, writeFileAtomic } from './fs-util.ts';
import { PartitionLog } from './partition-log.ts';
import type { SegmentDamage } from './segment.ts';

const META_FILE = 'topic.json';
/** Kafka's rule for topic names, so that a name valid here is valid on a broker too. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** A topic's settings with every default filled in. */
export interface ResolvedTopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly maxMessageBytes: number;
  readonly retentionMs: number | null;
  readonly retentionBytes: number | null;
}

/** An open topic: settings and partitions. */
export interface TopicState {
  readonly spec: ResolvedTopicSpec;
  readonly partitions: readonly PartitionLog[];
}

/** Options every partition of the log shares. */
export interface PartitionSettings {
  readonly segmentBytes: number;
  readonly logger: Logger;
  readonly onAppend: (topic: string) => void;
  readonly onDamage: (topic: string, partition: number, damage: SegmentDamage) => Promise<void>;
  /** The highest committed position of any group for a partition (its next offset is never below it). */
  readonly minNext: (topic: string, partition: number) => number;
  readonly fsync: boolean;
}

/** Checks a spec and fills in the defaults (1 MiB records, 7 days of retention). */
export function resolveTopicSpec(spec: TopicSpec): ResolvedTopicSpec {
  const { name, partitions } = spec;
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new LogError('log.invalid_argument', `invalid topic name ${JSON.stringify(name)}`, {
      details: { topic: name },
    });
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
    throw new LogError('log.invalid_argument', `invalid partition count ${partitions} for ${name}`, {
      details: { topic: name },
    });
  }
  const maxMessageBytes = spec.maxMessageBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > 512 * 1024 * 1024) {
    throw new LogError('log.invalid_argument', `invalid maxMessageBytes ${maxMessageBytes} for ${name}`, {
      details: { topic: name },
    });
  }
  const retentionMs = spec.retentionMs === undefined ? 7 * 24 * 3600 * 1000 : spec.retentionMs;
  if (retentionMs !== null && (!Number.isFinite(retentionMs) || retentionMs <= 0)) {
    throw new LogError('log.invalid_argument', `invalid retentionMs ${retentionMs} for ${name}`, {
      details: { topic: name },
    });
  }
  const retentionBytes = spec.retentionBytes ?? null;
  if (retentionBytes !== null && (!Number.isSafeInteger(retentionBytes) || retentionBytes <= 0)) {
    throw new LogError('log.invalid_argument', `invalid retentionBytes ${retentionBytes} for ${name}`, {
      details: { topic: name },
    });
  }
  return { name, partitions, maxMessageBytes, retentionMs, retentionBytes };
}

/** Rewrites the metadata of an existing topic (retention changed); partitions are never changed. */
export async function updateTopicSpec(dir: string, spec: ResolvedTopicSpec): Promise<void> {
  await writeFileAtomic(join(dir, spec.name, META_FILE), JSON.stringify(spec));
}

/** Opens every topic under `dir` (a topic directory without its metadata file is a creation cut short: skipped). */
export async function openTopics(dir: string, settings: PartitionSettings): Promise<Map<string, TopicState>> {
  const topics = new Map<string, TopicState>();
  try {
    await mkdir(dir, { recursive: true });
    await syncDir(dirname(dir));
    const names = await readdir(dir);
    const opened = await Promise.all(
      names.map(async (name) => {
        let text: string;
        try {
          text = await readFile(join(dir, name, META_FILE), 'utf8');
        } catch (error) {
          if (hasErrno(error, 'ENOENT') || hasErrno(error, 'ENOTDIR')) return undefined;
          throw error;
        }
        return openTopic(join(dir, name), resolveTopicSpec(JSON.parse(text) as TopicSpec), settings);
      }),
    );
    for (const topic of opened) if (topic !== undefined) topics.set(topic.spec.name, topic);
    return topics;
  } catch (error) {
    throw error instanceof LogError ? error : ioError(`could not open the topics in ${dir}`, error);
  }
}

/** Creates a topic directory: partitions first, then the metadata file that makes the topic exist. */
export async function createTopic(
  dir: string,
  spec: ResolvedTopicSpec,
  settings: PartitionSettings,
): Promise<TopicState> {
  const topicDir = join(dir, spec.name);
  await mkdir(topicDir, { recursive: true }).catch((error: unknown) => {
    throw ioError(`could not create ${topicDir}`, error);
  });
  const topic = await openTopic(topicDir, spec, settings);
  await writeFileAtomic(join(topicDir, META_FILE), JSON.stringify(spec));
  // The topic's directory entry must survive a power loss too, or its acknowledged records would go with it.
  await syncDir(dir).catch((error: unknown) => {
    throw ioError(`could not sync ${dir}`, error);
  });
  return topic;
}

async function openTopic(topicDir: string, spec: ResolvedTopicSpec, settings: PartitionSettings): Promise<TopicState> {
  const partitions = await Promise.all(
    Array.from({ length: spec.partitions }, (_, p) =>
      PartitionLog.open(join(topicDir, String(p)), spec.name, p, {
        segmentBytes: settings.segmentBytes,
        logger: settings.logger,
        onAppend: () => {
          settings.onAppend(spec.name);
        },
        onDamage: (damage) => settings.onDamage(spec.name, p, damage),
        minNext: settings.minNext(spec.name, p),
        fsync: settings.fsync,
      }),
    ),
  );
  return { spec, partitions };
}
