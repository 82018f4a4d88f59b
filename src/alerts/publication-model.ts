import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { Signal } from './lifecycle.ts';
import type { AlertRules, PublicationOverride } from './settings.ts';

/**
 * What one source publishes for one metric and zone, and when: the expected-publication model. Learnt from the
 * arrivals of the last `lookback` (when each slot was first stored), overridable by the rule file's `publication`
 * entries. The completeness work uses the same model for its gaps.
 */
export interface PublicationExpectation {
  readonly source: string;
  readonly metric: string;
  readonly zone: string;
  /** `PT60M` when the source's values are coarser than the quarter hour (spread over it), else `PT15M`. */
  readonly resolution: 'PT15M' | 'PT60M';
  /** Arrival batches the delay was learnt from (0: from an override only). */
  readonly samples: number;
  /**
   * The usual publication delay: how long after the end of the first new slot of a batch the batch arrives, 95th
   * percentile of the batches that are not outliers (negative: published ahead, as day-ahead prices are). Null: not
   * known yet.
   */
  readonly delayMs: number | null;
  readonly medianDelayMs: number | null;
  readonly marginMs: number;
  /** False: an override says this series is not expected on a schedule (never idle). */
  readonly expected: boolean;
  /** The newest slot stored (start, UTC ms), null when none. */
  readonly lastSlot: number | null;
  /** Whether an override set the delay. */
  readonly overridden: boolean;
}

/** When the slot after the newest one is due at the latest (its end + usual delay + margin); null: unknown. */
export function expectedBy(e: PublicationExpectation): number | null {
  if (!e.expected || e.delayMs === null || e.lastSlot === null) return null;
  return e.lastSlot + 2 * SLOT_MS + e.delayMs + e.marginMs;
}

const matches = (
  o: PublicationOverride,
  k: { source: string; metric: string; zone: string; resolution: string },
): boolean =>
  (o.source === undefined || o.source === k.source) &&
  (o.metric === undefined || o.metric === k.metric) &&
  (o.zone === undefined || o.zone === k.zone) &&
  (o.resolution === undefined || o.resolution === k.resolution);

/**
 * Learns the model from the stored observations (source series only: derived series such as carbon intensity
 * follow their inputs). A batch is what arrived in one minute; slots first stored more than 7 days after their end
 * are backfills, not publications, and are left out — which is why offline replays of old documents teach the
 * model nothing and never look idle.
 */
export async function learnPublication(
  q: Queryable,
  rules: AlertRules,
  now: number,
  options: DbCallOptions = {},
): Promise<PublicationExpectation[]> {
  const d = rules.detectors.idle_source;
  const learnt = await q.query<{
    source: string;
    metric: string;
    zone: string;
    split: boolean;
    delays: number[];
  }>(
    `WITH s AS (
       SELECT source, metric, zone, slot_start, min(first_seen) AS first_seen,
         bool_or(coalesce('split' = ANY(flags), false)) AS split
       FROM grid_observations
       WHERE first_seen >= $1 AND source <> 'gridstream'
       GROUP BY source, metric, zone, slot_start),
     b AS (
       SELECT source, metric, zone, date_trunc('minute', first_seen) AS at, min(slot_start) AS head, bool_or(split) AS split
       FROM s GROUP BY source, metric, zone, date_trunc('minute', first_seen))
     SELECT source, metric, zone, bool_or(split) AS split,
       array_agg((extract(epoch FROM at - head) * 1000 - ${SLOT_MS})::float8) AS delays
     FROM b WHERE at - head < interval '7 days'
     GROUP BY source, metric, zone`,
    [new Date(now - d.lookback)],
    options,
  );
  const last = await q.query<{ source: string; metric: string; zone: string; last_slot: Date }>(
    `SELECT source, metric, zone, max(last_slot) AS last_slot FROM grid_series WHERE source <> 'gridstream'
     GROUP BY source, metric, zone`,
    [],
    options,
  );
  const lastOf = new Map(last.rows.map((r) => [`${r.source}|${r.metric}|${r.zone}`, r.last_slot.getTime()]));
  const seen = new Set<string>();
  const out: PublicationExpectation[] = [];
  const build = (
    source: string,
    metric: string,
    zone: string,
    resolution: 'PT15M' | 'PT60M',
    samples: number,
    p95: number | null,
    p50: number | null,
  ): void => {
    const key = `${source}|${metric}|${zone}`;
    seen.add(key);
    const override = rules.publication.filter((o) => matches(o, { source, metric, zone, resolution })).at(-1);
    const learntDelay = samples >= d.minSamples ? p95 : null;
    const delayMs = override?.delay ?? learntDelay;
    out.push({
      source,
      metric,
      zone,
      resolution,
      samples,
      delayMs,
      medianDelayMs: p50,
      marginMs: override?.margin ?? d.margin,
      expected: override?.expected ?? true,
      lastSlot: lastOf.get(key) ?? null,
      overridden: override?.delay !== undefined,
    });
  };
  for (const r of learnt.rows) {
    const { usual, median } = usualDelay(r.delays);
    build(r.source, r.metric, r.zone, r.split ? 'PT60M' : 'PT15M', r.delays.length, usual, median);
  }
  // Series with nothing learnt recently can still be expected by an override.
  for (const r of last.rows) {
    const key = `${r.source}|${r.metric}|${r.zone}`;
    if (seen.has(key)) continue;
    if (
      rules.publication.some((o) => o.delay !== undefined && matches(o, { ...r, resolution: o.resolution ?? 'PT15M' }))
    )
      build(r.source, r.metric, r.zone, 'PT15M', 0, null, null);
  }
  return out.sort((a, b) => `${a.zone}|${a.metric}|${a.source}`.localeCompare(`${b.zone}|${b.metric}|${b.source}`));
}

/**
 * The model with each series' newest stored slot read again (a cheap look at `grid_series`): the learnt delays are
 * kept for a while, but whether a series is late depends on what arrived since.
 */
export async function withLastSlots(
  q: Queryable,
  model: readonly PublicationExpectation[],
  options: DbCallOptions = {},
): Promise<PublicationExpectation[]> {
  const { rows } = await q.query<{ source: string; metric: string; zone: string; last_slot: Date }>(
    `SELECT source, metric, zone, max(last_slot) AS last_slot FROM grid_series WHERE source <> 'gridstream'
     GROUP BY source, metric, zone`,
    [],
    options,
  );
  const last = new Map(rows.map((r) => [`${r.source}|${r.metric}|${r.zone}`, r.last_slot.getTime()]));
  return model.map((e) => ({ ...e, lastSlot: last.get(`${e.source}|${e.metric}|${e.zone}`) ?? e.lastSlot }));
}

/**
 * The usual delay of a series' batches: the 95th percentile of the delays that are not outliers (more than five
 * robust standard deviations above the median). A source that was down and caught up publishes its backlog hours
 * late; counting those batches would teach the model that outages are usual and make it blind to the next one.
 */
export function usualDelay(delays: readonly number[]): { usual: number | null; median: number | null } {
  if (delays.length === 0) return { usual: null, median: null };
  const sorted = [...delays].sort((a, b) => a - b);
  const at = (list: readonly number[], p: number): number =>
    list[Math.min(list.length - 1, Math.floor(p * (list.length - 1)))] ?? 0;
  const median = at(sorted, 0.5);
  const mad = at(
    [...sorted.map((x) => Math.abs(x - median))].sort((a, b) => a - b),
    0.5,
  );
  const usual = sorted.filter((x) => x <= median + 5 * 1.4826 * Math.max(mad, 60_000));
  return { usual: at(usual, 0.95), median };
}

/** Idle-source verdicts at processing time `now`: active once the next slot is past its expected time. */
export function idleSignals(rules: AlertRules, model: readonly PublicationExpectation[], now: number): Signal[] {
  const d = rules.detectors.idle_source;
  if (!d.enabled) return [];
  const signals: Signal[] = [];
  for (const e of model) {
    const due = expectedBy(e);
    if (due === null || e.lastSlot === null) continue;
    const active = now > due;
    const subject = `${e.source}|${e.metric}|${e.zone}|${e.resolution}`;
    const next = new Date(e.lastSlot + SLOT_MS).toISOString();
    signals.push({
      detector: 'idle_source',
      subject,
      active,
      from: active ? due : now - 1,
      to: now,
      severity: d.severity,
      zone: e.zone,
      group: null,
      meter: null,
      message: active
        ? `${e.source} has not published ${e.metric} for ${e.zone} from ${next}: due by ${new Date(due).toISOString()} (usual delay ${Math.round((e.delayMs ?? 0) / 60_000)} min + margin ${Math.round(e.marginMs / 60_000)} min)`
        : `${e.source} publishes ${e.metric} for ${e.zone} again`,
      values: {
        last_slot: new Date(e.lastSlot).toISOString(),
        due_by: new Date(due).toISOString(),
        usual_delay_min: Math.round((e.delayMs ?? 0) / 60_000),
        samples: e.samples,
      },
    });
  }
  return signals;
}
