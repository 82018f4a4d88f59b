import type { AlertRules, PublicationExpectation } from '../alerts/index.ts';
import { learnPublication, withLastSlots } from '../alerts/index.ts';
import type { PeriodicTask } from '../common/index.ts';
import { backoffDelay, errorCode, errorMessage, isAborted, periodic } from '../common/index.ts';
import type { EntsoeRequest } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { dueWindow, missingRanges, reconcile } from './gap-detect.ts';
import { gapRequest, healable } from './gap-requests.ts';
import type { Gap, GapOutcome } from './gap-store.ts';
import {
  claimGap,
  closeGap,
  dueGaps,
  forgetBefore,
  insertGap,
  moveGap,
  openGaps,
  openGapsOutside,
  recordAttempt,
  requestsSince,
} from './gap-store.ts';

/**
 * The port through which the healer asks the source for a range: the scheduler's ENTSO-E ingestor (`ingest` of
 * `EntsoeIngestor`), which fetches through the shared rate limit and circuit breakers, publishes what it fetched to
 * `raw.entsoe` and dead-letters what failed for good. Runtime hands it over; this module never builds a client.
 */
export type GapIngest = (
  request: EntsoeRequest,
  options: { readonly signal: AbortSignal },
) => Promise<{ readonly points: number; readonly noData: number; readonly deadLetters: readonly unknown[] }>;

/** How the healer looks for gaps and how much it may ask for (GRIDSTREAM_GAP_* variables). */
export interface GapHealingSettings {
  /** How often gaps are looked for. @default 5 min */
  readonly intervalMs: number;
  /** How far back gaps are looked for (and kept). @default 7 days */
  readonly lookbackMs: number;
  /** Targeted requests per pass. @default 10 */
  readonly requestsPerRun: number;
  /** Targeted requests per sliding hour, across passes and restarts (counted in the database). @default 60 */
  readonly requestsPerHour: number;
  /** Answered requests after which a gap that stays open is marked "source has none". @default 4 */
  readonly maxTries: number;
  /** Wait after the first try; doubles with every try, up to `retryMaxMs`. @default 15 min */
  readonly retryBaseMs: number;
  /** @default 6 h */
  readonly retryMaxMs: number;
}

export const DEFAULT_GAP_HEALING: GapHealingSettings = {
  intervalMs: 300_000,
  lookbackMs: 7 * 86_400_000,
  requestsPerRun: 10,
  requestsPerHour: 60,
  maxTries: 4,
  retryBaseMs: 900_000,
  retryMaxMs: 6 * 3_600_000,
};

export interface GapHealerOptions {
  readonly db: Queryable;
  readonly logger: Logger;
  readonly reference: ReferenceData;
  /** The alert rule file's settings: its `publication` overrides shape the model the gaps are found against. */
  readonly rules: AlertRules;
  readonly ingest: GapIngest;
  readonly settings?: Partial<GapHealingSettings>;
  /**
   * The scheduler leader's term: a signal that aborts when this process stops leading, `undefined` while it does not
   * lead. A pass runs only within a term and stops when the term ends (as the cron jobs do), so that an old leader's
   * pass does not go on beside the new leader's. @default always heal, with no term
   */
  readonly leaderTerm?: () => AbortSignal | undefined;
  /** How often the expected-publication model is learnt again. @default 15 min */
  readonly modelRefreshMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What one pass did. */
export interface GapPassReport {
  /** Series of the model looked at. */
  readonly series: number;
  readonly found: number;
  readonly filled: number;
  readonly requested: number;
  readonly sourceHasNone: number;
  /** Due gaps left for a later pass by the request budget. */
  readonly deferred: number;
}

/** The gap healer: a periodic task, plus one pass on demand (tests, the benchmark). */
export interface GapHealer extends PeriodicTask {
  runOnce(signal?: AbortSignal): Promise<GapPassReport>;
}

/**
 * Series that rule-file `publication` entries expect by name — source, metric and zone given, with a delay — but that
 * the model does not hold (nothing of them is stored, so nothing was learnt): the model expects what it has seen,
 * the rule file also what the operator knows should come.
 */
export function expectedByRules(rules: AlertRules, model: readonly PublicationExpectation[]): PublicationExpectation[] {
  const known = new Set(model.map((e) => `${e.source}|${e.metric}|${e.zone}`));
  const out = new Map<string, PublicationExpectation>();
  for (const o of rules.publication) {
    if (o.source === undefined || o.metric === undefined || o.zone === undefined) continue;
    const key = `${o.source}|${o.metric}|${o.zone}`;
    if (known.has(key)) continue;
    if (o.delay === undefined || o.expected === false) {
      out.delete(key); // a later entry wins, as in the model
      continue;
    }
    out.set(key, {
      source: o.source,
      metric: o.metric,
      zone: o.zone,
      resolution: o.resolution === 'PT60M' ? 'PT60M' : 'PT15M',
      samples: 0,
      delayMs: o.delay,
      medianDelayMs: null,
      marginMs: o.margin ?? rules.detectors.idle_source.margin,
      expected: true,
      lastSlot: null,
      overridden: true,
    });
  }
  return [...out.values()];
}

/**
 * Self-healing completeness. Each pass learns (or refreshes) the expected-publication model, finds per series the
 * ranges of slots that are due — older than the usual delay plus the margin — and missing, keeps them as gaps with
 * a state, and asks the source for due gaps with one targeted request each, within the request budget. A gap that
 * is still missing when its next try is due is asked for again with a doubled wait; after `maxTries` answered
 * requests it is marked "source has none" and left alone. Failed requests back off the same way but never count as
 * an answer.
 */
export function gapHealer(options: GapHealerOptions): GapHealer {
  const settings = { ...DEFAULT_GAP_HEALING, ...options.settings };
  const { db, logger, reference } = options;
  const now = options.now ?? Date.now;
  const refreshMs = options.modelRefreshMs ?? 900_000;
  let model: { at: number; expectations: PublicationExpectation[] } | undefined;

  const expectations = async (t: number, o: DbCallOptions): Promise<PublicationExpectation[]> => {
    if (model === undefined || t - model.at >= refreshMs || t < model.at) {
      model = { at: t, expectations: await learnPublication(db, options.rules, t, o) };
      return model.expectations;
    }
    return withLastSlots(db, model.expectations, o);
  };

  const wait = (attempt: number): number =>
    backoffDelay(attempt, { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs, jitter: 0 });

  type Answer = Awaited<ReturnType<GapIngest>>;

  /**
   * Asks for a gap, or takes the answer of the same request made earlier in the pass (`asked`, by request): two
   * metrics of one item (actual generation and consumption, both A75) missing over the same range are one request.
   */
  async function attempt(
    gap: Gap,
    t: number,
    signal: AbortSignal,
    asked: Map<string, Promise<Answer>>,
  ): Promise<GapOutcome> {
    const request = gapRequest(gap, reference);
    const key = JSON.stringify(request);
    let answer = asked.get(key);
    if (answer === undefined) {
      answer = options.ingest(request, { signal });
      asked.set(key, answer);
    }
    let outcome: GapOutcome;
    let points = 0;
    let message: string;
    try {
      const report = await answer;
      points = report.points;
      outcome = report.deadLetters.length > 0 ? 'failed' : points > 0 ? 'data' : 'no-data';
      message =
        outcome === 'failed'
          ? 'request failed (sent to dlq-ingestion)'
          : outcome === 'data'
            ? `${points} values fetched`
            : 'no matching data';
    } catch (error) {
      if (isAborted(signal)) throw error;
      outcome = 'failed';
      message = `request failed: ${errorCode(error)}`;
      logger.warn({ gap: gap.id, code: errorCode(error), err: errorMessage(error) }, 'gap request failed');
    }
    const attempts = gap.tries + gap.failures + 1;
    // Recorded even when the pass is being stopped: the request was made, its try counts.
    await recordAttempt(db, gap, { outcome, points, message, at: t, nextAttemptAt: t + wait(attempts) });
    logger.info(
      {
        gap: gap.id,
        source: gap.source,
        metric: gap.metric,
        zone: gap.zone,
        from: new Date(gap.start).toISOString(),
        to: new Date(gap.end).toISOString(),
        outcome,
        points,
        tries: gap.tries + (outcome === 'failed' ? 0 : 1),
      },
      'gap backfill requested',
    );
    return outcome;
  }

  type Report = { -readonly [K in keyof GapPassReport]: GapPassReport[K] };

  async function runOnce(outer: AbortSignal = new AbortController().signal): Promise<GapPassReport> {
    const report: Report = { series: 0, found: 0, filled: 0, requested: 0, sourceHasNone: 0, deferred: 0 };
    let signal = outer;
    if (options.leaderTerm !== undefined) {
      const term = options.leaderTerm();
      if (term === undefined || term.aborted) return report;
      signal = AbortSignal.any([outer, term]);
    }
    try {
      await pass(now(), signal, report);
    } catch (error) {
      // Leadership ended mid-pass: what is done stays; claimed gaps are due again when their claim runs out.
      if (!isAborted(signal) || isAborted(outer)) throw error;
      logger.info({ ...report }, 'gap pass stopped: no longer the leader');
    }
    return report;
  }

  async function pass(t: number, signal: AbortSignal, report: Report): Promise<void> {
    const o = { signal };
    await forgetBefore(db, t - settings.lookbackMs, o);
    const firsts = await db.query<{ source: string; metric: string; zone: string; first_slot: Date }>(
      `SELECT source, metric, zone, min(first_slot) AS first_slot FROM grid_series WHERE source <> 'gridstream'
       GROUP BY source, metric, zone`,
      [],
      o,
    );
    const firstOf = new Map(firsts.rows.map((r) => [`${r.source}|${r.metric}|${r.zone}`, r.first_slot.getTime()]));
    const model = await expectations(t, o);
    const seen = new Set<string>();
    for (const e of [...model, ...expectedByRules(options.rules, model)]) {
      if (!healable(e, reference)) continue;
      // A series the rule file expects but nothing was ever stored of: expected over the whole lookback.
      const first =
        firstOf.get(`${e.source}|${e.metric}|${e.zone}`) ?? (e.lastSlot === null ? t - settings.lookbackMs : null);
      const window = dueWindow(e, first, t, settings.lookbackMs);
      if (window === null) continue;
      report.series++;
      seen.add(`${e.source}|${e.metric}|${e.zone}`);
      const missing = await missingRanges(db, e, window, o);
      const stored = await openGaps(db, e, o);
      const decided = reconcile(stored, missing, window);
      for (const id of decided.filled) await closeGap(db, id, 'filled', t, o);
      for (const m of decided.moved) await moveGap(db, m.id, m.range, t, o);
      for (const range of decided.added) {
        // The same absence going on past a range the source had none for (a series it does not publish): asked
        // once more after the longest wait, not `maxTries` times again.
        const continues = stored.some((g) => g.state === 'source_has_none' && g.end === range.start);
        const start = continues
          ? { tries: Math.max(0, settings.maxTries - 1), dueAt: t + settings.retryMaxMs }
          : { tries: 0, dueAt: t };
        await insertGap(db, { ...e, ...range }, t, o, start);
      }
      report.filled += decided.filled.length;
      report.found += decided.added.length;
      if (decided.added.length > 0 || decided.filled.length > 0) {
        logger.info(
          {
            source: e.source,
            metric: e.metric,
            zone: e.zone,
            found: decided.added.length,
            filled: decided.filled.length,
          },
          'completeness gaps',
        );
      }
    }
    // Gaps of series not looked at above (they left the model, or their window is empty now): filled when every slot
    // of their own range is stored, whatever their state.
    for (const gap of await openGapsOutside(db, seen, o)) {
      if ((await missingRanges(db, gap, gap, o)).length > 0) continue;
      await closeGap(db, gap.id, 'filled', t, o);
      report.filled++;
    }
    let budget = Math.min(
      settings.requestsPerRun,
      settings.requestsPerHour - (await requestsSince(db, t - 3_600_000, o)),
    );
    const asked = new Map<string, Promise<Answer>>();
    for (const due of await dueGaps(db, t, 1000, o)) {
      if (isAborted(signal)) break;
      if (due.tries < settings.maxTries && budget <= 0) {
        report.deferred++;
        continue;
      }
      // Claimed first, so that another replica's healer in a pass at the same time does not ask for it too; held
      // until the next try a failed request would get (the attempt's record sets the real one).
      const claimed = await claimGap(db, due.id, t, t + wait(due.tries + due.failures + 1), o);
      if (claimed === undefined) continue;
      // Looked at again over its own range: its data may have come meanwhile (another request, the cron jobs' look
      // back), or its series may have left the model above and not been reconciled.
      const missing = await missingRanges(db, claimed, claimed, o);
      const head = missing[0];
      const tail = missing.at(-1);
      if (head === undefined || tail === undefined) {
        await closeGap(db, claimed.id, 'filled', t, o);
        report.filled++;
        continue;
      }
      const gap = { ...claimed, start: head.start, end: tail.end };
      if (gap.start !== claimed.start || gap.end !== claimed.end) await moveGap(db, gap.id, gap, t, o);
      if (gap.tries >= settings.maxTries) {
        await closeGap(db, gap.id, 'source_has_none', t, o);
        report.sourceHasNone++;
        logger.warn(
          { gap: gap.id, source: gap.source, metric: gap.metric, zone: gap.zone, tries: gap.tries },
          'gap marked "source has none": still missing after every try',
        );
        continue;
      }
      if (!asked.has(JSON.stringify(gapRequest(gap, reference)))) {
        budget--;
        report.requested++;
      }
      await attempt(gap, t, signal, asked);
    }
  }

  const task = periodic({
    name: 'completeness-gaps',
    intervalMs: settings.intervalMs,
    logger,
    run: async (signal) => {
      await runOnce(signal);
      return undefined;
    },
  });
  return Object.assign(task, { runOnce });
}
