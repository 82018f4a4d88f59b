import type { Queryable } from '../db.ts';
import { meterWindowKey } from '../meter-windows.ts';
import { normaliseDecimal } from '../../common/index.ts';
import { DAY_MS, addLocalDays, addLocalMonths, startOfLocalDay, toLocal } from '../../time/index.ts';

/** Resolutions of meter data: PT15M and PT1H on the UTC line, P1D and P1M on the meter's (group's) local calendar. */
export const METER_RESOLUTIONS = ['PT15M', 'PT1H', 'P1D', 'P1M'] as const;
export type MeterResolution = (typeof METER_RESOLUTIONS)[number];

/** The stored interval quantities (register reads become intervals by difference). */
export const METER_QUANTITIES = ['energy_import', 'energy_export'] as const;
export type MeterQuantity = (typeof METER_QUANTITIES)[number];

/**
 * The quality of a value, best first: a window's value gets the worst quality of the slots it sums. A substituted
 * value replaced a faulty one by a validated rule; an estimate is a guess that a reading may still replace; missing
 * means at least one slot of the window has no value (the sum then covers only the slots that have one).
 */
export const METER_QUALITIES = ['measured', 'substituted', 'estimated', 'missing'] as const;
export type MeterQuality = (typeof METER_QUALITIES)[number];

/** The stream job whose watermark makes meter and group windows final. */
export const METER_JOB = 'meters';

/** SQL: the rank of a quality in {@link METER_QUALITIES} (unknown text ranks as missing: fail towards caution). */
const rank = (q: string): string =>
  `CASE ${q} WHEN 'measured' THEN 0 WHEN 'substituted' THEN 1 WHEN 'estimated' THEN 2 ELSE 3 END`;

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** One window of a meter-data answer and the cells (local days of a P1M window; else itself) it is summed from. */
export interface MeterWindow {
  readonly start: number;
  readonly end: number;
  readonly cells: readonly (readonly [number, number])[];
}

/** Why {@link meterWindows} refused a range. */
export interface WindowRefusal {
  readonly param: 'from' | 'to' | 'resolution';
  readonly message: string;
  /** The range is valid but holds more windows than allowed (not a malformed range). */
  readonly tooLarge: boolean;
}

const FIXED_MS: Readonly<Record<'PT15M' | 'PT1H', number>> = { PT15M: 900_000, PT1H: 3_600_000 };

/**
 * The windows of [from, to) at `resolution`: PT15M and PT1H are UTC-aligned; P1D and P1M follow `timeZone`'s
 * calendar (a Berlin day in October lasts 25 hours). `from` and `to` must fall on window boundaries — a window
 * partly outside the range would be a sum of part of its slots. At most `maxWindows` windows.
 */
export function meterWindows(
  from: number,
  to: number,
  resolution: MeterResolution,
  timeZone: string,
  maxWindows: number,
): { readonly windows: MeterWindow[] } | { readonly refused: WindowRefusal } {
  const refuse = (param: 'from' | 'to', message: string): { readonly refused: WindowRefusal } => ({
    refused: { param, message, tooLarge: false },
  });
  if (to <= from) return refuse('to', 'to must be after from');
  const windows: MeterWindow[] = [];
  if (resolution === 'PT15M' || resolution === 'PT1H') {
    const ms = FIXED_MS[resolution];
    if (from % ms !== 0) return refuse('from', `from must be a multiple of ${resolution} (UTC)`);
    if (to % ms !== 0) return refuse('to', `to must be a multiple of ${resolution} (UTC)`);
    if ((to - from) / ms > maxWindows) return { refused: tooMany(maxWindows) };
    for (let t = from; t < to; t += ms) windows.push({ start: t, end: t + ms, cells: [[t, t + ms]] });
    return { windows };
  }
  const boundary = (t: number): boolean =>
    startOfLocalDay(t, timeZone) === t && (resolution === 'P1D' || new Date(toLocal(t, timeZone)).getUTCDate() === 1);
  const what = resolution === 'P1D' ? `a local midnight in ${timeZone}` : `the first of a month, 00:00 in ${timeZone}`;
  if (!boundary(from)) return refuse('from', `from must be ${what}`);
  if (!boundary(to)) return refuse('to', `to must be ${what}`);
  for (let start = from, k = 1; start < to; k++) {
    if (windows.length >= maxWindows) return { refused: tooMany(maxWindows) };
    const end = resolution === 'P1D' ? addLocalDays(from, timeZone, k) : addLocalMonths(from, timeZone, k);
    const cells: [number, number][] = [];
    for (let d = start; d < end;) {
      const next = addLocalDays(d, timeZone, 1);
      cells.push([d, next]);
      d = next;
    }
    windows.push({ start, end, cells });
    start = end;
  }
  return { windows };
}

function tooMany(maxWindows: number): WindowRefusal {
  return { param: 'to', message: `the range holds more than ${maxWindows} windows at this resolution`, tooLarge: true };
}

/** One window's value: the exact sum (null: no slot has a value) and the worst quality of its slots. */
export interface MeterPoint {
  /** Window start, UTC (`2026-10-24T22:00:00Z`). */
  readonly ts: string;
  readonly end: number;
  readonly value: string | null;
  readonly quality: MeterQuality;
}

/** The step (ms) of `windows` when they are a grid of single cells (PT15M, PT1H, P1D without a clock change). */
function regularStep(windows: readonly MeterWindow[]): number | undefined {
  const first = windows[0];
  if (first === undefined) return undefined;
  const step = first.end - first.start;
  const regular = windows.every(
    (w, i) => w.cells.length === 1 && w.start === first.start + i * step && w.end === w.start + step,
  );
  return regular && step % 1000 === 0 ? step : undefined;
}

function cellArrays(windows: readonly MeterWindow[]): [string[], string[], number[]] {
  const starts: string[] = [];
  const ends: string[] = [];
  const index: number[] = [];
  windows.forEach((w, i) => {
    for (const [s, e] of w.cells) {
      starts.push(new Date(s).toISOString());
      ends.push(new Date(e).toISOString());
      index.push(i);
    }
  });
  return [starts, ends, index];
}

function utcText(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * {@link utcText} of many instants in time order: the date part is formatted once per UTC day (a month of quarters
 * is 2 880 instants, and `toISOString` was a millisecond of the answer).
 */
function utcTexter(): (ms: number) => string {
  let day = Number.NaN;
  let date = '';
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return (ms) => {
    if (ms % 1000 !== 0) return utcText(ms);
    const start = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
    if (start !== day) {
      day = start;
      const iso = new Date(start).toISOString();
      date = iso.slice(0, iso.indexOf('T') + 1);
    }
    const s = (ms - start) / 1000;
    return `${date}${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}Z`;
  };
}

function qualityOf(worst: number | null): MeterQuality {
  return METER_QUALITIES[worst ?? 3] ?? 'missing';
}

/** What {@link meterReadings} reads: one meter's quantity at one resolution, in contiguous windows. */
export interface MeterReadingsQuery {
  readonly meterId: string;
  readonly quantity: MeterQuantity;
  readonly resolution: MeterResolution;
  readonly windows: readonly MeterWindow[];
}

/**
 * The values a read sums, as CTEs `cd` (current day rows), `d` (their sums, for day cells), `dv` (their slots, for
 * finer windows), `g` (the spans between them) and `v` (the values: meter_intervals in the spans, and day-row
 * slots). Parameters: $1 meter, $2 quantity, $3 $4 the range, $5 whether cells are local days; `key` names the
 * parameter holding the meters job's key of the meter's day windows.
 */
function sourcesSql(key: string): string {
  return `cd AS (
       -- Day rows the engine emitted for days touching the range and has not marked to restate (a change since
       -- is pending): they hold their days' values, so those days are not read from meter_intervals at all.
       SELECT md.day_start, md.day_end, md.sum, md.count, md.expected, md."values", md.quality, md.interval_s
       FROM meter_days md
       WHERE md.meter_id = $1 AND md.quantity = $2 AND md.day_end > $3::timestamptz AND md.day_start < $4::timestamptz
         AND NOT EXISTS (SELECT 1 FROM stream_pending_windows p WHERE p.job = '${METER_JOB}'
                         AND p.kind = 'meter_day' AND p.key = ${key} AND p.window_start = md.day_start)
     ), d AS (
       -- Day cells (P1D, the days of P1M) with a day row take its sum.
       SELECT cd.day_start, cd.day_end, cd.sum,
         CASE WHEN cd.count < cd.expected THEN 3
              ELSE (SELECT max(${rank('u.q')}) FROM unnest(cd.quality) AS u(q)) END AS worst
       FROM cd WHERE $5::boolean
     ), dv AS (
       -- Finer windows read a day row's slots.
       SELECT cd.day_start + (s.n - 1) * make_interval(secs => cd.interval_s) AS ts, s.v AS value, s.q AS quality,
         cd.interval_s
       FROM cd CROSS JOIN LATERAL unnest(cd."values", cd.quality) WITH ORDINALITY AS s(v, q, n)
       WHERE NOT $5::boolean AND s.v IS NOT NULL
     ), g AS (
       -- The spans between day rows (and before the first and after the last): read from meter_intervals.
       SELECT coalesce(lag(day_end) OVER (ORDER BY day_start), $3::timestamptz) AS gs, day_start AS ge FROM cd
       UNION ALL
       SELECT coalesce(max(day_end), $3::timestamptz), $4::timestamptz FROM cd
     ), v AS (
       -- One index scan per span, pruned to its partitions (OFFSET 0 keeps the planner from turning it into a scan of
       -- the whole range, filtered).
       SELECT x.ts, x.value, x.quality, x.interval_s
       FROM g CROSS JOIN LATERAL (
         SELECT i.ts, i.value, i.quality, i.interval_s FROM meter_intervals i
         WHERE i.meter_id = $1 AND i.quantity = $2 AND i.ts >= g.gs AND i.ts < g.ge
           AND i.ts >= $3::timestamptz AND i.ts < $4::timestamptz
         OFFSET 0
       ) x
       WHERE g.gs < g.ge
       UNION ALL
       SELECT ts, value, quality, interval_s FROM dv WHERE ts >= $3::timestamptz AND ts < $4::timestamptz`;
}

/**
 * The statement of {@link meterReadings}. Parameters: $1 meter, $2 quantity, $3 $4 the range, $5 whether cells are
 * local days, and the cells: $6 the step in seconds of a grid ({@link regularStep}), or else $7 $8 $9 the cells'
 * starts, ends and window indexes (in time order, contiguous); $10 the meters job's key of the meter's day windows.
 * `before` opens its WITH list (the audit insert of
 * {@link readMeterAudited}); `columns` are selected after `wi, value, worst`.
 *
 * A stored value finds its cell by arithmetic on a grid, else by width_bucket over the cell starts, and the values
 * are summed per cell in one hash aggregate; cells then meet their sums and day rows by equality (a range join of
 * a month's 2 880 quarters against as many values was a 300 ms nested loop). One text for every read, prepared
 * (DbCallOptions.name): planning it for the partitions of meter_intervals cost more than running it; the plan prunes
 * the partitions outside the range when it starts.
 */
function readingsSql(before = '', columns = ''): string {
  return `WITH ${before} c AS (
       -- One of the two is empty: the grid's cells when $6 is null, the listed cells when $7 is.
       SELECT $3::timestamptz + (n - 1) * make_interval(secs => $6) AS cs,
         $3::timestamptz + n * make_interval(secs => $6) AS ce, (n - 1)::int AS wi, n::int AS n
       FROM generate_series(1, coalesce((extract(epoch FROM $4::timestamptz - $3::timestamptz) / $6)::int, 0)) AS n
       UNION ALL
       SELECT cs, ce, wi, n::int AS n
       FROM unnest($7::timestamptz[], $8::timestamptz[], $9::int[]) WITH ORDINALITY AS c(cs, ce, wi, n)
     ), ${sourcesSql('$10')}
     ), s AS (
       SELECT b.n, sum(b.value) AS sum, sum(b.interval_s) AS seconds, max(${rank('b.quality')}) AS worst
       FROM (
         SELECT v.*, coalesce(1 + floor(extract(epoch FROM v.ts - $3::timestamptz) / $6)::int,
                              width_bucket(v.ts, $7::timestamptz[])) AS n
         FROM v
       ) b
       -- A value past the last listed cell's end has that cell's bucket; a value off the grid has no cell.
       WHERE b.ts < coalesce(($8::timestamptz[])[b.n], $4::timestamptz)
       GROUP BY b.n
     ), cells AS (
       SELECT c.wi,
         CASE WHEN d.day_start IS NULL THEN s.sum ELSE d.sum END AS sum,
         CASE WHEN d.day_start IS NOT NULL THEN d.worst
              WHEN coalesce(s.seconds, 0) < extract(epoch FROM c.ce - c.cs) THEN 3
              ELSE s.worst END AS worst
       FROM c LEFT JOIN d ON d.day_start = c.cs AND d.day_end = c.ce LEFT JOIN s ON s.n = c.n
     )
     SELECT wi, sum(sum)::text AS value, max(coalesce(worst, 3))::int AS worst ${columns}
     FROM cells GROUP BY wi ORDER BY wi`;
}

/**
 * The values of a read in time order, unsummed (see {@link slotPoints}), as one text `slots` — `seconds,interval_s,
 * rank,value` joined by `;` (a month of quarters is 2 880 values: one text is parsed several times faster than as
 * many rows). $1 meter, $2 quantity, $3 $4 the range, $5 false, $6 the day windows' key. `before` and `columns` as
 * for {@link readingsSql}; one row even without values.
 */
function slotsSql(before = '', columns = ''): string {
  return `WITH ${before} ${sourcesSql('$6')}
     )
     SELECT string_agg(concat_ws(',', extract(epoch FROM ts)::bigint, interval_s, ${rank('quality')}, value::text), ';'
       ORDER BY ts) AS slots ${columns}
     FROM v`;
}

interface SlotRow {
  readonly t: number;
  readonly value: string;
  readonly worst: number;
  readonly interval_s: number;
}

/** The values of {@link slotsSql}'s text. */
function parseSlots(text: string | null): SlotRow[] {
  if (text === null || text === '') return [];
  return text.split(';').map((slot) => {
    const [seconds, interval, worst, value] = slot.split(',');
    return { t: Number(seconds) * 1000, interval_s: Number(interval), worst: Number(worst), value: value ?? '' };
  });
}

/**
 * The points of a grid of windows as long as the meter's interval, straight from its values (one per window, no
 * sum); `undefined` when a value does not fill exactly one window (another interval, off the grid, two in one): then
 * the summing statement answers.
 */
function slotPoints(query: MeterReadingsQuery, step: number, rows: readonly SlotRow[]): MeterPoint[] | undefined {
  const first = query.windows[0];
  if (first === undefined) return [];
  const byWindow: (SlotRow | undefined)[] = new Array<SlotRow | undefined>(query.windows.length);
  for (const r of rows) {
    const k = (r.t - first.start) / step;
    if (r.interval_s * 1000 !== step || !Number.isInteger(k) || byWindow[k] !== undefined) return undefined;
    byWindow[k] = r;
  }
  const text = utcTexter();
  return query.windows.map((w, i) => {
    const r = byWindow[i];
    return {
      ts: text(w.start),
      end: w.end,
      value: r === undefined ? null : (normaliseDecimal(r.value) ?? r.value),
      quality: qualityOf(r === undefined ? null : r.worst),
    };
  });
}

/** A grid of PT15M or PT1H windows: read as slots first ({@link slotPoints}). */
function slotStep(query: MeterReadingsQuery): number | undefined {
  return query.resolution === 'PT15M' || query.resolution === 'PT1H' ? regularStep(query.windows) : undefined;
}

/** The parameters of {@link slotsSql}. */
function slotParams(query: MeterReadingsQuery, from: number, to: number): unknown[] {
  return [
    query.meterId,
    query.quantity,
    new Date(from).toISOString(),
    new Date(to).toISOString(),
    false,
    meterWindowKey(query.meterId, query.quantity),
  ];
}

/** The parameters of {@link readingsSql} for `query`, or `undefined` when it has no window. */
function readingsParams(query: MeterReadingsQuery): unknown[] | undefined {
  const first = query.windows[0];
  const last = query.windows.at(-1);
  if (first === undefined || last === undefined) return undefined;
  const step = regularStep(query.windows);
  return [
    query.meterId,
    query.quantity,
    new Date(first.start).toISOString(),
    new Date(last.end).toISOString(),
    query.resolution === 'P1D' || query.resolution === 'P1M',
    ...(step === undefined ? [null, ...cellArrays(query.windows)] : [step / 1000, null, null, null]),
    meterWindowKey(query.meterId, query.quantity),
  ];
}

interface ReadingRow {
  readonly wi: number;
  readonly value: string | null;
  readonly worst: number | null;
}

function pointsOf(query: MeterReadingsQuery, rows: readonly ReadingRow[]): MeterPoint[] {
  const text = utcTexter();
  return rows.map((r) => {
    const w = query.windows[r.wi];
    if (w === undefined) throw new Error(`meter readings: no window ${r.wi}`);
    return {
      ts: text(w.start),
      end: w.end,
      value: r.value === null ? null : (normaliseDecimal(r.value) ?? r.value),
      quality: qualityOf(r.worst),
    };
  });
}

/**
 * A meter's values per window, summed in SQL numeric (exact). A day the engine compacted into a meter_days row (and
 * did not mark to restate since) is read from that row: a day cell (P1D, the days of P1M) takes its sum, a finer
 * window its slots — a month of final days is 30 rows, not 2 880. The other days are read from meter_intervals.
 * (Days whose raw intervals a retention dropped are always compacted, so they read the same way.) A cell whose
 * values do not cover all of it (or whose day row lists a missing slot) is `missing`; a window with no value at
 * all has value null.
 */
export async function meterReadings(q: Queryable, query: MeterReadingsQuery): Promise<MeterPoint[]> {
  const first = query.windows[0];
  const last = query.windows.at(-1);
  const step = slotStep(query);
  if (first !== undefined && last !== undefined && step !== undefined) {
    const { rows } = await q.query<{ slots: string | null }>(slotsSql(), slotParams(query, first.start, last.end), {
      name: 'meter_slots',
    });
    const points = slotPoints(query, step, parseSlots(rows[0]?.slots ?? null));
    if (points !== undefined) return points;
  }
  return summedReadings(q, query);
}

/** {@link meterReadings} by the summing statement (any resolution and interval). */
async function summedReadings(q: Queryable, query: MeterReadingsQuery): Promise<MeterPoint[]> {
  const params = readingsParams(query);
  if (params === undefined) return [];
  const { rows } = await q.query<ReadingRow>(readingsSql(), params, { name: 'meter_readings' });
  return pointsOf(query, rows);
}

/** One window of a group's load: the sum of its meters' interval values and how many values it sums. */
export interface GroupLoadPoint extends MeterPoint {
  readonly count: number;
}

/**
 * A group's sums per window: the emitted group_aggregates row of the window when there is one, otherwise summed
 * now from meter_intervals of the group (provisional). The quality is the worst of the group's stored intervals
 * in the window (`missing`: none). The group does not know how many meters it should have per window, so a meter
 * that sent nothing does not make a window `missing`: `count` says how many values were summed.
 */
export async function groupLoad(
  q: Queryable,
  query: {
    readonly group: string;
    readonly quantity: MeterQuantity;
    readonly resolution: MeterResolution;
    readonly windows: readonly MeterWindow[];
  },
): Promise<GroupLoadPoint[]> {
  const starts = query.windows.map((w) => new Date(w.start).toISOString());
  const ends = query.windows.map((w) => new Date(w.end).toISOString());
  const { rows } = await q.query<{ wi: number; value: string | null; count: number; worst: number | null }>(
    `WITH w AS (
       SELECT ws, we, (n - 1)::int AS wi FROM unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS w(ws, we, n)
     ), i AS (
       SELECT w.wi, w.ws, sum(x.value) AS sum, count(x.value)::bigint AS count, max(${rank('x.quality')}) AS worst
       FROM w LEFT JOIN meter_intervals x ON x.group_id = $1 AND x.quantity = $2 AND x.ts >= w.ws AND x.ts < w.we
       GROUP BY w.wi, w.ws
     )
     SELECT i.wi, coalesce(a.sum, i.sum)::text AS value, coalesce(a.count, i.count)::int AS count,
       CASE WHEN coalesce(a.count, i.count) = 0 THEN 3 ELSE coalesce(i.worst, 0) END::int AS worst
     FROM i LEFT JOIN group_aggregates a
       ON a.group_id = $1 AND a.quantity = $2 AND a.resolution = $5 AND a.window_start = i.ws
     ORDER BY i.wi`,
    [query.group, query.quantity, starts, ends, query.resolution],
  );
  return rows.map((r) => {
    const w = query.windows[r.wi];
    if (w === undefined) throw new Error(`group load: no window ${r.wi}`);
    return {
      ts: utcText(w.start),
      end: w.end,
      value: r.value === null || r.count === 0 ? null : (normaliseDecimal(r.value) ?? r.value),
      quality: qualityOf(r.worst),
      count: r.count,
    };
  });
}

/**
 * The combined event-time watermark of the meters job (ms), or `null` when the job has none yet: a window is
 * final iff its end is at or before it.
 */
export async function meterWatermark(q: Queryable): Promise<number | null> {
  const { rows } = await q.query<{ watermark: Date | null }>('SELECT watermark FROM stream_jobs WHERE job = $1', [
    METER_JOB,
  ]);
  return rows[0]?.watermark?.getTime() ?? null;
}

/** One read of one meter's data, for the audit log (never a key's secret). */
export interface MeterReadAudit {
  /** `key:<id>` or `cli:<os user>`. */
  readonly principal: string;
  readonly path: 'api' | 'cli' | 'export';
  readonly meterId: string;
  readonly from: number | null;
  readonly to: number | null;
  /** What was read (resolution, quantity). */
  readonly detail: string | null;
}

/** The longest range and the most windows one read of a meter answers (the API and the CLI alike). */
export const METER_READ_LIMITS = { days: 400, points: 100_000 } as const;

/** A window of {@link readMeterAudited}: the point and whether the job's watermark has passed its end. */
export interface FinalMeterPoint extends MeterPoint {
  readonly final: boolean;
}

/**
 * The one way one meter's data is read (API, CLI): its windows from {@link meterReadings}, the job's watermark,
 * and the audit row, in one statement (one round trip, one commit): a read whose audit row cannot be written
 * fails as a whole and is not answered.
 */
export async function readMeterAudited(
  q: Queryable,
  query: MeterReadingsQuery,
  audit: Omit<MeterReadAudit, 'meterId' | 'detail'>,
): Promise<{ readonly points: FinalMeterPoint[]; readonly watermark: number | null }> {
  const entry: MeterReadAudit = { ...audit, meterId: query.meterId, detail: `${query.quantity} ${query.resolution}` };
  const first = query.windows[0];
  const last = query.windows.at(-1);
  const params = readingsParams(query);
  if (first === undefined || last === undefined || params === undefined) {
    await recordMeterRead(q, entry);
    return { points: [], watermark: await meterWatermark(q) };
  }
  const tail = [entry.principal, entry.path, ...auditTail(entry), METER_JOB];
  let points: MeterPoint[] | undefined;
  let watermark: number | null;
  const step = slotStep(query);
  if (step !== undefined) {
    const slots = slotParams(query, first.start, last.end);
    const { rows } = await q.query<{ slots: string | null; watermark: number | null }>(
      slotsSql(auditCte(slots.length), watermarkColumn(slots.length + 6)),
      [...slots, ...tail],
      { name: 'meter_slots_audited' },
    );
    watermark = rows[0]?.watermark ?? null;
    // Audited already: a grid the values do not fill one by one is summed by the other statement.
    points = slotPoints(query, step, parseSlots(rows[0]?.slots ?? null)) ?? (await summedReadings(q, query));
  } else {
    const { rows } = await q.query<ReadingRow & { watermark: number | null }>(
      readingsSql(auditCte(params.length), watermarkColumn(params.length + 6)),
      [...params, ...tail],
      { name: 'meter_read_audited' },
    );
    watermark = rows[0]?.watermark ?? null;
    points = pointsOf(query, rows);
  }
  return { points: points.map((p) => ({ ...p, final: watermark !== null && p.end <= watermark })), watermark };
}

/** The audit insert opening a read's WITH list; its parameters follow the read's `n`. */
function auditCte(n: number): string {
  return `audit AS (
       INSERT INTO meter_read_audit (principal, path, meter_id, from_ts, to_ts, detail)
       VALUES ($${n + 1}, $${n + 2}, $1, $${n + 3}::timestamptz, $${n + 4}::timestamptz, $${n + 5})
     ),`;
}

/** The watermark as a number on every row (cheaper to read than as many timestamps); `$n` is the job. */
function watermarkColumn(n: number): string {
  return `, (SELECT floor(extract(epoch FROM watermark) * 1000)::float8 FROM stream_jobs WHERE job = $${n}) AS watermark`;
}

/** Writes one row of meter_read_audit. */
export async function recordMeterRead(q: Queryable, entry: MeterReadAudit): Promise<void> {
  await q.query(
    `INSERT INTO meter_read_audit (principal, path, meter_id, from_ts, to_ts, detail)
     VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6)`,
    [entry.principal, entry.path, entry.meterId, ...auditTail(entry)],
  );
}

/** from_ts, to_ts and detail of an audit row. */
function auditTail(entry: MeterReadAudit): unknown[] {
  return [
    entry.from === null ? null : new Date(entry.from).toISOString(),
    entry.to === null ? null : new Date(entry.to).toISOString(),
    entry.detail,
  ];
}

/** A stored audit row. */
export interface MeterReadAuditRow {
  readonly id: number;
  readonly at: string;
  readonly principal: string;
  readonly path: string;
  readonly meter_id: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly detail: string | null;
}

/** Audit rows, newest first, filtered by meter, principal and time of the read ([from, to)). */
export async function listMeterReads(
  q: Queryable,
  filter: {
    readonly meterId?: string;
    readonly principal?: string;
    readonly from?: number;
    readonly to?: number;
    readonly limit: number;
  },
): Promise<MeterReadAuditRow[]> {
  const { rows } = await q.query<Omit<MeterReadAuditRow, 'id'> & { id: string | number }>(
    `SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, principal, path, meter_id,
       ${ISO('from_ts')} AS "from", ${ISO('to_ts')} AS "to", detail
     FROM meter_read_audit
     WHERE ($1::text IS NULL OR meter_id = $1) AND ($2::text IS NULL OR principal = $2)
       AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
     ORDER BY at DESC, id DESC LIMIT $5`,
    [
      filter.meterId ?? null,
      filter.principal ?? null,
      filter.from === undefined ? null : new Date(filter.from).toISOString(),
      filter.to === undefined ? null : new Date(filter.to).toISOString(),
      filter.limit,
    ],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
