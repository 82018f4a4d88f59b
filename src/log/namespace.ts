import type { ConsumedBatch, ConsumedRecord, Log, LogConsumer, PartitionOffset, RecordPosition } from './log.ts';

/**
 * A Log whose topics and consumer groups live under a namespace: topic `raw.entsoe` is `<ns>.raw.entsoe` on the
 * broker, group `gridstream-store` is `<ns>.gridstream-store`. Lets several environments (or concurrent test runs)
 * share one Kafka cluster without seeing each other. Callers keep using the plain names.
 */
export function namespacedLog(log: Log, namespace: string): Log {
  if (!/^[A-Za-z0-9_-]+$/.test(namespace)) throw new Error(`invalid namespace ${JSON.stringify(namespace)}`);
  const prefix = `${namespace}.`;
  const outer = (name: string): string => `${prefix}${name}`;
  const inner = (name: string): string => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const innerRecord = (r: ConsumedRecord): ConsumedRecord => ({ ...r, topic: inner(r.topic) });
  const innerPosition = (p: RecordPosition): RecordPosition => ({ ...p, topic: inner(p.topic) });
  const outerOffset = (o: PartitionOffset): PartitionOffset => ({ ...o, topic: outer(o.topic) });
  return {
    kind: log.kind,
    createTopics: (specs, options) =>
      log.createTopics(
        specs.map((s) => ({ ...s, name: outer(s.name) })),
        options,
      ),
    produce: async (topic, records, options) => (await log.produce(outer(topic), records, options)).map(innerPosition),
    read: async (topic, partition, offset, limit, options) =>
      (await log.read(outer(topic), partition, offset, limit, options)).map(innerRecord),
    offsets: (topic, options) => log.offsets(outer(topic), options),
    committed: (groupId, topic, options) => log.committed(outer(groupId), outer(topic), options),
    topics: async (options) => (await log.topics(options)).filter((t) => t.startsWith(prefix)).map(inner),
    close: () => log.close(),
    consumer(options): LogConsumer {
      const consumer = log.consumer({ ...options, groupId: outer(options.groupId), topics: options.topics.map(outer) });
      return {
        async *batches(o) {
          for await (const batch of consumer.batches(o)) {
            yield { records: batch.records.map(innerRecord) } satisfies ConsumedBatch;
          }
        },
        commit: (offsets) => consumer.commit(offsets.map(outerOffset)),
        seek: (offset) => consumer.seek(outerOffset(offset)),
        assignment: () => consumer.assignment().map((a) => ({ ...a, topic: inner(a.topic) })),
        close: () => consumer.close(),
      };
    },
  };
}
