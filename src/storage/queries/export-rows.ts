import type { DbCallOptions, Queryable } from '../db.ts';
import type { Instant } from './params.ts';
import { isoRange, listOrNull, utc } from './params.ts';

/** Parameters of {@link exportObservations}. */
export interface ExportQuery {
  /** Zones; absent or empty: all. */
  readonly zones?: readonly string[];
  /** Metrics; absent or empty: all. */
  readonly metrics?: readonly string[];
  /** Range of slot starts, [from, to). */
  readonly from: Instant;
  readonly to: Instant;
}

/** One stored observation, as exported. */
export interface ExportRow {
  readonly zone: string;
  readonly metric: string;
  readonly productionType: string;
  readonly counterpartZone: string;
  readonly qualifier: string;
  readonly slotStart: string;
  readonly value: number;
  readonly unit: string;
  readonly source: string;
  readonly documentId: string;
  readonly revision: number;
  /** When the source issued the value (see `GridSeriesChunk.issuedAt`); `null` when unknown. */
  readonly issuedAt: string | null;
  readonly flags: readonly string[];
  readonly firstSeen: string;
  readonly lastUpdated: string;
}

interface SeriesRow {
  zone: string;
  metric: string;
  production_type: string;
  counterpart_zone: string;
  qualifier: string;
}

interface ObservationRow {
  slot_start: Date;
  value: number;
  unit: string;
  source: string;
  document_id: string;
  revision: number;
  issued_at: Date | null;
  flags: string[] | null;
  first_seen: Date;
  last_updated: Date;
}

/**
 * Every stored observation of the zones and metrics in a range, in key order (zone, metric, production type,
 * counterpart, qualifier, slot), read page by page — series by series, then by slot (keyset pagination on the
 * primary key) — so that memory stays flat however much is exported.
 */
export async function* exportObservations(
  db: Queryable,
  q: ExportQuery,
  options: DbCallOptions & {
    readonly pageSize?: number;
    /**
     * Applied to the texts that come from upstream documents (document id, qualifier): removes configured secrets
     * an upstream echoed into a document before this was scrubbed at ingestion.
     */
    readonly scrub?: (text: string) => string;
  } = {},
): AsyncGenerator<ExportRow> {
  const [from, to] = isoRange(q.from, q.to);
  const pageSize = options.pageSize ?? 10_000;
  const scrub = options.scrub ?? ((text: string) => text);
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const { rows: series } = await db.query<SeriesRow>(
    `SELECT zone, metric, production_type, counterpart_zone, qualifier FROM grid_series
     WHERE ($1::text[] IS NULL OR zone = ANY($1::text[])) AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
       AND first_slot < $4 AND last_slot >= $3
     ORDER BY zone, metric, production_type, counterpart_zone, qualifier`,
    [listOrNull(q.zones), listOrNull(q.metrics), from, to],
    o,
  );
  for (const s of series) {
    let after: string | null = null;
    for (;;) {
      const page: { rows: ObservationRow[] } = await db.query<ObservationRow>(
        `SELECT slot_start, value, unit, source, document_id, revision, issued_at, flags, first_seen, last_updated
         FROM grid_observations
         WHERE zone = $1 AND metric = $2 AND production_type = $3 AND counterpart_zone = $4 AND qualifier = $5
           AND slot_start >= $6 AND slot_start < $7 AND ($8::timestamptz IS NULL OR slot_start > $8)
         ORDER BY slot_start LIMIT $9`,
        [s.zone, s.metric, s.production_type, s.counterpart_zone, s.qualifier, from, to, after, pageSize],
        o,
      );
      for (const r of page.rows) {
        yield {
          zone: s.zone,
          metric: s.metric,
          productionType: s.production_type,
          counterpartZone: s.counterpart_zone,
          qualifier: scrub(s.qualifier),
          slotStart: utc(r.slot_start),
          value: r.value,
          unit: r.unit,
          source: r.source,
          documentId: scrub(r.document_id),
          revision: r.revision,
          issuedAt: r.issued_at === null ? null : r.issued_at.toISOString(),
          flags: r.flags ?? [],
          firstSeen: r.first_seen.toISOString(),
          lastUpdated: r.last_updated.toISOString(),
        };
      }
      const last = page.rows.at(-1);
      if (page.rows.length < pageSize || last === undefined) break;
      after = last.slot_start.toISOString();
    }
  }
}
