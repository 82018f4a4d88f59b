import type { Alert, AlertEvent, AlertTransition, Detector, Severity } from '../contracts/index.ts';
import type { DbCallOptions, Queryable } from '../storage/index.ts';
import type { OpenAlert, RunState, Signal, Step } from './lifecycle.ts';
import { advance, alertKey } from './lifecycle.ts';
import type { AlertRules } from './settings.ts';
import { timingOf } from './settings.ts';

/** A row of `alerts` as the queries return it. */
interface AlertRow {
  id: string;
  key: string;
  detector: Detector;
  subject: string;
  reason: string;
  severity: Severity;
  state: Alert['state'];
  zone: string | null;
  group_id: string | null;
  meter_id: string | null;
  message: string;
  evidence: Alert['evidence'];
  first_seen: Date;
  last_seen: Date;
  occurrences: number;
  opened_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
}

const ALERT_COLUMNS = `id::text, key, detector, subject, reason, severity, state, zone, group_id, meter_id, message,
  evidence, first_seen, last_seen, occurrences, opened_at, updated_at, acknowledged_at, acknowledged_by, resolved_at,
  resolved_by`;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** The API's and the topic's shape of a stored alert. */
export function alertOfRow(r: AlertRow): Alert {
  return {
    id: r.id,
    key: r.key,
    detector: r.detector,
    subject: r.subject,
    reason: r.reason,
    severity: r.severity,
    state: r.state,
    zone: r.zone,
    group: r.group_id,
    meter: r.meter_id,
    message: r.message,
    evidence: r.evidence,
    first_seen: r.first_seen.toISOString(),
    last_seen: r.last_seen.toISOString(),
    occurrences: r.occurrences,
    opened_at: r.opened_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    acknowledged_at: iso(r.acknowledged_at),
    acknowledged_by: r.acknowledged_by,
    resolved_at: iso(r.resolved_at),
    resolved_by: r.resolved_by,
  };
}

/** The registry code of a detector's alerts. */
export const reasonOf = (detector: Detector): string => `alerts.${detector}`;

async function recordEvent(
  q: Queryable,
  row: AlertRow,
  transition: AlertTransition,
  options: DbCallOptions,
): Promise<void> {
  const { rows } = await q.query<{ id: string; at: Date }>(
    `INSERT INTO alert_events (alert_id, transition, payload) VALUES ($1, $2, '{}') RETURNING id::text, at`,
    [row.id, transition],
    options,
  );
  const e = rows[0];
  if (e === undefined) return;
  const event: AlertEvent = { event_id: e.id, transition, at: e.at.toISOString(), alert: alertOfRow(row) };
  await q.query(`UPDATE alert_events SET payload = $2 WHERE id = $1`, [e.id, JSON.stringify(event)], options);
}

/** What {@link applySignals} did, per detector and transition (for metrics). */
export type TransitionCounts = Map<string, number>;

const evidenceOf = (a: OpenAlert): string =>
  JSON.stringify({
    window: { from: new Date(a.signal.from).toISOString(), to: new Date(a.signal.to).toISOString() },
    values: a.signal.values,
  });

/**
 * Runs signals through the run state and unresolved alert of their keys (in the caller's transaction) and writes
 * what changed: run states (`alert_signals`, rows of keys no longer in play deleted), alerts opened, updated,
 * escalated and resolved, and an `alert_events` row per transition (the outbox). Keys are locked in a fixed
 * order, so concurrent callers on overlapping keys wait instead of deadlocking.
 */
export async function applySignals(
  q: Queryable,
  rules: AlertRules,
  signals: readonly Signal[],
  options: DbCallOptions = {},
): Promise<TransitionCounts> {
  const counts: TransitionCounts = new Map();
  if (signals.length === 0) return counts;
  const byKey = new Map<string, Signal[]>();
  for (const s of signals) {
    const k = alertKey(s);
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [s]);
    else list.push(s);
  }
  const keys = [...byKey.keys()].sort();
  await lockKeys(q, keys, options);
  const states = new Map<string, RunState>();
  for (const r of (
    await q.query<{
      key: string;
      active_since: Date | null;
      active_until: Date | null;
      quiet_since: Date | null;
      last_at: Date;
    }>(
      `SELECT key, active_since, active_until, quiet_since, last_at FROM alert_signals
       WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
      [keys],
      options,
    )
  ).rows) {
    states.set(r.key, {
      activeSince: r.active_since?.getTime() ?? null,
      activeUntil: r.active_until?.getTime() ?? null,
      quietSince: r.quiet_since?.getTime() ?? null,
      lastAt: r.last_at.getTime(),
    });
  }
  const open = new Map<string, AlertRow>();
  for (const r of (
    await q.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE key = ANY($1::text[]) AND state <> 'resolved' ORDER BY key FOR UPDATE`,
      [keys],
      options,
    )
  ).rows)
    open.set(r.key, r);

  for (const key of keys) {
    const list = byKey.get(key) ?? [];
    const first = list[0];
    if (first === undefined) continue;
    const row = open.get(key);
    const current: OpenAlert | null =
      row === undefined
        ? null
        : {
            severity: row.severity,
            firstSeen: row.first_seen.getTime(),
            lastSeen: row.last_seen.getTime(),
            occurrences: row.occurrences,
            signal: first,
          };
    const before = states.get(key) ?? null;
    const { state, steps } = advance(timingOf(rules, first.detector), before, current, list);
    let id = row?.id ?? null;
    for (const step of steps) {
      // The same window judged again to the same verdict changes nothing.
      if (
        step.transition === 'updated' &&
        row !== undefined &&
        row.id === id &&
        row.last_seen.getTime() === step.alert.lastSeen &&
        row.message === step.alert.signal.message
      )
        continue;
      id = await writeStep(q, key, id, step, options);
      const t = step.transition === 'returned' || step.transition === 'updated' ? null : step.transition;
      if (t !== null) counts.set(`${first.detector}|${t}`, (counts.get(`${first.detector}|${t}`) ?? 0) + 1);
    }
    await q.query(
      `INSERT INTO alert_signals (key, detector, active_since, active_until, quiet_since, last_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (key) DO UPDATE SET active_since = excluded.active_since, active_until = excluded.active_until,
         quiet_since = excluded.quiet_since, last_at = excluded.last_at, updated_at = now()`,
      [key, first.detector, ms(state.activeSince), ms(state.activeUntil), ms(state.quietSince), ms(state.lastAt)],
      options,
    );
  }
  return counts;
}

/**
 * Serialises work on the same keys across workers (two detectors passes, an operator's action): transaction-scoped
 * advisory locks, taken in key order before any row is read, so nobody deadlocks and a key nobody has a row for yet
 * is not opened twice.
 */
async function lockKeys(q: Queryable, keys: readonly string[], options: DbCallOptions): Promise<void> {
  if (keys.length === 0) return;
  await q.query(
    `SELECT count(pg_advisory_xact_lock(hashtext('gridstream.alert:' || current_schema() || ':' || k)))
     FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted`,
    [[...keys].sort()],
    options,
  );
}

const ms = (t: number | null): Date | null => (t === null || !Number.isFinite(t) ? null : new Date(t));

/** Writes one lifecycle step; returns the id of the key's unresolved alert afterwards (null: none). */
async function writeStep(
  q: Queryable,
  key: string,
  id: string | null,
  step: Step,
  options: DbCallOptions,
): Promise<string | null> {
  const a = step.alert;
  const s = a.signal;
  if (step.transition === 'opened' || id === null) {
    const { rows } = await q.query<AlertRow>(
      `INSERT INTO alerts (key, detector, subject, reason, severity, state, zone, group_id, meter_id, message, evidence,
         first_seen, last_seen, occurrences)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING ${ALERT_COLUMNS}`,
      [
        key,
        s.detector,
        s.subject,
        reasonOf(s.detector),
        a.severity,
        s.zone,
        s.group,
        s.meter,
        s.message,
        evidenceOf(a),
        new Date(a.firstSeen),
        new Date(a.lastSeen),
        a.occurrences,
      ],
      options,
    );
    const row = rows[0];
    if (row === undefined) return null;
    await recordEvent(q, row, 'opened', options);
    return row.id;
  }
  if (step.transition === 'resolved') {
    const { rows } = await q.query<AlertRow>(
      `UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = 'detector', updated_at = now()
       WHERE id = $1 RETURNING ${ALERT_COLUMNS}`,
      [id],
      options,
    );
    const row = rows[0];
    if (row !== undefined) await recordEvent(q, row, 'resolved', options);
    return null;
  }
  const { rows } = await q.query<AlertRow>(
    `UPDATE alerts SET severity = $2, message = $3, evidence = $4, last_seen = $5, occurrences = $6, updated_at = now()
     WHERE id = $1 RETURNING ${ALERT_COLUMNS}`,
    [id, a.severity, s.message, evidenceOf(a), new Date(a.lastSeen), a.occurrences],
    options,
  );
  const row = rows[0];
  if (row !== undefined && step.transition === 'escalated') await recordEvent(q, row, 'escalated', options);
  return id;
}

/** Keys of the given detectors that are in play (an active run or an unresolved alert). */
export async function keysInPlay(
  q: Queryable,
  detectors: readonly Detector[],
  options: DbCallOptions = {},
): Promise<Set<string>> {
  const { rows } = await q.query<{ key: string }>(
    `SELECT key FROM alert_signals WHERE detector = ANY($1::text[]) AND active_since IS NOT NULL
     UNION SELECT key FROM alerts WHERE detector = ANY($1::text[]) AND state <> 'resolved'`,
    [detectors],
    options,
  );
  return new Set(rows.map((r) => r.key));
}

/** Who may see which alerts: `null` = not limited in that dimension. */
export interface AlertScope {
  readonly zones: ReadonlySet<string> | null;
  readonly groups: ReadonlySet<string> | null;
}

export interface AlertFilter {
  readonly state?: readonly Alert['state'][] | undefined;
  readonly severity?: readonly Severity[] | undefined;
  readonly zone?: string | undefined;
  readonly group?: string | undefined;
  readonly detector?: readonly Detector[] | undefined;
  readonly limit: number;
}

/**
 * Alerts, newest change first, that the scope may see: a key limited in zones sees alerts of those zones; a key
 * limited in groups sees the meter alerts of those groups and the grid alerts (public market data) of its zones.
 */
export async function listAlerts(
  q: Queryable,
  scope: AlertScope & { readonly personal?: boolean },
  filter: AlertFilter,
  options: DbCallOptions = {},
): Promise<Alert[]> {
  const list = (s: ReadonlySet<string> | null): string[] | null => (s === null ? null : [...s]);
  const { rows } = await q.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
     WHERE ($1::text[] IS NULL OR zone = ANY($1::text[]))
       AND ($2::text[] IS NULL OR (group_id IS NULL AND meter_id IS NULL) OR group_id = ANY($2::text[]))
       AND ($3::text[] IS NULL OR state = ANY($3::text[]))
       AND ($4::text[] IS NULL OR severity = ANY($4::text[]))
       AND ($5::text IS NULL OR zone = $5)
       AND ($6::text IS NULL OR group_id = $6)
       AND ($7::text[] IS NULL OR detector = ANY($7::text[]))
       AND ($9 OR (group_id IS NULL AND meter_id IS NULL))
     ORDER BY updated_at DESC, id DESC LIMIT $8`,
    [
      list(scope.zones),
      list(scope.groups),
      filter.state ?? null,
      filter.severity ?? null,
      filter.zone ?? null,
      filter.group ?? null,
      filter.detector ?? null,
      filter.limit,
      scope.personal ?? true,
    ],
    options,
  );
  return rows.map(alertOfRow);
}

/**
 * Unresolved alerts the scope may see, per state and severity (aggregates: no meter's alert is named, so nothing is
 * audited). `personal: false` leaves meter and group alerts out (anonymous public readers).
 */
export async function countAlerts(
  q: Queryable,
  scope: AlertScope & { readonly personal: boolean },
  options: DbCallOptions = {},
): Promise<{ state: Alert['state']; severity: Severity; count: number }[]> {
  const list = (s: ReadonlySet<string> | null): string[] | null => (s === null ? null : [...s]);
  const { rows } = await q.query<{ state: Alert['state']; severity: Severity; count: number }>(
    `SELECT state, severity, count(*)::int AS count FROM alerts
     WHERE state <> 'resolved'
       AND ($1::text[] IS NULL OR zone = ANY($1::text[]))
       AND ($2::text[] IS NULL OR (group_id IS NULL AND meter_id IS NULL) OR group_id = ANY($2::text[]))
       AND ($3 OR (group_id IS NULL AND meter_id IS NULL))
     GROUP BY state, severity ORDER BY state, severity`,
    [list(scope.zones), list(scope.groups), scope.personal],
    options,
  );
  return rows;
}

/** One alert with its transitions, or undefined when it does not exist or the scope may not see it. */
export async function getAlert(
  q: Queryable,
  scope: AlertScope,
  id: string,
  options: DbCallOptions = {},
): Promise<{ alert: Alert; events: { event_id: string; transition: AlertTransition; at: string }[] } | undefined> {
  const { rows } = await q.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id], options);
  const row = rows[0];
  if (row === undefined || !visible(scope, row)) return undefined;
  const events = await q.query<{ id: string; transition: AlertTransition; at: Date }>(
    `SELECT id::text, transition, at FROM alert_events WHERE alert_id = $1 ORDER BY id`,
    [id],
    options,
  );
  return {
    alert: alertOfRow(row),
    events: events.rows.map((e) => ({ event_id: e.id, transition: e.transition, at: e.at.toISOString() })),
  };
}

function visible(scope: AlertScope, row: Pick<AlertRow, 'zone' | 'group_id' | 'meter_id'>): boolean {
  if (scope.zones !== null && (row.zone === null || !scope.zones.has(row.zone))) return false;
  if (scope.groups === null || (row.group_id === null && row.meter_id === null)) return true;
  return row.group_id !== null && scope.groups.has(row.group_id);
}

/**
 * An operator acknowledges (`open` → `acknowledged`) or resolves an alert. Resolving also forgets the key's run
 * state, so an anomaly that goes on opens a new alert after the detector's minimum duration. Returns the alert
 * after the change; `unchanged` when it already was in that state (or resolved); undefined when not visible.
 */
export async function operatorTransition(
  q: Queryable,
  scope: AlertScope,
  id: string,
  transition: 'acknowledged' | 'resolved',
  by: string,
  options: DbCallOptions = {},
): Promise<{ alert: Alert; changed: boolean } | undefined> {
  // The key's lock first, as the detectors take it, so an operator and a detector pass never deadlock.
  const found = await q.query<{ key: string }>(`SELECT key FROM alerts WHERE id = $1`, [id], options);
  const key = found.rows[0]?.key;
  if (key === undefined) return undefined;
  await lockKeys(q, [key], options);
  const { rows } = await q.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1 FOR UPDATE`,
    [id],
    options,
  );
  const row = rows[0];
  if (row === undefined || !visible(scope, row)) return undefined;
  const allowed = transition === 'acknowledged' ? row.state === 'open' : row.state !== 'resolved';
  if (!allowed) return { alert: alertOfRow(row), changed: false };
  const set =
    transition === 'acknowledged'
      ? `state = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2`
      : `state = 'resolved', resolved_at = now(), resolved_by = $2`;
  const updated = await q.query<AlertRow>(
    `UPDATE alerts SET ${set}, updated_at = now() WHERE id = $1 RETURNING ${ALERT_COLUMNS}`,
    [id, by],
    options,
  );
  const after = updated.rows[0];
  if (after === undefined) return undefined;
  // The run is forgotten (its last judged window is kept: older windows are still not judged again).
  if (transition === 'resolved')
    await q.query(
      `UPDATE alert_signals SET active_since = NULL, active_until = NULL, quiet_since = NULL, updated_at = now()
       WHERE key = $1`,
      [after.key],
      options,
    );
  await recordEvent(q, after, transition, options);
  return { alert: alertOfRow(after), changed: true };
}

/** Unresolved alerts per detector, severity and state (the `gridstream_alerts_open` gauge). */
export async function openAlertCounts(
  q: Queryable,
  options: DbCallOptions = {},
): Promise<{ detector: string; severity: string; state: string; count: number }[]> {
  const { rows } = await q.query<{ detector: string; severity: string; state: string; count: number }>(
    `SELECT detector, severity, state, count(*)::int AS count FROM alerts WHERE state <> 'resolved'
     GROUP BY detector, severity, state`,
    [],
    options,
  );
  return rows;
}

/** Takes up to `limit` unpublished events (oldest first, locked: one publisher per event at a time). */
export async function takeUnpublished(
  q: Queryable,
  limit: number,
  options: DbCallOptions = {},
): Promise<{ id: string; event: AlertEvent }[]> {
  const { rows } = await q.query<{ id: string; payload: AlertEvent }>(
    `SELECT id::text, payload FROM alert_events WHERE NOT published ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
    options,
  );
  return rows.map((r) => ({ id: r.id, event: r.payload }));
}

export async function markPublished(q: Queryable, ids: readonly string[], options: DbCallOptions = {}): Promise<void> {
  if (ids.length > 0)
    await q.query(`UPDATE alert_events SET published = true WHERE id = ANY($1::bigint[])`, [ids], options);
}

/** Events after `afterId` (the live feed of alerts), oldest first. */
export async function eventsAfter(
  q: Queryable,
  afterId: string,
  limit: number,
  options: DbCallOptions = {},
): Promise<AlertEvent[]> {
  const { rows } = await q.query<{ payload: AlertEvent }>(
    `SELECT payload FROM alert_events WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
    options,
  );
  return rows.map((r) => r.payload);
}

export async function lastEventId(q: Queryable, options: DbCallOptions = {}): Promise<string> {
  const { rows } = await q.query<{ id: string | null }>(`SELECT max(id)::text AS id FROM alert_events`, [], options);
  return rows[0]?.id ?? '0';
}
