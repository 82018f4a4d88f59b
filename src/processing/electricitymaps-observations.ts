import type { ElectricityMapsOutcome } from '../connectors/electricitymaps/index.ts';
import type { GridSeriesChunk, Metric, Unit } from '../contracts/index.ts';
import type { Area, ReferenceData } from '../reference/index.ts';
import { HOUR_MS, SLOT_MS } from '../time/index.ts';
import type { ChunkHeader } from './chunks.ts';
import { chunksOf } from './chunks.ts';
import type { ProcessingReject } from './errors.ts';
import type { ProcessingResult } from './entsoe-observations.ts';
import { FLAG_BITS, SlotSeries, rankOf } from './slot-series.ts';

export interface ElectricityMapsContext {
  readonly reference: ReferenceData;
  readonly documentId: string;
  /** When the response was fetched (UTC ISO): the issue time of what it says. */
  readonly issuedAt?: string;
  /** Most quarter hours one series may span (gaps included); past it the series is rejected. @default 2 000 000 */
  readonly maxSlots?: number;
}

/** Hours outside this range are not Electricity Maps data but a damaged answer (`processing.invalid_interval`). */
const EARLIEST_HOUR = Date.UTC(2000, 0, 1);
const LATEST_HOUR = Date.UTC(2100, 0, 1);
/** A production mode as Electricity Maps names them (`nuclear`, `hydro discharge`), before spaces become `_`. */
const MODE = /^[a-z][a-z_ ]*$/;

interface Draft {
  readonly header: ChunkHeader;
  readonly values: { readonly t: number; readonly v: number; readonly estimated: boolean }[];
}

/**
 * Turns an Electricity Maps response into observations with source `electricitymaps`, so the two sources can be
 * compared zone by zone: production per mode (`generation_actual`, production type = mode slug), imports and
 * exports per neighbour (`flow_physical`), the published renewable and fossil-free shares, and the published
 * (consumption-based, flow-traced) carbon intensity. Their `datetime` is the start of an hourly value; hours are
 * replicated over their four quarters. Qualifiers carry `source=electricitymaps` so these never share a key with
 * gridstream's own values.
 */
export function observationsFromElectricityMaps(
  outcome: ElectricityMapsOutcome,
  ctx: ElectricityMapsContext,
): ProcessingResult {
  const rejects: ProcessingReject[] = [];
  const done = (chunks: GridSeriesChunk[], stepsIn: number, stepsRejected: number): ProcessingResult => ({
    chunks,
    rejects,
    stats: {
      stepsIn,
      stepsUsed: stepsIn - stepsRejected,
      stepsRejected,
      observations: chunks.reduce((n, c) => n + c.points.length, 0),
      overlapsResolved: 0,
    },
  });
  if (outcome.kind === 'invalid') {
    rejects.push({ code: 'processing.invalid_document', message: outcome.message, position: {} });
    return done([], 0, 0);
  }
  if (outcome.kind === 'no_data') return done([], 0, 0);
  if (outcome.kind === 'unsupported') {
    rejects.push({
      code: 'processing.unsupported_document',
      message: `${outcome.what} holds no observations`,
      position: {},
    });
    return done([], 0, 0);
  }
  const area = ctx.reference.areaOfElectricityMapsZone(outcome.zone);
  const stepsIn = countSteps(outcome);
  if (area === undefined) {
    rejects.push({
      code: 'processing.unmapped_area',
      message: `unknown Electricity Maps zone "${outcome.zone}"`,
      position: { zone: outcome.zone },
    });
    return done([], stepsIn, stepsIn);
  }
  const drafts = new Map<string, Draft>();
  let stepsRejected = 0;
  const add = (
    metric: Metric,
    unit: Unit,
    t: number,
    v: number | null | undefined,
    estimated: boolean,
    extra: { productionType?: string; zone?: string; counterpartZone?: string; factors?: string } = {},
  ): void => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    const qualifier = [extra.factors === undefined ? '' : `factors=${extra.factors}`, 'source=electricitymaps']
      .filter((q) => q !== '')
      .join(';');
    const header: ChunkHeader = {
      zone: extra.zone ?? area.code,
      metric,
      productionType: extra.productionType ?? '',
      counterpartZone: extra.counterpartZone ?? '',
      qualifier,
      unit,
      source: 'electricitymaps',
      documentId: ctx.documentId,
      revision: 0,
      ...(ctx.issuedAt === undefined ? {} : { issuedAt: ctx.issuedAt }),
      attributes: { sourceResolution: 'PT1H', electricityMapsZone: outcome.zone },
    };
    const id = [header.zone, metric, header.productionType, header.counterpartZone, qualifier].join('|');
    let draft = drafts.get(id);
    if (draft === undefined) {
      draft = { header, values: [] };
      drafts.set(id, draft);
    }
    draft.values.push({ t, v, estimated });
  };
  const neighbour = (key: string, hour: string): Area | undefined => {
    const found = ctx.reference.areaOfElectricityMapsZone(key);
    if (found === undefined) {
      stepsRejected++;
      rejects.push({
        code: 'processing.unmapped_area',
        message: `unknown Electricity Maps zone "${key}"`,
        position: { zone: key, datetime: hour },
      });
    }
    return found;
  };

  /** The hour of an entry, or `undefined` (rejected with its values) when it is not a plausible hour. */
  const hourOf = (datetime: string, values: number): number | undefined => {
    const t = Date.parse(datetime);
    if (Number.isFinite(t) && t >= EARLIEST_HOUR && t < LATEST_HOUR && t % SLOT_MS === 0) return t;
    stepsRejected += values;
    rejects.push({
      code: 'processing.invalid_interval',
      message: `datetime ${JSON.stringify(datetime.slice(0, 40))} is not a quarter hour between 2000 and 2100`,
      position: { zone: outcome.zone, datetime: datetime.slice(0, 40) },
    });
    return undefined;
  };

  if (outcome.kind === 'power_breakdown') {
    for (const e of outcome.entries) {
      const t = hourOf(e.datetime, entrySteps(e));
      if (t === undefined) continue;
      const est = e.isEstimated === true;
      for (const [mode, mw] of Object.entries(e.powerProductionBreakdown)) {
        if (!MODE.test(mode)) {
          if (mw !== null) stepsRejected++;
          rejects.push({
            code: 'processing.unknown_production_type',
            message: `unknown Electricity Maps production mode ${JSON.stringify(mode.slice(0, 40))}`,
            position: { zone: outcome.zone, datetime: e.datetime, mode: mode.slice(0, 40) },
          });
          continue;
        }
        add('generation_actual', 'MW', t, mw, est, { productionType: mode.replaceAll(' ', '_') });
      }
      for (const [key, mw] of Object.entries(e.powerImportBreakdown ?? {})) {
        const from = neighbour(key, e.datetime);
        if (from !== undefined) add('flow_physical', 'MW', t, mw, est, { zone: from.code, counterpartZone: area.code });
      }
      for (const [key, mw] of Object.entries(e.powerExportBreakdown ?? {})) {
        const to = neighbour(key, e.datetime);
        if (to !== undefined) add('flow_physical', 'MW', t, mw, est, { counterpartZone: to.code });
      }
      add('renewable_share', 'fraction', t, fraction(e.renewablePercentage), est);
      add('fossil_free_share', 'fraction', t, fraction(e.fossilFreePercentage), est);
    }
  } else {
    for (const e of outcome.entries) {
      const t = hourOf(
        e.datetime,
        (e.carbonIntensity === null ? 0 : 1) +
          (e.fossilFreePercentage === null || e.fossilFreePercentage === undefined ? 0 : 1),
      );
      if (t === undefined) continue;
      const est = e.isEstimated === true;
      add('carbon_intensity_consumption', 'gCO2eq/kWh', t, e.carbonIntensity, est, {
        factors: e.emissionFactorType ?? 'lifecycle',
      });
      add('fossil_free_share', 'fraction', t, fraction(e.fossilFreePercentage), est);
    }
  }

  const chunks: GridSeriesChunk[] = [];
  const maxSlots = ctx.maxSlots ?? 2_000_000;
  for (const draft of drafts.values()) {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const x of draft.values) {
      first = Math.min(first, x.t);
      last = Math.max(last, x.t + HOUR_MS);
    }
    const firstSlot = Math.floor(first / SLOT_MS) * SLOT_MS;
    const count = Math.ceil((last - firstSlot) / SLOT_MS);
    if (count > maxSlots) {
      stepsRejected += draft.values.length;
      rejects.push({
        code: 'processing.too_many_steps',
        message: `series ${draft.header.zone} ${draft.header.metric} spans ${count} quarter hours, more than ${maxSlots}`,
        position: { zone: draft.header.zone, metric: draft.header.metric },
      });
      continue;
    }
    const slots = new SlotSeries(firstSlot, count);
    for (const x of draft.values) {
      slots.addStep(
        x.t,
        x.t + HOUR_MS,
        x.v,
        'intensive',
        x.estimated ? FLAG_BITS.estimated : 0,
        rankOf(0, true, HOUR_MS, 0),
      );
    }
    chunks.push(...chunksOf(draft.header, slots.finish('intensive')));
  }
  return done(chunks, stepsIn, stepsRejected);
}

/** Source values of one power-breakdown entry. */
function entrySteps(e: Extract<ElectricityMapsOutcome, { kind: 'power_breakdown' }>['entries'][number]): number {
  let n = 0;
  for (const r of [e.powerProductionBreakdown, e.powerImportBreakdown, e.powerExportBreakdown]) {
    for (const v of Object.values(r ?? {})) if (v !== null) n++;
  }
  if (e.renewablePercentage !== null && e.renewablePercentage !== undefined) n++;
  if (e.fossilFreePercentage !== null && e.fossilFreePercentage !== undefined) n++;
  return n;
}

/** Source values in a response: every non-null number the conversion looks at. */
function countSteps(
  outcome: Extract<ElectricityMapsOutcome, { kind: 'power_breakdown' | 'carbon_intensity' }>,
): number {
  let n = 0;
  const count = (r: Readonly<Record<string, number | null>> | null | undefined): void => {
    for (const v of Object.values(r ?? {})) if (v !== null) n++;
  };
  if (outcome.kind === 'power_breakdown') {
    for (const e of outcome.entries) {
      count(e.powerProductionBreakdown);
      count(e.powerImportBreakdown);
      count(e.powerExportBreakdown);
      if (e.renewablePercentage !== null && e.renewablePercentage !== undefined) n++;
      if (e.fossilFreePercentage !== null && e.fossilFreePercentage !== undefined) n++;
    }
  } else {
    for (const e of outcome.entries) {
      if (e.carbonIntensity !== null) n++;
      if (e.fossilFreePercentage !== null && e.fossilFreePercentage !== undefined) n++;
    }
  }
  return n;
}

/** Electricity Maps publishes shares in percent; gridstream keeps every share as a fraction 0–1. */
function fraction(percent: number | null | undefined): number | null | undefined {
  return percent === null || percent === undefined ? percent : percent / 100;
}
