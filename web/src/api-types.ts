import type { Decoder } from './decode.ts';
import { DecodeError } from './decode.ts';
import { array, bool, field, instant, nullable, num, numeric, record, str } from './decode.ts';
import type { Point } from './series-data.ts';

/** `GET /api/v1/zones` entry. */
export interface Zone {
  readonly code: string;
  readonly name: string;
  readonly country: string | null;
  readonly timeZone: string;
  readonly firstSlot: number;
  readonly lastSlot: number;
  readonly metrics: readonly string[];
}

export const decodeZones: Decoder<Zone[]> = (value, at) => field(record(value, at), 'zones', array(decodeZone), at);

function decodeZone(value: unknown, at: string): Zone {
  const o = record(value, at);
  return {
    code: field(o, 'code', str, at),
    name: field(o, 'name', str, at),
    country: field(o, 'country', nullable(str), at),
    timeZone: field(o, 'time_zone', nullable(str), at) ?? 'UTC',
    firstSlot: field(o, 'first_slot', instant, at),
    lastSlot: field(o, 'last_slot', instant, at),
    metrics: field(o, 'metrics', array(str), at),
  };
}

const decodePoint: Decoder<Point> = (value, at) => {
  const o = record(value, at);
  return { ts: field(o, 'ts', instant, at), value: field(o, 'value', nullable(num), at) };
};

/** One series of `GET /api/v1/series`. */
export interface Series {
  readonly productionType: string | null;
  readonly productionTypeName: string | null;
  readonly counterpartZone: string | null;
  readonly qualifier: string | null;
  readonly unit: string;
  readonly points: readonly Point[];
}

export const decodeSeriesList: Decoder<Series[]> = (value, at) =>
  field(
    record(value, at),
    'series',
    array((s, a) => {
      const o = record(s, a);
      return {
        productionType: field(o, 'production_type', nullable(str), a),
        productionTypeName: field(o, 'production_type_name', nullable(str), a),
        counterpartZone: field(o, 'counterpart_zone', nullable(str), a),
        qualifier: field(o, 'qualifier', nullable(str), a),
        unit: field(o, 'unit', str, a),
        points: field(o, 'points', array(decodePoint), a),
      };
    }),
    at,
  );

/** `GET /api/v1/carbon-intensity`. */
export interface CarbonIntensity {
  readonly unit: string;
  readonly points: readonly Point[];
}

export const decodeCarbon: Decoder<CarbonIntensity> = (value, at) => {
  const o = record(value, at);
  return { unit: field(o, 'unit', str, at), points: field(o, 'points', array(decodePoint), at) };
};

/** `GET /api/v1/mix`. */
export interface Mix {
  readonly slot: number;
  readonly unit: string;
  readonly total: number;
  readonly entries: readonly {
    readonly productionType: string;
    readonly name: string;
    readonly category: string | null;
    readonly value: number;
    readonly share: number;
  }[];
  readonly missing: readonly string[];
}

export const decodeMix: Decoder<Mix> = (value, at) => {
  const o = record(value, at);
  return {
    slot: field(o, 'slot', instant, at),
    unit: field(o, 'unit', str, at),
    total: field(o, 'total', num, at),
    entries: field(
      o,
      'entries',
      array((e, a) => {
        const r = record(e, a);
        return {
          productionType: field(r, 'production_type', str, a),
          name: field(r, 'name', str, a),
          category: field(r, 'category', nullable(str), a),
          value: field(r, 'value', num, a),
          share: field(r, 'share', num, a),
        };
      }),
      at,
    ),
    missing: field(o, 'missing', array(str), at),
  };
};

/** `GET /api/v1/completeness` day row. */
export interface CompletenessDay {
  readonly metric: string;
  readonly day: string;
  readonly expectedValues: number;
  readonly presentValues: number;
}

/** Where a gap's self-healing stands (`state` of a `GET /api/v1/completeness` gap). */
export type GapState = 'pending' | 'backfilling' | 'filled' | 'source_has_none';

/** `GET /api/v1/completeness` gap: a range of expected slots found missing, and its targeted backfill. */
export interface CompletenessGap {
  readonly metric: string;
  readonly start: number;
  readonly end: number;
  readonly slots: number;
  readonly state: GapState;
  readonly tries: number;
  readonly nextAttemptAt: number | null;
  readonly lastOutcome: string | null;
}

/** `GET /api/v1/completeness`: the day rows and the gaps in the range. */
export interface Completeness {
  readonly days: readonly CompletenessDay[];
  readonly gaps: readonly CompletenessGap[];
}

const GAP_STATES: readonly GapState[] = ['pending', 'backfilling', 'filled', 'source_has_none'];

const gapState: Decoder<GapState> = (value, at) => {
  const s = str(value, at);
  const state = GAP_STATES.find((g) => g === s);
  if (state === undefined) throw new DecodeError(`${at}: expected a gap state, got ${JSON.stringify(s)}`);
  return state;
};

const decodeGap: Decoder<CompletenessGap> = (g, a) => {
  const o = record(g, a);
  return {
    metric: field(o, 'metric', str, a),
    start: field(o, 'start', instant, a),
    end: field(o, 'end', instant, a),
    slots: field(o, 'slots', numeric, a),
    state: field(o, 'state', gapState, a),
    tries: field(o, 'tries', numeric, a),
    nextAttemptAt: field(o, 'next_attempt_at', nullable(instant), a),
    lastOutcome: field(o, 'last_outcome', nullable(str), a),
  };
};

export const decodeCompleteness: Decoder<Completeness> = (value, at) => {
  const body = record(value, at);
  return {
    days: field(
      body,
      'days',
      array((d, a) => {
        const o = record(d, a);
        return {
          metric: field(o, 'metric', str, a),
          day: field(o, 'day', str, a),
          expectedValues: field(o, 'expected_values', numeric, a),
          presentValues: field(o, 'present_values', numeric, a),
        };
      }),
      at,
    ),
    // Older servers answer without gaps.
    gaps: body['gaps'] === undefined ? [] : field(body, 'gaps', array(decodeGap), at),
  };
};

/** A `slot` event of `GET /api/v1/stream`. */
export interface SlotEvent {
  readonly zone: string;
  readonly metric: string;
  readonly productionType: string | null;
  readonly qualifier: string | null;
  readonly unit: string;
  readonly slot: number;
  readonly value: number | null;
  readonly updatedAt: number;
}

export const decodeSlotEvent: Decoder<SlotEvent> = (value, at) => {
  const o = record(value, at);
  return {
    zone: field(o, 'zone', str, at),
    metric: field(o, 'metric', str, at),
    productionType: field(o, 'production_type', nullable(str), at),
    qualifier: field(o, 'qualifier', nullable(str), at),
    unit: field(o, 'unit', str, at),
    slot: field(o, 'slot', instant, at),
    value: field(o, 'value', nullable(num), at),
    updatedAt: field(o, 'updated_at', instant, at),
  };
};

/** A row as the admin endpoints return it (straight from SQL): cells shown as text. */
export type Row = Readonly<Record<string, unknown>>;

export const decodeRows =
  (name: string): Decoder<Row[]> =>
  (value, at) =>
    field(record(value, at), name, array(record), at);

/** `GET /api/v1/admin/connectors`. */
export interface ConnectorStatus {
  readonly jobs: readonly Row[];
  readonly rateLimits: readonly Row[];
  readonly leases: readonly Row[];
  /** `null` where the answering process runs no scheduler. */
  readonly live: ConnectorLive | null;
  /** Device inputs of the answering process (the MQTT subscriber), with why one is degraded. */
  readonly inputs: readonly { readonly name: string; readonly state: string; readonly degraded: string | null }[];
  /** Self-healing completeness: gaps per state, the targeted requests of the last hour, the open gaps. */
  readonly gaps: ConnectorGaps;
}

export interface ConnectorGaps {
  readonly states: Readonly<Record<GapState, number>>;
  readonly requestsLastHour: number;
  readonly open: readonly (CompletenessGap & { readonly zone: string; readonly failures: number })[];
}

/** `live` of the connectors answer: the in-process connectors of the process answering. */
export interface ConnectorLive {
  readonly mode: string;
  readonly leader: boolean | null;
  /** `null` where this process does not run the offline replay. */
  readonly replay: ReplayProgress | null;
}

/** `live.replay`: where the offline replay stands since its process started it. */
export interface ReplayProgress {
  readonly state: string;
  readonly documents: number;
  readonly published: number;
  readonly skipped: number;
  readonly pending: number;
  readonly cycles: number;
  readonly lastFile: string | null;
  readonly lastPublishedAt: string | null;
  readonly idle: boolean;
  readonly intervalMs: number;
}

export const decodeConnectors: Decoder<ConnectorStatus> = (value, at) => {
  const o = record(value, at);
  return {
    jobs: field(o, 'jobs', array(record), at),
    rateLimits: field(o, 'rate_limits', array(record), at),
    leases: field(o, 'leases', array(record), at),
    live: field(o, 'live', nullable(decodeConnectorLive), at),
    gaps:
      o['gaps'] === undefined
        ? { states: { pending: 0, backfilling: 0, filled: 0, source_has_none: 0 }, requestsLastHour: 0, open: [] }
        : field(o, 'gaps', decodeConnectorGaps, at),
    inputs: field(
      o,
      'inputs',
      array((v, a) => {
        const x = record(v, a);
        return {
          name: field(x, 'name', str, a),
          state: field(x, 'state', str, a),
          degraded: field(x, 'degraded', nullable(str), a),
        };
      }),
      at,
    ),
  };
};

function decodeConnectorGaps(value: unknown, at: string): ConnectorGaps {
  const o = record(value, at);
  const states = field(o, 'states', record, at);
  const count = (s: GapState): number => field(states, s, numeric, `${at}.states`);
  return {
    states: {
      pending: count('pending'),
      backfilling: count('backfilling'),
      filled: count('filled'),
      source_has_none: count('source_has_none'),
    },
    requestsLastHour: field(o, 'requests_last_hour', numeric, at),
    open: field(
      o,
      'open',
      array((g, a) => {
        const x = record(g, a);
        return { ...decodeGap(g, a), zone: field(x, 'zone', str, a), failures: field(x, 'failures', numeric, a) };
      }),
      at,
    ),
  };
}

function decodeConnectorLive(value: unknown, at: string): ConnectorLive {
  const o = record(value, at);
  return {
    mode: field(o, 'mode', str, at),
    leader: field(o, 'leader', nullable(bool), at),
    replay: field(o, 'replay', nullable(decodeReplayProgress), at),
  };
}

function decodeReplayProgress(value: unknown, at: string): ReplayProgress {
  const o = record(value, at);
  return {
    state: field(o, 'state', str, at),
    documents: field(o, 'documents', num, at),
    published: field(o, 'published', num, at),
    skipped: field(o, 'skipped', num, at),
    pending: field(o, 'pending', num, at),
    cycles: field(o, 'cycles', num, at),
    lastFile: field(o, 'last_file', nullable(str), at),
    lastPublishedAt: field(o, 'last_published_at', nullable(str), at),
    idle: field(o, 'idle', bool, at),
    intervalMs: field(o, 'interval_ms', num, at),
  };
}

/** `GET /api/v1/admin/lag`. */
export interface LagGroup {
  readonly group: string;
  readonly topic: string;
  readonly lag: number;
  readonly partitions: readonly { partition: number; end: number; committed: number | null; lag: number }[];
}

export const decodeLag: Decoder<LagGroup[]> = (value, at) =>
  field(
    record(value, at),
    'groups',
    array((g, a) => {
      const o = record(g, a);
      return {
        group: field(o, 'group', str, a),
        topic: field(o, 'topic', str, a),
        lag: field(o, 'lag', numeric, a),
        partitions: field(
          o,
          'partitions',
          array((p, b) => {
            const r = record(p, b);
            return {
              partition: field(r, 'partition', numeric, b),
              end: field(r, 'end', numeric, b),
              committed: field(r, 'committed', nullable(numeric), b),
              lag: field(r, 'lag', numeric, b),
            };
          }),
          a,
        ),
      };
    }),
    at,
  );

/** `GET /api/v1/admin/dlq`. */
export interface DlqTopicSummary {
  readonly topic: string;
  readonly total: number;
  readonly byReason: Readonly<Record<string, number>>;
}

export const decodeDlqSummary: Decoder<DlqTopicSummary[]> = (value, at) =>
  field(
    record(value, at),
    'topics',
    array((t, a) => {
      const o = record(t, a);
      const reasons = field(o, 'byReason', record, a);
      const byReason: Record<string, number> = {};
      for (const [k, v] of Object.entries(reasons)) byReason[k] = numeric(v, `${a}.byReason.${k}`);
      return { topic: field(o, 'topic', str, a), total: field(o, 'total', numeric, a), byReason };
    }),
    at,
  );

/** A dead-letter record (`GET /api/v1/admin/dlq/{topic}` entries, and one by offset). */
export interface DlqEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: string;
  readonly letter: Row | null;
  readonly invalid: string | null;
  readonly replays: number;
}

export const decodeDlqEntry: Decoder<DlqEntry> = (value, at) => {
  const o = record(value, at);
  return {
    topic: field(o, 'topic', str, at),
    partition: field(o, 'partition', numeric, at),
    offset: field(o, 'offset', numeric, at),
    timestamp: field(o, 'timestamp', str, at),
    letter: field(o, 'letter', nullable(record), at),
    invalid: field(o, 'invalid', nullable(str), at),
    replays: field(o, 'replays', numeric, at),
  };
};

export const decodeDlqEntries: Decoder<DlqEntry[]> = (value, at) =>
  field(record(value, at), 'entries', array(decodeDlqEntry), at);

export interface ReplayResult {
  readonly selected: number;
  readonly replayed: number;
  /** Why each failed one failed. */
  readonly failed: readonly { readonly partition: number; readonly offset: number; readonly reason: string }[];
}

export const decodeReplay: Decoder<ReplayResult> = (value, at) => {
  const o = record(value, at);
  return {
    selected: field(o, 'selected', numeric, at),
    replayed: field(o, 'replayed', numeric, at),
    failed: field(
      o,
      'failed',
      array((f, a) => {
        const r = record(f, a);
        return {
          partition: field(r, 'partition', numeric, a),
          offset: field(r, 'offset', numeric, a),
          reason: field(r, 'reason', str, a),
        };
      }),
      at,
    ),
  };
};

/** `GET /api/v1/admin/keys` entry. */
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly zones: readonly string[] | null;
  /** Meter groups the key is limited to; null: all. */
  readonly groups: readonly string[] | null;
  readonly rateLimitPerMinute: number | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly requestCount: number;
  readonly lastUsedAt: string | null;
}

export const decodeApiKey: Decoder<ApiKey> = (value, at) => {
  const o = record(value, at);
  return {
    id: field(o, 'id', str, at),
    name: field(o, 'name', str, at),
    role: field(o, 'role', str, at),
    zones: field(o, 'zones', nullable(array(str)), at),
    groups: field(o, 'groups', nullable(array(str)), at),
    rateLimitPerMinute: field(o, 'rateLimitPerMinute', nullable(numeric), at),
    createdAt: field(o, 'createdAt', str, at),
    revokedAt: field(o, 'revokedAt', nullable(str), at),
    requestCount: field(o, 'requestCount', numeric, at),
    lastUsedAt: field(o, 'lastUsedAt', nullable(str), at),
  };
};

export const decodeApiKeys: Decoder<ApiKey[]> = (value, at) =>
  field(record(value, at), 'keys', array(decodeApiKey), at);

export const decodeCreatedKey: Decoder<{ key: string; record: ApiKey }> = (value, at) => {
  const o = record(value, at);
  return { key: field(o, 'key', str, at), record: field(o, 'record', decodeApiKey, at) };
};
