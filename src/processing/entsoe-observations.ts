import type { EntsoeParseOutcome, EntsoeReject, EntsoeSeries } from '../connectors/entsoe/index.ts';
import type { CooperativeOptions, Steps } from '../connectors/entsoe/index.ts';
import { DEFAULT_MAX_STEPS_PER_DOCUMENT, runCooperatively, runSync, stepStart } from '../connectors/entsoe/index.ts';
import type { EntsoeRequest, GridSeriesChunk, Unit } from '../contracts/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { SLOT_MS, formatUtc, parseResolution } from '../time/index.ts';
import type { ChunkHeader } from './chunks.ts';
import { chunkSteps } from './chunks.ts';
import type { ProcessingReject } from './errors.ts';
import type { MetricRule } from './metric-registry.ts';
import { matchMetric } from './metric-registry.ts';
import { FLAG_BITS, SlotSeries, rankOf } from './slot-series.ts';
import type { ValueKind } from './units.ts';
import { kindOf, unitFromEntsoe } from './units.ts';

export interface ProcessingResult {
  readonly chunks: GridSeriesChunk[];
  readonly rejects: ProcessingReject[];
  readonly stats: {
    /** Source steps (after A03 expansion) in the input. */
    readonly stepsIn: number;
    /** Source steps that became observations. */
    readonly stepsUsed: number;
    /** Source steps of rejected series (dead-lettered); `stepsIn = stepsUsed + stepsRejected`. */
    readonly stepsRejected: number;
    /** Observations (15-minute points) out. */
    readonly observations: number;
    /** Slots where two source values met; the rank rule chose one. */
    readonly overlapsResolved: number;
  };
}

export interface EntsoeProcessingContext {
  readonly reference: ReferenceData;
  /** Id of the source document when the document has no mRID (raw message id, file name). */
  readonly fallbackDocumentId: string;
  /** The request that fetched the document, when known: it says what the response does not (A61 contract type). */
  readonly request?: EntsoeRequest | null;
  /** When the document was fetched (UTC ISO): its issue time when it carries no `createdDateTime`. */
  readonly receivedAt?: string;
  /**
   * Most quarter hours one series (zone, metric, type…) may span, gaps between its Periods included: past it the
   * series is rejected (`processing.too_many_steps`) instead of allocating its grid. @default 2 000 000
   */
  readonly maxSlots?: number;
}

/** Steps between two checkpoints of the cooperative processing. */
const CHECKPOINT_STEPS = 16_384;

interface KeyGroup {
  readonly header: ChunkHeader;
  readonly kind: ValueKind;
  readonly series: EntsoeSeries[];
  readonly resolutions: Set<string>;
}

/**
 * Turns a parsed ENTSO-E response into 15-minute observations: metric from the document/process/business type,
 * zones from the EIC codes, the uniform grid from any resolution, several TimeSeries of the same key merged.
 * Whatever cannot be mapped (unknown area, unmodelled metric, unknown unit) is rejected with its source position
 * while the rest of the document goes through.
 */
export function observationsFromEntsoe(outcome: EntsoeParseOutcome, ctx: EntsoeProcessingContext): ProcessingResult {
  return runSync(entsoeObservationSteps(outcome, ctx));
}

/**
 * {@link observationsFromEntsoe} that gives the event loop a turn every few milliseconds of work and stops when
 * `options.signal` is aborted (rejecting with its reason).
 */
export function observationsFromEntsoeAsync(
  outcome: EntsoeParseOutcome,
  ctx: EntsoeProcessingContext,
  options: CooperativeOptions = {},
): Promise<ProcessingResult> {
  return runCooperatively(entsoeObservationSteps(outcome, ctx), options);
}

/** {@link observationsFromEntsoe} as {@link Steps}. */
export function* entsoeObservationSteps(
  outcome: EntsoeParseOutcome,
  ctx: EntsoeProcessingContext,
): Steps<ProcessingResult> {
  const rejects: ProcessingReject[] = [];
  const empty = (stepsRejected = 0): ProcessingResult => ({
    chunks: [],
    rejects,
    stats: { stepsIn: stepsRejected, stepsUsed: 0, stepsRejected, observations: 0, overlapsResolved: 0 },
  });
  switch (outcome.kind) {
    case 'no_data':
      return empty();
    case 'unsupported':
      rejects.push({
        code: 'processing.unsupported_document',
        message: `${outcome.root} of type ${outcome.documentType ?? '?'} is not modelled by gridstream`,
        position: { documentType: outcome.documentType },
      });
      return empty();
    case 'invalid':
      if (outcome.error.code === 'entsoe.too_many_steps') {
        rejects.push({
          code: 'processing.too_many_steps',
          message: outcome.error.message,
          position: { document: ctx.fallbackDocumentId, ...numbersOf(outcome.error.details) },
        });
        return empty();
      }
      rejects.push({
        code: 'processing.invalid_document',
        message: `${outcome.error.code}: ${outcome.error.message}`,
        position: { ...lineOf(outcome.error.details) },
      });
      return empty();
    case 'series':
      break;
    default:
      return outcome satisfies never;
  }
  for (const r of outcome.rejects) rejects.push(fromParseReject(r));

  let stepsIn = 0;
  let stepsRejected = 0;
  const groups = new Map<string, KeyGroup>();
  for (const series of outcome.series) {
    const steps = series.periods.reduce((n, p) => n + p.positions.length, 0);
    stepsIn += steps;
    const mapped = mapSeries(series, ctx, rejects);
    if (mapped === undefined) {
      stepsRejected += steps;
      continue;
    }
    const id = [mapped.zone, mapped.rule.metric, mapped.productionType, mapped.counterpartZone, mapped.qualifier].join(
      '|',
    );
    let group = groups.get(id);
    if (group === undefined) {
      group = { header: headerOf(series, mapped, ctx), kind: kindOf(mapped.unit), series: [], resolutions: new Set() };
      groups.set(id, group);
    }
    group.series.push(series);
    for (const p of series.periods) group.resolutions.add(p.resolution);
  }

  const chunks: GridSeriesChunk[] = [];
  let overlaps = 0;
  let observations = 0;
  const maxSlots = ctx.maxSlots ?? DEFAULT_MAX_STEPS_PER_DOCUMENT;
  for (const group of groups.values()) {
    const span = spanOf(group);
    if (span.count > maxSlots) {
      const first = group.series[0];
      rejects.push({
        code: 'processing.too_many_steps',
        message: `series ${group.header.zone} ${group.header.metric} spans ${span.count} quarter hours, more than ${maxSlots}`,
        position: {
          documentIndex: first?.document.index ?? null,
          seriesIndex: first?.index ?? null,
          zone: group.header.zone,
          metric: group.header.metric,
        },
      });
      const steps = group.series.reduce((n, s) => n + s.periods.reduce((m, p) => m + p.positions.length, 0), 0);
      stepsRejected += steps;
      continue;
    }
    const slots = yield* standardise(group, span);
    overlaps += slots.overlaps;
    const header = {
      ...group.header,
      attributes: { ...group.header.attributes, sourceResolution: [...group.resolutions].join(',') },
    };
    for (const chunk of yield* chunkSteps(header, slots)) {
      observations += chunk.points.length;
      chunks.push(chunk);
    }
  }
  return {
    chunks,
    rejects,
    stats: { stepsIn, stepsUsed: stepsIn - stepsRejected, stepsRejected, observations, overlapsResolved: overlaps },
  };
}

interface MappedSeries {
  readonly rule: MetricRule;
  readonly zone: string;
  readonly counterpartZone: string;
  readonly productionType: string;
  readonly qualifier: string;
  readonly unit: Unit;
}

function mapSeries(
  series: EntsoeSeries,
  ctx: EntsoeProcessingContext,
  rejects: ProcessingReject[],
): MappedSeries | undefined {
  const where = { documentIndex: series.document.index, seriesIndex: series.index, documentType: series.document.type };
  const match = matchMetric(series);
  if (match === undefined) {
    rejects.push({
      code: 'processing.unmapped_metric',
      message: `no gridstream metric for documentType ${series.document.type ?? '?'} processType ${series.document.processType ?? '-'} businessType ${series.businessType ?? '-'}`,
      position: { ...where, processType: series.document.processType, businessType: series.businessType },
    });
    return undefined;
  }
  const { reference } = ctx;
  for (const eic of [match.zoneEic, match.counterpartEic]) {
    if (eic !== null && !reference.hasEic(eic)) {
      rejects.push({
        code: 'processing.unmapped_area',
        message: `unknown area EIC code "${eic}"`,
        position: { ...where, eic },
      });
      return undefined;
    }
  }
  const unit = unitFromEntsoe(series.unit);
  if (unit === undefined) {
    rejects.push({
      code: 'processing.unknown_unit',
      message: `unknown unit "${series.unit ?? ''}"`,
      position: { ...where, unit: series.unit },
    });
    return undefined;
  }
  let productionType = '';
  if (match.rule.perType && series.psrType !== null) {
    if (!reference.hasProductionType(series.psrType)) {
      rejects.push({
        code: 'processing.unknown_production_type',
        message: `unknown psrType "${series.psrType}"`,
        position: { ...where, psrType: series.psrType },
      });
      return undefined;
    }
    productionType = series.psrType;
  }
  return {
    rule: match.rule,
    zone: reference.area(match.zoneEic).code,
    counterpartZone: match.counterpartEic === null ? '' : reference.area(match.counterpartEic).code,
    productionType,
    qualifier: match.rule.qualifier(series, ctx.request ?? null),
    unit,
  };
}

function headerOf(series: EntsoeSeries, mapped: MappedSeries, ctx: EntsoeProcessingContext): ChunkHeader {
  const doc = series.document;
  const issuedAt = doc.createdAt !== null ? formatUtc(doc.createdAt) : ctx.receivedAt;
  const attributes: Record<string, string> = {};
  if (doc.type !== null) attributes['documentType'] = doc.type;
  if (doc.processType !== null) attributes['processType'] = doc.processType;
  if (series.businessType !== null) attributes['businessType'] = series.businessType;
  if (series.auctionType !== null) attributes['auctionType'] = series.auctionType;
  if (mapped.productionType !== '') {
    const type = ctx.reference.productionType(mapped.productionType);
    attributes['productionTypeName'] = type.name;
    if (type.mode !== null) attributes['carbonMode'] = type.mode;
  }
  return {
    zone: mapped.zone,
    metric: mapped.rule.metric,
    productionType: mapped.productionType,
    counterpartZone: mapped.counterpartZone,
    qualifier: mapped.qualifier,
    unit: mapped.unit,
    source: 'entsoe',
    documentId: doc.mRID ?? ctx.fallbackDocumentId,
    revision: doc.revision ?? 0,
    ...(issuedAt === undefined ? {} : { issuedAt }),
    attributes,
  };
}

/** The dense slot grid that holds every Period of a group. */
function spanOf(group: KeyGroup): { firstSlot: number; count: number } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const s of group.series) {
    for (const p of s.periods) {
      first = Math.min(first, p.start);
      last = Math.max(last, p.end);
    }
  }
  if (first > last) return { firstSlot: 0, count: 0 };
  const firstSlot = Math.floor(first / SLOT_MS) * SLOT_MS;
  return { firstSlot, count: Math.max(0, Math.ceil((last - firstSlot) / SLOT_MS)) };
}

/** All series of one key on one dense slot grid. */
function* standardise(group: KeyGroup, span: { firstSlot: number; count: number }): Steps<SlotSeries> {
  const slots = new SlotSeries(span.firstSlot, span.count);
  let sinceCheckpoint = 0;
  for (const s of group.series) {
    const revision = s.document.revision ?? 0;
    for (const p of s.periods) {
      const resolutionMs = p.stepMs ?? (parseResolution(p.resolution)?.kind === 'calendar' ? 86_400_000 : SLOT_MS);
      const { positions, values, filled } = p;
      const givenRank = rankOf(revision, true, resolutionMs, s.index);
      const filledRank = rankOf(revision, false, resolutionMs, s.index);
      for (let i = 0; i < positions.length; i++) {
        const position = positions[i] ?? 0;
        const isFilled = filled[i] === 1;
        slots.addStep(
          stepStart(p, position),
          stepStart(p, position + 1),
          Number(values[i]),
          group.kind,
          isFilled ? FLAG_BITS.filled : 0,
          isFilled ? filledRank : givenRank,
        );
        if (++sinceCheckpoint === CHECKPOINT_STEPS) {
          sinceCheckpoint = 0;
          yield;
        }
      }
    }
  }
  return slots.finish(group.kind);
}

function fromParseReject(r: EntsoeReject): ProcessingReject {
  return {
    code: `processing.${r.code}`,
    message: r.message,
    position: {
      documentIndex: r.documentIndex,
      seriesIndex: r.seriesIndex,
      periodIndex: r.periodIndex,
      position: r.position,
      line: r.line,
    },
  };
}

function lineOf(details: Readonly<Record<string, unknown>>): Record<string, number> {
  const line = details['line'];
  return typeof line === 'number' ? { line } : {};
}

function numbersOf(details: Readonly<Record<string, unknown>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(details)) if (typeof v === 'number') out[k] = v;
  return out;
}
