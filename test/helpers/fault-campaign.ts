/**
 * Pieces of the distributed fault campaign (test/runtime/fault-campaign.test.ts): a seeded random source, the
 * meter load posted to the ingest gateway (what the gateway acknowledged is the truth to check against), a
 * progress monitor that finds the longest stall from committed offsets, a readiness watcher that tells how each
 * fault was seen, and the checks of what the database holds.
 */
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import { DeadLetterSchema, RawEntsoeDocumentSchema, type DeadLetter } from '../../src/contracts/index.ts';
import type { Log } from '../../src/log/index.ts';
import { observationsFromEntsoe } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import type { Queryable } from '../../src/storage/index.ts';
import type { Readiness, Worker } from './workers.ts';

/** mulberry32: a small seeded generator, so that a campaign can be run again exactly from its seed. */
export function seeded(seed: number): {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
} {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => {
      const x = xs[Math.floor(next() * xs.length)];
      if (x === undefined) throw new Error('pick from an empty list');
      return x;
    },
  };
}

/** The registry CSV of `count` meters the load posts for (all in one group of DE_LU, 15-minute intervals). */
export function fleetCsv(count: number): string {
  const lines = ['meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile'];
  for (let i = 0; i < count; i++) lines.push(`fc-m-${i},DE_LU,fc-a,Europe/Berlin,import,PT15M,3500,H0`);
  return `${lines.join('\n')}\n`;
}

const FIRST_QUARTER = Date.parse('2026-11-01T00:00:00Z');

/** The value meter `m` reports for quarter `k`: distinct per key, three decimals, so a mix-up shows. */
export function readingValue(m: number, k: number): string {
  return (((m * 7919 + k * 104_729) % 100_000) / 1000).toFixed(3);
}

/**
 * Posts, every `intervalMs`, one reading per meter for the next quarter hour to the ingest gateway, until
 * `stop()`. A batch not acknowledged (connection refused, 5xx, a timeout) is posted again, unchanged, until it is:
 * so a reading may reach the log twice, and must still be stored once. `acknowledged` maps `meter|ts` to value.
 */
export function meterLoad(options: {
  readonly url: () => string;
  readonly key: string;
  readonly meters: number;
  readonly intervalMs: number;
}) {
  const acknowledged = new Map<string, string>();
  let attempts = 0;
  let failures = 0;
  let batches = 0;
  let lastAck = Date.now();
  let longestGap = 0;
  const failuresAt: number[] = [];
  const stopping = new AbortController();
  /** After a failed test: give up on the batch in flight too. */
  const abandon = new AbortController();
  const post = async (body: string): Promise<boolean> => {
    attempts++;
    try {
      const res = await fetch(options.url(), {
        method: 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/x-ndjson' },
        body,
        signal: AbortSignal.timeout(90_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${res.status} ${text.slice(0, 200)}`);
      const answer = JSON.parse(text) as { accepted?: number; rejected?: number };
      if (answer.rejected !== 0 || answer.accepted !== options.meters) {
        throw new Error(`the gateway refused readings: ${text.slice(0, 500)}`);
      }
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the gateway refused')) throw error;
      failures++;
      failuresAt.push(Date.now());
      return false;
    }
  };
  const done = (async () => {
    for (let k = 0; !stopping.signal.aborted; k++) {
      const ts = new Date(FIRST_QUARTER + k * 900_000).toISOString();
      const lines = Array.from({ length: options.meters }, (_, m) =>
        JSON.stringify({ meter_id: `fc-m-${m}`, quantity: 'energy_import', ts, value: readingValue(m, k) }),
      );
      // Once started, a batch is sent until acknowledged, even while stopping: what was sent must be accounted for.
      while (!(await post(`${lines.join('\n')}\n`))) {
        if (abandon.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const now = Date.now();
      longestGap = Math.max(longestGap, now - lastAck);
      lastAck = now;
      batches++;
      for (let m = 0; m < options.meters; m++) acknowledged.set(`fc-m-${m}|${ts}`, readingValue(m, k));
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  })();
  return {
    acknowledged,
    stats: () => ({ batches, attempts, failures, longestGapMs: longestGap }),
    failuresBetween: (from: number, to: number) => failuresAt.filter((t) => t >= from && t <= to).length,
    async stop(options: { readonly abandon?: boolean } = {}): Promise<void> {
      stopping.abort();
      if (options.abandon === true) abandon.abort();
      await done;
    },
  };
}

/** The consumer groups the campaign drains, with their inputs (src/runtime CONSUMER_GROUPS without Electricity Maps). */
export const DRAINED = [
  { group: 'gridstream-process-entsoe', topics: ['raw.entsoe'] },
  { group: 'gridstream-store', topics: ['grid.observations', 'grid.carbon'] },
  { group: 'gridstream-meters', topics: ['raw.meters'] },
] as const;

/** Committed and end offsets of every drained group and topic, summed. */
export async function progress(log: Log): Promise<{ committed: number; end: number; lagging: string[] }> {
  let committed = 0;
  let end = 0;
  const lagging: string[] = [];
  for (const { group, topics } of DRAINED) {
    for (const topic of topics) {
      const [ends, commits] = await Promise.all([log.offsets(topic), log.committed(group, topic)]);
      for (const e of ends) {
        const c = commits[e.partition] ?? null;
        committed += Math.min(c ?? 0, e.next);
        end += e.next;
        if ((c ?? 0) < e.next) lagging.push(`${group}:${topic}/${e.partition} ${c ?? 'none'}<${e.next}`);
      }
    }
  }
  return { committed, end, lagging };
}

/**
 * Samples {@link progress} every `intervalMs` until stopped. A stall is a time during which something was not yet
 * committed and nothing new was: from the last advance of the committed offsets to the next one (samples that
 * fail, while the broker is down, count as no advance).
 */
export function progressMonitor(log: Log, intervalMs = 500) {
  let lastAdvance = Date.now();
  let lastCommitted = -1;
  let longest = { ms: 0, from: 0, to: 0 };
  let stalledSince: number | undefined;
  const stopping = new AbortController();
  const done = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const p = await progress(log);
        const now = Date.now();
        if (p.committed > lastCommitted) {
          if (stalledSince !== undefined && now - lastAdvance > longest.ms) {
            longest = { ms: now - lastAdvance, from: lastAdvance, to: now };
          }
          lastCommitted = p.committed;
          lastAdvance = now;
          stalledSince = undefined;
        } else if (p.committed < p.end) {
          stalledSince ??= lastAdvance;
        } else {
          // Nothing to do: not a stall.
          lastAdvance = now;
          stalledSince = undefined;
        }
      } catch {
        stalledSince ??= lastAdvance;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    longest: () => longest,
    async stop(): Promise<void> {
      stopping.abort();
      await done;
    },
  };
}

/** One change of a worker's `/readyz` answer. */
export interface ReadinessChange {
  readonly at: number;
  readonly worker: string;
  readonly status: number | 'down' | 'no answer';
  readonly body: string;
}

/** Polls every worker's `/readyz` and keeps each change of answer (the first answer of each too). */
export function readinessWatcher(workers: readonly Worker[], intervalMs = 400) {
  const changes: ReadinessChange[] = [];
  const last = new Map<string, string>();
  const stopping = new AbortController();
  const done = (async () => {
    while (!stopping.signal.aborted) {
      await Promise.all(
        workers.map(async (w) => {
          const r: Readiness = await w.readiness(1500);
          const key = `${r.status}`;
          if (last.get(w.name) === key) return;
          last.set(w.name, key);
          changes.push({
            at: Date.now(),
            worker: w.name,
            status: r.status,
            body: 'body' in r ? r.body.slice(0, 300) : '',
          });
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    changes,
    async stop(): Promise<void> {
      stopping.abort();
      await done;
    },
  };
}

/** Every record value of `topic` below the given end offsets. */
export async function readAll(log: Log, topic: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const p of await log.offsets(topic)) {
    for (let at = p.earliest; at < p.next;) {
      const batch = await log.read(topic, p.partition, at, 2000);
      if (batch.length === 0) break;
      for (const r of batch) out.push(r.value);
      at = (batch.at(-1)?.offset ?? at) + 1;
    }
  }
  return out;
}

/** What the documents on raw.entsoe must become: observation key → value, and the rejects they hold. */
export function expectedGrid(raw: readonly Uint8Array[]): {
  documents: number;
  observations: Map<string, number>;
  conflicts: Set<string>;
  rejectsPerDocument: Map<string, number>;
} {
  const reference = loadReference();
  const observations = new Map<string, number>();
  const conflicts = new Set<string>();
  const rejectsPerDocument = new Map<string, number>();
  for (const bytes of raw) {
    const doc = RawEntsoeDocumentSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    const result = observationsFromEntsoe(parseEntsoeDocument(doc.body), {
      reference,
      fallbackDocumentId: doc.fileName ?? doc.id,
    });
    rejectsPerDocument.set(doc.id, result.rejects.length);
    for (const c of result.chunks) {
      for (const p of c.points) {
        const key = gridKey(c.zone, c.metric, c.productionType, c.counterpartZone, c.qualifier, Date.parse(p.t));
        const had = observations.get(key);
        if (had !== undefined && had !== p.v) conflicts.add(key);
        observations.set(key, p.v);
      }
    }
  }
  return { documents: raw.length, observations, conflicts, rejectsPerDocument };
}

export function gridKey(
  zone: string,
  metric: string,
  productionType: string,
  counterpart: string,
  qualifier: string,
  slotMs: number,
): string {
  return `${zone}|${metric}|${productionType}|${counterpart}|${qualifier}|${slotMs}`;
}

/** Lost, extra and wrong grid rows of the database against `expected` (rows of source `gridstream` not counted). */
export async function checkGrid(
  db: Queryable,
  expected: Map<string, number>,
  conflicts: ReadonlySet<string>,
): Promise<{ stored: number; lost: string[]; extra: string[]; corrupted: string[]; revisions: number }> {
  const { rows } = await db.query<{
    zone: string;
    metric: string;
    production_type: string;
    counterpart_zone: string;
    qualifier: string;
    slot: string;
    value: number;
  }>(
    `select zone, metric, production_type, counterpart_zone, qualifier,
            (extract(epoch from slot_start) * 1000)::bigint::text as slot, value
       from grid_observations where source <> 'gridstream'`,
  );
  const seen = new Set<string>();
  const extra: string[] = [];
  const corrupted: string[] = [];
  for (const r of rows) {
    const key = gridKey(r.zone, r.metric, r.production_type, r.counterpart_zone, r.qualifier, Number(r.slot));
    seen.add(key);
    const want = expected.get(key);
    if (want === undefined) extra.push(key);
    else if (want !== r.value && !conflicts.has(key)) corrupted.push(`${key}: ${r.value} ≠ ${want}`);
  }
  const lost = [...expected.keys()].filter((k) => !seen.has(k));
  const revisions = (await db.query<{ n: number }>('select count(*)::int as n from grid_observation_revisions')).rows[0]
    ?.n;
  return { stored: rows.length, lost, extra, corrupted, revisions: revisions ?? -1 };
}

/** Lost, extra and wrong meter intervals against what the gateway acknowledged. */
export async function checkMeters(
  db: Queryable,
  acknowledged: ReadonlyMap<string, string>,
): Promise<{ stored: number; lost: string[]; extra: string[]; corrupted: string[]; revisions: number }> {
  const { rows } = await db.query<{ meter_id: string; ts: string; value: string }>(
    `select meter_id, to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') as ts, value::text as value
       from meter_intervals where quantity = 'energy_import' and meter_id like 'fc-m-%'`,
  );
  const seen = new Set<string>();
  const extra: string[] = [];
  const corrupted: string[] = [];
  for (const r of rows) {
    const key = `${r.meter_id}|${r.ts}`;
    seen.add(key);
    const want = acknowledged.get(key);
    // Readings of a batch whose acknowledgement was lost and that was not sent again cannot occur: every batch is
    // sent until acknowledged, so every stored key must be an acknowledged one.
    if (want === undefined) extra.push(key);
    else if (Number(want) !== Number(r.value)) corrupted.push(`${key}: ${r.value} ≠ ${want}`);
  }
  const lost = [...acknowledged.keys()].filter((k) => !seen.has(k));
  const revisions = (
    await db.query<{ n: number }>(
      "select count(*)::int as n from meter_interval_revisions where meter_id like 'fc-m-%'",
    )
  ).rows[0]?.n;
  return { stored: rows.length, lost, extra, corrupted, revisions: revisions ?? -1 };
}

/** Every dead letter of the given topics. */
export async function allDeadLetters(log: Log, topics: readonly string[]): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for (const topic of topics) {
    for (const bytes of await readAll(log, topic)) {
      out.push(DeadLetterSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8'))));
    }
  }
  return out;
}
