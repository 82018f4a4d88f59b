/*
 * Request builders for the ENTSO-E Transparency Platform REST API (GET <base>?securityToken=…&documentType=…).
 * Parameter names are case sensitive and copied from the official Postman collection (docs/upstream-apis.md §2):
 *
 *   A75 actual generation per type   documentType=A75 processType=A16 in_Domain            (16.1.B&C)
 *   A71 generation forecast          documentType=A71 processType=A01 in_Domain            (14.1.C)
 *   A69 wind & solar forecast        documentType=A69 processType=A01|A40|A18 in_Domain    (14.1.D)
 *   A68 installed capacity           documentType=A68 processType=A33 in_Domain            (14.1.A)
 *   A65 load                         documentType=A65 processType=A16|A01 outBiddingZone_Domain (6.1.A/B)
 *   A44 day-ahead prices             documentType=A44 in_Domain=out_Domain contract_MarketAgreement.type=A01 offset
 *   A11 physical flows               documentType=A11 out_Domain (from) in_Domain (to)      (12.1.G)
 *   A09 scheduled exchanges          documentType=A09 out_Domain in_Domain contract_MarketAgreement.Type=A05|A01
 *   A61 forecast transfer capacity   documentType=A61 out_Domain in_Domain contract_MarketAgreement.Type=A01…A04
 *   periodStart/periodEnd            yyyyMMddHHmm, UTC
 */
import type { EntsoeRequest } from '../../contracts/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import { formatUtc, parseUtc } from '../../time/index.ts';

/** How an item names its area(s). */
type DomainStyle = 'in' | 'outBiddingZone' | 'in=out' | 'border';

interface ItemSpec {
  readonly documentType: string;
  readonly processType?: string;
  readonly contractType?: string;
  readonly domains: DomainStyle;
  readonly title: string;
}

/**
 * The data items gridstream requests, by the name used in configuration and on the command line (`A65` is actual
 * load, `A65:A01` its day-ahead forecast). A zone is requested with its own EIC (DE_LU: the DE-LU bidding zone
 * `10Y1001A1001A82H` for every item, generation included: one domain per zone, recorded in the request).
 */
export const ENTSOE_ITEMS = {
  A75: { documentType: 'A75', processType: 'A16', domains: 'in', title: 'actual generation per type' },
  A71: { documentType: 'A71', processType: 'A01', domains: 'in', title: 'generation forecast (day-ahead)' },
  A69: { documentType: 'A69', processType: 'A01', domains: 'in', title: 'wind and solar forecast (day-ahead)' },
  'A69:A40': { documentType: 'A69', processType: 'A40', domains: 'in', title: 'wind and solar forecast (intraday)' },
  'A69:A18': { documentType: 'A69', processType: 'A18', domains: 'in', title: 'wind and solar forecast (current)' },
  A68: { documentType: 'A68', processType: 'A33', domains: 'in', title: 'installed capacity per type' },
  A65: { documentType: 'A65', processType: 'A16', domains: 'outBiddingZone', title: 'actual total load' },
  'A65:A01': { documentType: 'A65', processType: 'A01', domains: 'outBiddingZone', title: 'load forecast (day-ahead)' },
  // No classificationSequence filter: DE-LU and AT publish SDAC (sequence 1) and EXAA (sequence 2) prices, and
  // sequence 1 has gone missing for days at a time; one request fetches both, the parser keeps them tagged.
  A44: { documentType: 'A44', contractType: 'A01', domains: 'in=out', title: 'day-ahead prices' },
  A11: { documentType: 'A11', domains: 'border', title: 'physical flows' },
  A09: { documentType: 'A09', contractType: 'A05', domains: 'border', title: 'scheduled commercial exchanges (total)' },
  'A09:A01': { documentType: 'A09', contractType: 'A01', domains: 'border', title: 'scheduled exchanges (day-ahead)' },
  A61: { documentType: 'A61', contractType: 'A01', domains: 'border', title: 'forecast transfer capacity (day-ahead)' },
} as const satisfies Record<string, ItemSpec>;
export type EntsoeItem = keyof typeof ENTSOE_ITEMS;

export function isEntsoeItem(name: string): name is EntsoeItem {
  return Object.hasOwn(ENTSOE_ITEMS, name);
}

/** True for items requested per border (a pair of zones) rather than per zone. */
export function isBorderItem(item: EntsoeItem): boolean {
  return ENTSOE_ITEMS[item].domains === 'border';
}

/**
 * Spelling of the contract type parameter: the Postman collection writes `.type` for A44 and `.Type` for A09 and
 * A61, and parameter names are case sensitive.
 */
function contractParam(documentType: string): string {
  return documentType === 'A44' ? 'contract_MarketAgreement.type' : 'contract_MarketAgreement.Type';
}

/** A UTC instant as ENTSO-E wants it: `yyyyMMddHHmm`. @throws RangeError for instants not on a whole minute */
export function formatEntsoeTime(ms: number): string {
  if (ms % 60_000 !== 0) throw new RangeError(`ENTSO-E periods are whole minutes (got ${new Date(ms).toISOString()})`);
  return new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

/** A half-open UTC interval, epoch milliseconds. */
export interface Period {
  readonly start: number;
  readonly end: number;
}

/** The request's period as epoch milliseconds. */
export function requestPeriod(request: EntsoeRequest): Period {
  const start = parseUtc(request.periodStart);
  const end = parseUtc(request.periodEnd);
  if (start === undefined || end === undefined) throw new RangeError('request period is not a UTC instant');
  return { start, end };
}

/** A copy of `request` for another period (paging offset dropped). */
export function withPeriod(request: EntsoeRequest, period: Period): EntsoeRequest {
  const { offset: _offset, ...rest } = request;
  return { ...rest, periodStart: formatUtc(period.start), periodEnd: formatUtc(period.end) };
}

/**
 * Builds the request of one item for one zone (or, for border items, from `zone` to `counterpart`).
 * @throws ReferenceDataError for an unknown zone code; RangeError for a border item without counterpart
 * @example entsoeRequest('A65', 'FR', { start, end }, reference)
 */
export function entsoeRequest(
  item: EntsoeItem,
  zone: string,
  period: Period,
  reference: ReferenceData,
  counterpart?: string,
): EntsoeRequest {
  const spec: ItemSpec = ENTSOE_ITEMS[item];
  const eic = reference.zone(zone).eic;
  let domains: Record<string, string>;
  const zones = [reference.zone(zone).code as string];
  switch (spec.domains) {
    case 'in':
      domains = { in_Domain: eic };
      break;
    case 'outBiddingZone':
      domains = { outBiddingZone_Domain: eic };
      break;
    case 'in=out':
      domains = { in_Domain: eic, out_Domain: eic };
      break;
    case 'border': {
      if (counterpart === undefined) throw new RangeError(`${item} is requested per border: give a counterpart zone`);
      const to = reference.zone(counterpart);
      domains = { out_Domain: eic, in_Domain: to.eic };
      zones.push(to.code);
      break;
    }
    default:
      return spec.domains satisfies never;
  }
  return {
    documentType: spec.documentType,
    ...(spec.processType === undefined ? {} : { processType: spec.processType }),
    ...(spec.contractType === undefined ? {} : { contractType: spec.contractType }),
    domains,
    periodStart: formatUtc(period.start),
    periodEnd: formatUtc(period.end),
    zones,
  };
}

/** The query string of a request, without the security token (added by the client at the point of use). */
export function entsoeQuery(request: EntsoeRequest): URLSearchParams {
  const q = new URLSearchParams();
  q.set('documentType', request.documentType);
  if (request.processType !== undefined) q.set('processType', request.processType);
  if (request.businessType !== undefined) q.set('businessType', request.businessType);
  if (request.psrType !== undefined) q.set('psrType', request.psrType);
  if (request.contractType !== undefined) q.set(contractParam(request.documentType), request.contractType);
  for (const [name, eic] of Object.entries(request.domains)) q.set(name, eic);
  const { start, end } = requestPeriod(request);
  q.set('periodStart', formatEntsoeTime(start));
  q.set('periodEnd', formatEntsoeTime(end));
  if (request.offset !== undefined) q.set('offset', String(request.offset));
  return q;
}

/**
 * A stable, human-readable identity of a request (also the backfill chunk id): the same request always gives the
 * same key, whatever the order of its domains.
 * @example 'A65/A16/-/-/outBiddingZone_Domain=10YFR-RTE------C/202401010000-202402010000'
 */
export function requestKey(request: EntsoeRequest): string {
  const { start, end } = requestPeriod(request);
  const domains = Object.entries(request.domains)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const offset = request.offset === undefined || request.offset === 0 ? '' : `@${request.offset}`;
  return [
    request.documentType,
    request.processType ?? '-',
    request.contractType ?? '-',
    request.businessType === undefined ? (request.psrType ?? '-') : `${request.psrType ?? '-'}:${request.businessType}`,
    domains,
    `${formatEntsoeTime(start)}-${formatEntsoeTime(end)}${offset}`,
  ].join('/');
}
