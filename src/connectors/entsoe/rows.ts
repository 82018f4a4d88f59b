import { csvField } from '../../common/index.ts';
import { formatUtc } from '../../time/index.ts';
import type { EntsoePeriod, EntsoeSeries, EntsoeStep } from './document.ts';
import { periodSteps } from './document.ts';

/** The CSV header of `gridstream entsoe parse`. */
export const ENTSOE_CSV_HEADER =
  'start_utc,end_utc,series_index,in_domain,out_domain,psr_type,business_type,resolution,value,unit';

/** One output row per (TimeSeries, time step), in document order. */
export function* entsoeSteps(series: readonly EntsoeSeries[]): Generator<[EntsoeSeries, EntsoePeriod, EntsoeStep]> {
  for (const s of series) for (const p of s.periods) for (const step of periodSteps(p)) yield [s, p, step];
}

export function entsoeCsvRow(s: EntsoeSeries, p: EntsoePeriod, step: EntsoeStep): string {
  return [
    formatUtc(step.start),
    formatUtc(step.end),
    String(s.index),
    csvField(s.inDomain),
    csvField(s.outDomain),
    csvField(s.psrType),
    csvField(s.businessType),
    p.resolution,
    step.value,
    csvField(s.unit),
  ].join(',');
}

/** Every field of the canonical record, flattened to one JSON object per step. */
export function entsoeJsonRow(s: EntsoeSeries, p: EntsoePeriod, step: EntsoeStep): Record<string, unknown> {
  const d = s.document;
  return {
    start_utc: formatUtc(step.start),
    end_utc: formatUtc(step.end),
    series_index: s.index,
    document_index: d.index,
    document_root: d.root,
    document_namespace: d.namespace,
    document_mrid: d.mRID,
    document_revision: d.revision,
    document_type: d.type,
    process_type: d.processType,
    document_created_utc: d.createdAt === null ? null : formatUtc(d.createdAt),
    doc_status: d.docStatus,
    series_mrid: s.mRID,
    business_type: s.businessType,
    object_aggregation: s.objectAggregation,
    in_domain: s.inDomain,
    out_domain: s.outDomain,
    area_domain: s.areaDomain,
    psr_type: s.psrType,
    contract_type: s.contractType,
    auction_type: s.auctionType,
    classification_sequence: s.classificationSequence,
    curve_type: s.curveType,
    measure: s.measure,
    unit: s.unit,
    time_zone: s.timeZone,
    period_index: p.index,
    period_start_utc: formatUtc(p.start),
    period_end_utc: formatUtc(p.end),
    resolution: p.resolution,
    position: step.position,
    value: step.value,
    filled: step.filled,
  };
}
