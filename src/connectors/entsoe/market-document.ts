/*
 * GL_MarketDocument (generation/load, urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0) and
 * Publication_MarketDocument (prices, flows, exchanges, capacities, urn:…:451-3:publicationdocument:7:0|7:3).
 * Only local names are matched; the shape both share:
 *
 *   <…_MarketDocument>
 *     <mRID/> <revisionNumber/> <type>A75</type> <process.processType>A16</process.processType>
 *     <createdDateTime/> <docStatus><value/></docStatus>
 *     <time_Period.timeInterval> | <period.timeInterval>  <start/> <end/>
 *     <TimeSeries>*
 *       <mRID/> <businessType/> <objectAggregation/> <auction.type/>
 *       <in_Domain.mRID/> <out_Domain.mRID/> | <inBiddingZone_Domain.mRID/> <outBiddingZone_Domain.mRID/>
 *       <contract_MarketAgreement.type/> <classificationSequence_AttributeInstanceComponent.position/>
 *       <quantity_Measure_Unit.name/> | <currency_Unit.name/> <price_Measure_Unit.name/>
 *       <curveType>A01|A03</curveType>  <MktPSRType><psrType>B16</psrType></MktPSRType>
 *       <Period>*  <timeInterval><start/><end/></timeInterval>  <resolution>PT15M</resolution>
 *         <Point>*  <position>1</position>  <quantity>17</quantity> | <price.amount>-0.01</price.amount>
 */
import type { Decimal } from '../../common/index.ts';
import { normaliseDecimal } from '../../common/index.ts';
import type { TimeZone } from '../../time/index.ts';
import { SLOT_MS, parseResolution, parseUtc } from '../../time/index.ts';
import type { Resolution } from '../../time/index.ts';
import type { Steps } from './cooperative.ts';
import type {
  CurveType,
  EntsoeDocumentHeader,
  EntsoePeriod,
  EntsoeReject,
  EntsoeRejectCode,
  EntsoeSeries,
} from './document.ts';
import { EntsoeError } from './errors.ts';
import { expandPeriod } from './expand.ts';
import type { XmlHandler } from './xml-body.ts';

export interface MarketDocumentOptions {
  readonly documentIndex: number;
  readonly firstSeriesIndex: number;
  readonly timeZoneOf: (eic: string) => TimeZone | undefined;
  readonly defaultTimeZone: TimeZone;
  readonly maxStepsPerPeriod: number;
  /**
   * Steps the whole body may expand to, shared by its concatenated documents: each Period counts its steps or its
   * quarter hours, whichever is more, from its timeInterval and resolution as soon as it closes — before anything is
   * expanded — and reading stops with `entsoe.too_many_steps` once the sum passes `max`.
   */
  readonly budget: { planned: number; readonly max: number };
}

interface SeriesDraft {
  mRID: string | null;
  businessType: string | null;
  objectAggregation: string | null;
  inDomain: string | null;
  outDomain: string | null;
  areaDomain: string | null;
  psrType: string | null;
  contractType: string | null;
  auctionType: string | null;
  classificationSequence: string | null;
  curveType: string | null;
  quantityUnit: string | null;
  currency: string | null;
  priceUnit: string | null;
  measure: 'quantity' | 'price';
  periods: PeriodDraft[];
  line: number;
}

interface PeriodDraft {
  start: string | null;
  end: string | null;
  resolution: string | null;
  /** Valid points only (bad ones are rejected as they close), parallel arrays. */
  positions: number[];
  values: Decimal[];
  /** Number of `<Point>` elements, valid or not. */
  pointCount: number;
  /** False once a position is not greater than the one before (then sorted when the Period ends). */
  sorted: boolean;
  line: number;
}

const ROOTS = new Set(['GL_MarketDocument', 'Publication_MarketDocument']);
export function isMarketDocumentRoot(localName: string): boolean {
  return ROOTS.has(localName);
}

/**
 * Reads one market document into canonical series, collecting per-point and per-period rejects instead of
 * failing the document. Depth-based: an element's meaning depends on its parent, kept on a name stack.
 */
export class MarketDocumentReader implements XmlHandler {
  readonly series: EntsoeSeries[] = [];
  readonly rejects: EntsoeReject[] = [];
  points = 0;
  steps = 0;

  #options: MarketDocumentOptions;
  #stack: string[] = [];
  #text = '';
  #root = '';
  #namespace: string | null = null;
  #header: {
    mRID: string | null;
    revision: string | null;
    type: string | null;
    processType: string | null;
    createdAt: string | null;
    docStatus: string | null;
    start: string | null;
    end: string | null;
  } = {
    mRID: null,
    revision: null,
    type: null,
    processType: null,
    createdAt: null,
    docStatus: null,
    start: null,
    end: null,
  };
  #headerObject: EntsoeDocumentHeader | undefined;
  #series: SeriesDraft | undefined;
  #period: PeriodDraft | undefined;
  #pointPosition: string | null = null;
  #pointValue: string | null = null;
  #pointLine = 0;
  /** TimeSeries read but not yet expanded (expanded by {@link finish}, once the budget is known to hold). */
  #pending: SeriesDraft[] = [];
  /** Index (within this document) of the series that rejects are attributed to. */
  #seriesCursor = 0;

  constructor(options: MarketDocumentOptions) {
    this.#options = options;
  }

  get header(): EntsoeDocumentHeader {
    this.#headerObject ??= this.#buildHeader();
    return this.#headerObject;
  }

  open(name: string, attributes: Readonly<Record<string, string>>, line: number): void {
    this.#text = '';
    const depth = this.#stack.push(name);
    if (depth === 1) {
      this.#root = name;
      this.#namespace = attributes['xmlns'] ?? null;
      return;
    }
    if (this.#period !== undefined) {
      if (name === 'Point') {
        this.#pointPosition = null;
        this.#pointValue = null;
        this.#pointLine = line;
      }
      return;
    }
    if (this.#series !== undefined) {
      if (name === 'Period' && depth === 3) {
        this.#period = {
          start: null,
          end: null,
          resolution: null,
          positions: [],
          values: [],
          pointCount: 0,
          sorted: true,
          line,
        };
      }
      return;
    }
    if (name === 'TimeSeries' && depth === 2) {
      this.#series = {
        mRID: null,
        businessType: null,
        objectAggregation: null,
        inDomain: null,
        outDomain: null,
        areaDomain: null,
        psrType: null,
        contractType: null,
        auctionType: null,
        classificationSequence: null,
        curveType: null,
        quantityUnit: null,
        currency: null,
        priceUnit: null,
        measure: 'quantity',
        periods: [],
        line,
      };
    }
  }

  text(text: string): void {
    this.#text = this.#text === '' ? text : this.#text + text;
  }

  close(name: string): void {
    const depth = this.#stack.length;
    this.#stack.pop();
    const text = this.#text;
    this.#text = '';
    const period = this.#period;
    if (period !== undefined) {
      // Hot path: one close per <position>, <quantity> and <Point>.
      if (depth === 5) {
        if (name === 'position') this.#pointPosition = text;
        else if (name === 'quantity' || name === 'price.amount') this.#pointValue = text;
        else if (name === 'start' && this.#stack[3] === 'timeInterval') period.start = text;
        else if (name === 'end' && this.#stack[3] === 'timeInterval') period.end = text;
      } else if (depth === 4) {
        if (name === 'Point') this.#closePoint(period);
        else if (name === 'resolution') period.resolution = text;
      } else if (depth === 3 && name === 'Period') {
        this.#plan(period);
        this.#series?.periods.push(period);
        this.#period = undefined;
      }
      return;
    }
    const series = this.#series;
    if (series !== undefined) {
      if (depth === 3) this.#seriesField(series, name, text.trim());
      else if (depth === 4 && name === 'psrType') series.psrType = text.trim();
      else if (depth === 2 && name === 'TimeSeries') {
        this.#pending.push(series);
        this.#seriesCursor++;
        this.#series = undefined;
      }
      return;
    }
    if (depth === 2) this.#headerField(name, text.trim());
    else if (depth === 3) {
      const parent = this.#stack[1];
      if (parent === 'time_Period.timeInterval' || parent === 'period.timeInterval') {
        if (name === 'start') this.#header.start = text.trim();
        else if (name === 'end') this.#header.end = text.trim();
      } else if (parent === 'docStatus' && name === 'value') this.#header.docStatus = text.trim();
    }
  }

  /** Expands the series read (call once the document has been read); pauses between Periods. */
  *finish(): Steps<void> {
    const pending = this.#pending;
    this.#pending = [];
    for (const [i, draft] of pending.entries()) {
      this.#seriesCursor = i;
      yield* this.#finishSeries(draft);
    }
  }

  /** Adds a closed Period's cost to the body's budget; throws `entsoe.too_many_steps` past it. */
  #plan(draft: PeriodDraft): void {
    const start = draft.start === null ? undefined : parseUtc(draft.start);
    const end = draft.end === null ? undefined : parseUtc(draft.end);
    const resolution = draft.resolution === null ? undefined : parseResolution(draft.resolution.trim());
    if (start === undefined || end === undefined || end <= start || resolution === undefined) return; // rejected later
    const budget = this.#options.budget;
    budget.planned += periodCost(start, end, resolution);
    if (budget.planned > budget.max) {
      throw new EntsoeError(
        'entsoe.too_many_steps',
        `the document expands to more than ${budget.max} steps (steps or quarter hours of its Periods, counted from their timeInterval and resolution); refused before expanding`,
        {
          details: {
            documentIndex: this.#options.documentIndex,
            seriesIndex: this.#options.firstSeriesIndex + this.#seriesCursor,
            line: draft.line,
            maxSteps: budget.max,
          },
        },
      );
    }
  }

  /** Validates a point as it closes: a bad one is rejected on the spot, with its line. */
  #closePoint(period: PeriodDraft): void {
    period.pointCount++;
    const line = this.#pointLine;
    const periodIndex = this.#series?.periods.length ?? 0;
    const posText = this.#pointPosition;
    const position = posText === null ? Number.NaN : Number(posText);
    if (!Number.isInteger(position) || position < 1) {
      this.#reject('invalid_position', `Point position ${JSON.stringify(posText)} is not a positive integer`, {
        period: periodIndex,
        line,
      });
      return;
    }
    const raw = this.#pointValue;
    if (raw === null) {
      this.#reject('missing_value', `Point ${position} has no quantity or price.amount`, {
        period: periodIndex,
        position,
        line,
      });
      return;
    }
    const value = fastDecimal(raw);
    if (value === undefined) {
      this.#reject('invalid_value', `Point ${position} has a non-decimal value ${JSON.stringify(raw.slice(0, 40))}`, {
        period: periodIndex,
        position,
        line,
      });
      return;
    }
    const count = period.positions.length;
    if (count > 0 && position <= (period.positions[count - 1] ?? 0)) period.sorted = false;
    period.positions.push(position);
    period.values.push(value);
  }

  #headerField(name: string, text: string): void {
    switch (name) {
      case 'mRID':
        this.#header.mRID = text;
        break;
      case 'revisionNumber':
        this.#header.revision = text;
        break;
      case 'type':
        this.#header.type = text;
        break;
      case 'process.processType':
        this.#header.processType = text;
        break;
      case 'createdDateTime':
        this.#header.createdAt = text;
        break;
      default:
        break;
    }
  }

  #seriesField(series: SeriesDraft, name: string, text: string): void {
    switch (name) {
      case 'mRID':
        series.mRID = text;
        break;
      case 'businessType':
        series.businessType = text;
        break;
      case 'objectAggregation':
        series.objectAggregation = text;
        break;
      case 'in_Domain.mRID':
      case 'inBiddingZone_Domain.mRID':
        series.inDomain = text;
        break;
      case 'out_Domain.mRID':
      case 'outBiddingZone_Domain.mRID':
        series.outDomain = text;
        break;
      case 'biddingZone_Domain.mRID':
      case 'area_Domain.mRID':
      case 'ControlArea_Domain.mRID':
        series.areaDomain = text;
        break;
      case 'contract_MarketAgreement.type':
        series.contractType = text;
        break;
      case 'auction.type':
        series.auctionType = text;
        break;
      case 'classificationSequence_AttributeInstanceComponent.position':
        series.classificationSequence = text;
        break;
      case 'curveType':
        series.curveType = text;
        break;
      case 'quantity_Measure_Unit.name':
        series.quantityUnit = text;
        break;
      case 'currency_Unit.name':
        series.currency = text;
        series.measure = 'price';
        break;
      case 'price_Measure_Unit.name':
        series.priceUnit = text;
        series.measure = 'price';
        break;
      default:
        break;
    }
  }

  #buildHeader(): EntsoeDocumentHeader {
    const h = this.#header;
    const revision = h.revision === null ? null : Number.parseInt(h.revision, 10);
    const start = h.start === null ? undefined : parseUtc(h.start);
    const end = h.end === null ? undefined : parseUtc(h.end);
    return Object.freeze({
      index: this.#options.documentIndex,
      root: this.#root,
      namespace: this.#namespace,
      mRID: h.mRID === '' ? null : h.mRID,
      revision: revision === null || Number.isNaN(revision) ? null : revision,
      type: h.type,
      processType: h.processType,
      createdAt: h.createdAt === null ? null : (parseUtc(h.createdAt) ?? null),
      docStatus: h.docStatus,
      interval: start !== undefined && end !== undefined ? { start, end } : null,
    });
  }

  #reject(code: EntsoeRejectCode, message: string, where: { period?: number; position?: number; line?: number }): void {
    this.rejects.push({
      code,
      message,
      documentIndex: this.#options.documentIndex,
      seriesIndex: this.#options.firstSeriesIndex + this.#seriesCursor,
      periodIndex: where.period ?? null,
      position: where.position ?? null,
      line: where.line ?? null,
    });
  }

  *#finishSeries(draft: SeriesDraft): Steps<void> {
    const curveText = draft.curveType ?? 'A01'; // documents written before curveType existed are A01
    if (curveText !== 'A01' && curveText !== 'A03') {
      this.#reject('unsupported_curve_type', `curveType ${curveText} is not supported (only A01 and A03)`, {
        line: draft.line,
      });
    }
    const curveType: CurveType = curveText === 'A03' ? 'A03' : 'A01';
    const areaEic = draft.inDomain ?? draft.areaDomain ?? draft.outDomain;
    const timeZone =
      (areaEic === null ? undefined : this.#options.timeZoneOf(areaEic)) ?? this.#options.defaultTimeZone;
    const periods: EntsoePeriod[] = [];
    if (curveText === 'A01' || curveText === 'A03') {
      for (const [index, p] of draft.periods.entries()) {
        const period = this.#finishPeriod(p, index, curveType, timeZone);
        if (period !== undefined) periods.push(period);
        yield;
      }
    }
    let unit: string | null = draft.quantityUnit;
    if (draft.measure === 'price') {
      unit =
        draft.currency !== null && draft.priceUnit !== null
          ? `${draft.currency}/${draft.priceUnit}`
          : (draft.currency ?? draft.priceUnit);
    }
    this.series.push({
      index: this.#options.firstSeriesIndex + this.series.length,
      document: this.header,
      mRID: draft.mRID,
      businessType: draft.businessType,
      objectAggregation: draft.objectAggregation,
      inDomain: draft.inDomain,
      outDomain: draft.outDomain,
      areaDomain: draft.areaDomain,
      psrType: draft.psrType,
      contractType: draft.contractType,
      auctionType: draft.auctionType,
      classificationSequence: draft.classificationSequence,
      curveType,
      measure: draft.measure,
      unit,
      timeZone,
      periods,
    });
  }

  #finishPeriod(draft: PeriodDraft, index: number, curveType: CurveType, timeZone: TimeZone): EntsoePeriod | undefined {
    this.points += draft.pointCount;
    const start = draft.start === null ? undefined : parseUtc(draft.start);
    const end = draft.end === null ? undefined : parseUtc(draft.end);
    if (start === undefined || end === undefined || end <= start) {
      this.#reject(
        'invalid_interval',
        `Period timeInterval ${draft.start ?? '?'}/${draft.end ?? '?'} is not a valid UTC interval`,
        {
          period: index,
          line: draft.line,
        },
      );
      return undefined;
    }
    const resolution = draft.resolution === null ? undefined : parseResolution(draft.resolution.trim());
    if (resolution === undefined) {
      this.#reject(
        'invalid_resolution',
        `Period resolution "${draft.resolution ?? ''}" is not a supported ISO 8601 duration`,
        {
          period: index,
          line: draft.line,
        },
      );
      return undefined;
    }
    const { positions, values } = draft.sorted ? draft : this.#sortPoints(draft, index);
    const expanded = expandPeriod({
      start,
      end,
      resolution,
      curveType,
      timeZone,
      positions,
      values,
      maxSteps: this.#options.maxStepsPerPeriod,
    });
    if (expanded.tooLong) {
      this.#reject(
        'period_too_long',
        `Period has more than ${this.#options.maxStepsPerPeriod} steps of ${resolution.text}`,
        {
          period: index,
          line: draft.line,
        },
      );
      return undefined;
    }
    for (const position of expanded.outOfRange) {
      this.#reject('position_out_of_range', `position ${position} lies beyond the end of the Period`, {
        period: index,
        position,
      });
    }
    this.steps += expanded.positions.length;
    return {
      index,
      start,
      end,
      resolution: resolution.text,
      pointCount: draft.pointCount,
      stepMs: expanded.stepMs,
      boundaries: expanded.boundaries,
      positions: expanded.positions,
      values: expanded.values,
      filled: expanded.filled,
    };
  }

  /** Sorts out-of-order points by position; a position given twice keeps its first value, the other is rejected. */
  #sortPoints(draft: PeriodDraft, period: number): { positions: number[]; values: Decimal[] } {
    const { positions, values } = draft;
    const order = positions.map((_, i) => i).sort((a, b) => (positions[a] ?? 0) - (positions[b] ?? 0) || a - b);
    const out = { positions: [] as number[], values: [] as Decimal[] };
    for (const i of order) {
      const position = positions[i] ?? 0;
      const value = values[i];
      if (out.positions.at(-1) === position || value === undefined) {
        this.#reject('duplicate_position', `position ${position} is given twice; the first value is kept`, {
          period,
          position,
        });
        continue;
      }
      out.positions.push(position);
      out.values.push(value);
    }
    return out;
  }
}

/** `normaliseDecimal` with a fast path for the common case: an integer without sign or leading zero. */
function fastDecimal(text: string): Decimal | undefined {
  const n = text.length;
  if (n > 0 && n < 16) {
    let plain = text.charCodeAt(0) !== 0x30 || n === 1;
    for (let i = 0; plain && i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) plain = false;
    }
    if (plain) return text as Decimal;
  }
  return normaliseDecimal(text);
}

/** What a Period costs: its steps or its quarter hours (the 15-minute grid it becomes), whichever is more. */
export function periodCost(start: number, end: number, resolution: Resolution): number {
  const quarterHours = Math.ceil((end - start) / SLOT_MS);
  return resolution.kind === 'fixed' ? Math.max(quarterHours, Math.floor((end - start) / resolution.ms)) : quarterHours;
}
