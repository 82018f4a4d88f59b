import type { Decimal } from '../../common/index.ts';
import type { EntsoeError } from './errors.ts';

/** The header of one GL_MarketDocument or Publication_MarketDocument in a response body. */
export interface EntsoeDocumentHeader {
  /** 0-based index of the document in the body (several documents can be concatenated in one body). */
  readonly index: number;
  /** Local name of the root element, e.g. `GL_MarketDocument`. */
  readonly root: string;
  /** Namespace URI of the root (versions differ: `…:publicationdocument:7:0` vs `7:3`). */
  readonly namespace: string | null;
  readonly mRID: string | null;
  readonly revision: number | null;
  /** documentType, e.g. `A75`. */
  readonly type: string | null;
  readonly processType: string | null;
  readonly createdAt: number | null;
  readonly docStatus: string | null;
  readonly interval: { readonly start: number; readonly end: number } | null;
}

/** One time step of a series after curve expansion. */
export interface EntsoeStep {
  /** UTC start, epoch milliseconds. */
  readonly start: number;
  /** UTC end, epoch milliseconds (exclusive). */
  readonly end: number;
  /** 1-based position within its Period. */
  readonly position: number;
  readonly value: Decimal;
  /** True when the value was not in the document but repeated from the previous position (curveType A03). */
  readonly filled: boolean;
}

/**
 * One Period of a series, columnar: step `i` has position `positions[i]`, value `values[i]` and was filled by A03
 * when `filled[i]` is 1. Its UTC start is `start + (positions[i] - 1) × stepMs` for fixed resolutions, or
 * `boundaries[positions[i] - 1]` for calendar ones (see {@link stepStart}). Columnar because a year of 15-minute
 * data is millions of steps: one object per step would cost more than reading the XML.
 */
export interface EntsoePeriod {
  /** 0-based index of the Period within its TimeSeries. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** ISO 8601 duration as written, e.g. `PT15M`, `P1D`. */
  readonly resolution: string;
  /** Number of `<Point>` elements given in the document. */
  readonly pointCount: number;
  /** Step length in milliseconds for fixed resolutions, `null` for calendar ones. */
  readonly stepMs: number | null;
  /** Calendar resolutions: start of every position (index 0 = position 1) and, last, the end of the last step. */
  readonly boundaries: Float64Array | null;
  /** 1-based positions of the steps, ascending. */
  readonly positions: Int32Array;
  readonly values: readonly Decimal[];
  readonly filled: Uint8Array;
}

/** UTC start of the step at `position` (1-based) of `period`. */
export function stepStart(period: EntsoePeriod, position: number): number {
  return period.stepMs === null
    ? (period.boundaries?.[position - 1] ?? Number.NaN)
    : period.start + (position - 1) * period.stepMs;
}

/** UTC end (exclusive) of the step at `position` of `period`. */
export function stepEnd(period: EntsoePeriod, position: number): number {
  return stepStart(period, position + 1);
}

/** The steps of a Period as objects, in position order (convenient; allocation per step). */
export function* periodSteps(period: EntsoePeriod): Generator<EntsoeStep> {
  for (let i = 0; i < period.positions.length; i++) {
    const position = period.positions[i] ?? 0;
    yield {
      start: stepStart(period, position),
      end: stepEnd(period, position),
      position,
      value: period.values[i] ?? ('' as Decimal),
      filled: period.filled[i] === 1,
    };
  }
}

/** The canonical record of one TimeSeries. */
export interface EntsoeSeries {
  /** 0-based index in document order, continuing across concatenated documents. */
  readonly index: number;
  readonly document: EntsoeDocumentHeader;
  readonly mRID: string | null;
  readonly businessType: string | null;
  readonly objectAggregation: string | null;
  /** EIC of `in_Domain` or `inBiddingZone_Domain`. */
  readonly inDomain: string | null;
  /** EIC of `out_Domain` or `outBiddingZone_Domain`. */
  readonly outDomain: string | null;
  /** EIC of a role-less area domain (`biddingZone_Domain`, `area_Domain`, `ControlArea_Domain`). */
  readonly areaDomain: string | null;
  readonly psrType: string | null;
  /** `contract_MarketAgreement.type`: A01 daily vs A05 total are different series, never to be summed. */
  readonly contractType: string | null;
  readonly auctionType: string | null;
  /** `classificationSequence_AttributeInstanceComponent.position`: several price sequences per timestamp. */
  readonly classificationSequence: string | null;
  readonly curveType: CurveType;
  /** `quantity` (quantities) or `price` (`price.amount`). */
  readonly measure: 'quantity' | 'price';
  /** `MAW`, `MWH`… or `CURRENCY/UNIT` for prices (`EUR/MWH`); `null` when the document gives none. */
  readonly unit: string | null;
  /** Time zone used for calendar resolutions (the series' area's, else CET). */
  readonly timeZone: string;
  readonly periods: readonly EntsoePeriod[];
}

export const CURVE_TYPES = ['A01', 'A03'] as const;
export type CurveType = (typeof CURVE_TYPES)[number];

export const ENTSOE_REJECT_CODES = [
  'invalid_value',
  'missing_value',
  'invalid_position',
  'duplicate_position',
  'position_out_of_range',
  'invalid_resolution',
  'invalid_interval',
  'period_too_long',
  'unsupported_curve_type',
] as const;
export type EntsoeRejectCode = (typeof ENTSOE_REJECT_CODES)[number];

/** A part of a document that could not be turned into steps; everything else in the document still is. */
export interface EntsoeReject {
  readonly code: EntsoeRejectCode;
  readonly message: string;
  readonly documentIndex: number;
  readonly seriesIndex: number;
  readonly periodIndex: number | null;
  readonly position: number | null;
  /** 1-based line of the element in the body, when known. */
  readonly line: number | null;
}

export interface EntsoeAcknowledgement {
  readonly mRID: string | null;
  readonly createdAt: number | null;
  readonly reasons: readonly { readonly code: string; readonly text: string }[];
}

/** What a response body turned out to be. Expected failures are values, not exceptions. */
export type EntsoeParseOutcome =
  | {
      readonly kind: 'series';
      readonly documents: readonly EntsoeDocumentHeader[];
      readonly series: readonly EntsoeSeries[];
      readonly rejects: readonly EntsoeReject[];
      /** Acknowledgements found next to data documents in the same body (rare). */
      readonly acknowledgements: readonly EntsoeAcknowledgement[];
      readonly stats: { readonly points: number; readonly steps: number };
    }
  | {
      /** An Acknowledgement_MarketDocument: the service's "no matching data" (or another refusal) reply. */
      readonly kind: 'no_data';
      readonly reasonCode: string;
      readonly reasonText: string;
      readonly acknowledgement: EntsoeAcknowledgement;
    }
  | {
      /** A well-formed ENTSO-E document of a type gridstream does not model (e.g. A80 outages). */
      readonly kind: 'unsupported';
      readonly root: string;
      readonly documentType: string | null;
    }
  | { readonly kind: 'invalid'; readonly error: EntsoeError };
