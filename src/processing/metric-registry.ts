import type { EntsoeSeries } from '../connectors/entsoe/index.ts';
import type { EntsoeRequest, Metric } from '../contracts/index.ts';

/**
 * Which gridstream metric an ENTSO-E TimeSeries is, and which of its domains is the observation's zone and
 * which the counterpart. Flows, exchanges and capacities run from `out_Domain` to `in_Domain` (out of one area,
 * into the other): the observation's zone is the exporting area and the counterpart the importing one.
 */
export interface MetricRule {
  readonly metric: Metric;
  readonly documentType: string;
  /** `null` matches any process type (A44, A11, A09 and A61 documents carry none). */
  readonly processType: string | null;
  /** Which domain is the zone: `in` (in_Domain / inBiddingZone_Domain) or `out`. */
  readonly zone: 'in' | 'out';
  /** Whether `in_Domain` is the counterpart (cross-border metrics). */
  readonly crossBorder: boolean;
  /** Whether the series carries a production type (psrType). */
  readonly perType: boolean;
  readonly qualifier: (s: EntsoeSeries, request: EntsoeRequest | null) => string;
  readonly description: string;
}

const none = (): string => '';
/** An A44 series without a sequence is the (only) sequence 1: old and new documents share a key. */
const sequence = (s: EntsoeSeries): string => `sequence=${s.classificationSequence ?? '1'}`;
/**
 * The contract type (daily A01, weekly A02, monthly A03, total A05…) keeps products apart that share a border and a
 * slot. A61 responses do not echo it, so it comes from the request that fetched the document; for a bare file
 * without either, the resolution stands in (day-ahead capacities are hourly, week/month-ahead ones daily).
 */
const contract = (s: EntsoeSeries, request: EntsoeRequest | null): string => {
  const type = s.contractType ?? request?.contractType ?? null;
  if (type !== null) return `contract=${type}`;
  const resolution = s.periods[0]?.resolution;
  return resolution === undefined ? '' : `resolution=${resolution}`;
};

/** The rules, most specific first. */
export const METRIC_RULES: readonly MetricRule[] = [
  {
    metric: 'generation_actual',
    documentType: 'A75',
    processType: 'A16',
    zone: 'in',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description: 'Actual generation per production type (16.1.B&C)',
  },
  {
    metric: 'consumption_actual',
    documentType: 'A75',
    processType: 'A16',
    zone: 'out',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description:
      'Actual consumption of production units (pumped-storage pumping, battery charging): A75 series with outBiddingZone_Domain',
  },
  {
    metric: 'generation_forecast',
    documentType: 'A71',
    processType: 'A01',
    zone: 'in',
    crossBorder: false,
    perType: false,
    qualifier: none,
    description: 'Day-ahead aggregated generation forecast (14.1.C)',
  },
  {
    metric: 'wind_solar_forecast_day_ahead',
    documentType: 'A69',
    processType: 'A01',
    zone: 'in',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description: 'Day-ahead wind and solar generation forecast (14.1.D)',
  },
  {
    metric: 'wind_solar_forecast_intraday',
    documentType: 'A69',
    processType: 'A40',
    zone: 'in',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description: 'Intraday wind and solar generation forecast (14.1.D)',
  },
  {
    metric: 'wind_solar_forecast_current',
    documentType: 'A69',
    processType: 'A18',
    zone: 'in',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description: 'Current wind and solar generation forecast (14.1.D)',
  },
  {
    metric: 'installed_capacity',
    documentType: 'A68',
    processType: 'A33',
    zone: 'in',
    crossBorder: false,
    perType: true,
    qualifier: none,
    description: 'Installed generation capacity per production type (14.1.A)',
  },
  {
    metric: 'load_actual',
    documentType: 'A65',
    processType: 'A16',
    zone: 'out',
    crossBorder: false,
    perType: false,
    qualifier: none,
    description: 'Actual total load (6.1.A)',
  },
  {
    metric: 'load_forecast_day_ahead',
    documentType: 'A65',
    processType: 'A01',
    zone: 'out',
    crossBorder: false,
    perType: false,
    qualifier: none,
    description: 'Day-ahead total load forecast (6.1.B)',
  },
  {
    metric: 'price_day_ahead',
    documentType: 'A44',
    processType: null,
    zone: 'in',
    crossBorder: false,
    perType: false,
    qualifier: sequence,
    description: 'Day-ahead prices (12.1.D), one series per auction sequence',
  },
  {
    metric: 'flow_physical',
    documentType: 'A11',
    processType: null,
    zone: 'out',
    crossBorder: true,
    perType: false,
    qualifier: none,
    description: 'Cross-border physical flows (12.1.G), from zone to counterpart',
  },
  {
    metric: 'exchange_scheduled',
    documentType: 'A09',
    processType: null,
    zone: 'out',
    crossBorder: true,
    perType: false,
    qualifier: contract,
    description: 'Scheduled commercial exchanges (12.1.F), per contract type (A01 daily, A05 total — never summed)',
  },
  {
    metric: 'capacity_offered',
    documentType: 'A61',
    processType: null,
    zone: 'out',
    crossBorder: true,
    perType: false,
    qualifier: contract,
    description: 'Forecasted transfer capacities (11.1.A), per contract type',
  },
];

export interface MetricMatch {
  readonly rule: MetricRule;
  readonly zoneEic: string;
  readonly counterpartEic: string | null;
}

/**
 * The rule for a series, or `undefined` when gridstream does not model it. A75 series with an
 * inBiddingZone_Domain are generation; with only an outBiddingZone_Domain, consumption (storage charging).
 */
export function matchMetric(series: EntsoeSeries): MetricMatch | undefined {
  const doc = series.document;
  for (const rule of METRIC_RULES) {
    if (rule.documentType !== doc.type) continue;
    if (rule.processType !== null && rule.processType !== doc.processType) continue;
    if (rule.crossBorder) {
      if (series.outDomain === null || series.inDomain === null) continue;
      return { rule, zoneEic: series.outDomain, counterpartEic: series.inDomain };
    }
    const zoneEic =
      rule.documentType === 'A75'
        ? rule.zone === 'in'
          ? series.inDomain
          : series.inDomain === null
            ? series.outDomain
            : null
        : rule.zone === 'in'
          ? (series.inDomain ?? series.areaDomain ?? series.outDomain)
          : (series.outDomain ?? series.areaDomain ?? series.inDomain);
    if (zoneEic === null) continue;
    return { rule, zoneEic, counterpartEic: null };
  }
  return undefined;
}
