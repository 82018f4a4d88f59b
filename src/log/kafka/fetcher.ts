import { IS_CONTROL, type Consumer, type fetchV17 } from '@platformatic/kafka';
import { findKafkaError } from './errors.ts';
import type { ConsumedRecord } from '../log.ts';

type FetchResponse = fetchV17.FetchResponse;
type FetchResponsePartition = fetchV17.FetchResponsePartition;

/** A partition to read and the offset to read it from. */
export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** What one fetch returned for one partition. */
export interface PartitionFetch {
  readonly topic: string;
  readonly partition: number;
  /** Records at or after the requested offset, in offset order. */
  readonly records: ConsumedRecord[];
  /** Where the next fetch of this partition starts (past control records and aborted transactions too). */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
  /** Set when the requested offset is outside the log (deleted by retention, or beyond its end). */
  readonly outOfRange?: { readonly logStartOffset: bigint; readonly highWatermark: bigint };
}

export interface FetchLimits {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_VALUE = new Uint8Array(0);
const OFFSET_OUT_OF_RANGE = 1;

/**
 * One fetch round: asks each partition's leader for records from the given offsets, with one request per
 * broker (in parallel), and decodes the answer into {@link ConsumedRecord}s. `client` is a @platformatic/kafka
 * Consumer used only for its connections, metadata and fetch sessions — never for group membership — so this
 * works both for group members and for group-less reads. Offsets out of range come back as values, not errors,
 * so the caller can apply its reset policy.
 */
export async function fetchRound(
  client: Consumer,
  positions: readonly FetchPosition[],
  limits: FetchLimits,
): Promise<PartitionFetch[]> {
  if (positions.length === 0) return [];
  const topics = [...new Set(positions.map((p) => p.topic))];
  const metadata = await client.metadata({ topics });
  const byLeader = new Map<number, FetchPosition[]>();
  for (const position of positions) {
    const leader = metadata.topics.get(position.topic)?.partitions[position.partition]?.leader ?? -1;
    const list = byLeader.get(leader) ?? [];
    list.push(position);
    byLeader.set(leader, list);
  }
  const results = await Promise.all(
    [...byLeader].map(async ([node, list]) => {
      const names = new Map<string, string>();
      const requests = new Map<string, { topicId: string; partitions: FetchPartitionRequest[] }>();
      for (const { topic, partition, offset } of list) {
        const topicId = metadata.topics.get(topic)?.id ?? topic;
        names.set(topicId, topic);
        const request = requests.get(topicId) ?? { topicId, partitions: [] };
        // Epoch -1: no fencing by leader epoch; the fetch simply goes to whoever leads now.
        request.partitions.push({
          partition,
          fetchOffset: offset,
          partitionMaxBytes: limits.partitionMaxBytes,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        });
        requests.set(topicId, request);
      }
      const response = await fetchOrOutOfRange(client, {
        node,
        topics: [...requests.values()],
        maxWaitTime: limits.maxWaitMs,
        minBytes: limits.minBytes,
        maxBytes: limits.maxBytes,
      });
      return decode(response, names, list);
    }),
  );
  return results.flat();
}

interface FetchPartitionRequest {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
}

/** Fetches; a response failing only with OFFSET_OUT_OF_RANGE is returned so its partitions can be reset. */
async function fetchOrOutOfRange(client: Consumer, options: Parameters<Consumer['fetch']>[0]): Promise<FetchResponse> {
  try {
    return await client.fetch(options);
  } catch (error) {
    const response: unknown = findKafkaError(error, 'apiId', 'OFFSET_OUT_OF_RANGE')
      ? (error as { response?: unknown }).response
      : undefined;
    if (isFetchResponse(response)) return response;
    throw error;
  }
}

function isFetchResponse(value: unknown): value is FetchResponse {
  return typeof value === 'object' && value !== null && Array.isArray((value as { responses?: unknown }).responses);
}

function decode(
  response: FetchResponse,
  names: ReadonlyMap<string, string>,
  requested: readonly FetchPosition[],
): PartitionFetch[] {
  const wanted = new Map(requested.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
  const out: PartitionFetch[] = [];
  for (const topicResponse of response.responses) {
    const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
    for (const partitionResponse of topicResponse.partitions) {
      const from = wanted.get(`${topic}:${partitionResponse.partitionIndex}`);
      // Incremental fetch sessions may answer for partitions not asked this time: their data is not ours.
      if (from === undefined) continue;
      out.push(decodePartition(topic, partitionResponse, from));
    }
  }
  return out;
}

function decodePartition(topic: string, response: FetchResponsePartition, from: bigint): PartitionFetch {
  const partition = response.partitionIndex;
  const records: ConsumedRecord[] = [];
  if (response.errorCode === OFFSET_OUT_OF_RANGE) {
    const outOfRange = { logStartOffset: response.logStartOffset, highWatermark: response.highWatermark };
    return { topic, partition, records, nextOffset: from, highWatermark: response.highWatermark, outOfRange };
  }
  let nextOffset = from;
  // Offsets and timestamps fit in a double (2^53); number arithmetic per record is much cheaper than BigInt.
  const fromNumber = Number(from);
  for (const batch of response.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (last >= nextOffset) nextOffset = last + 1n;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    const firstOffset = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const record of batch.records) {
      const offset = firstOffset + record.offsetDelta;
      // A compressed batch is returned whole, including records before the requested offset.
      if (offset < fromNumber) continue;
      records.push({
        topic,
        partition,
        offset,
        key: record.key === null ? null : record.key.toString('utf8'),
        value: record.value ?? EMPTY_VALUE,
        headers: decodeHeaders(record.headers),
        timestamp: firstTimestamp + Number(record.timestampDelta),
      });
    }
  }
  return { topic, partition, records, nextOffset, highWatermark: response.highWatermark };
}

function decodeHeaders(
  headers: readonly (readonly [Buffer | null, Buffer | null])[],
): Readonly<Record<string, string>> {
  if (headers.length === 0) return EMPTY_HEADERS;
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name !== null) out[name.toString('utf8')] = value?.toString('utf8') ?? '';
  }
  return out;
}
