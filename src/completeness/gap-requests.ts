import type { EntsoeItem } from '../connectors/entsoe/index.ts';
import { entsoeRequest } from '../connectors/entsoe/index.ts';
import type { EntsoeRequest } from '../contracts/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Range } from './gap-detect.ts';
import type { GapSeries } from './gap-store.ts';

/**
 * The ENTSO-E item that publishes each metric a gap can be healed for: the zone items (one request per zone). Border
 * items (flows, exchanges, capacities) are per pair of zones and installed capacity is yearly: their gaps are not
 * looked for (the model's idle-source alert still covers them).
 */
export const GAP_ITEMS: Readonly<Record<string, EntsoeItem>> = {
  generation_actual: 'A75',
  consumption_actual: 'A75',
  generation_forecast: 'A71',
  wind_solar_forecast_day_ahead: 'A69',
  wind_solar_forecast_intraday: 'A69:A40',
  wind_solar_forecast_current: 'A69:A18',
  load_actual: 'A65',
  load_forecast_day_ahead: 'A65:A01',
  price_day_ahead: 'A44',
};

/** Whether gaps of this series can be asked for: an ENTSO-E zone item of a zone in the reference data. */
export function healable(s: GapSeries, reference: ReferenceData): boolean {
  return s.source === 'entsoe' && Object.hasOwn(GAP_ITEMS, s.metric) && reference.hasZone(s.zone);
}

/**
 * The targeted request of a gap: its series' item for exactly the gap's range (the client splits it to the service's
 * limits and widens day-based items, day-ahead prices, to whole local days).
 */
export function gapRequest(gap: GapSeries & Range, reference: ReferenceData): EntsoeRequest {
  const item = GAP_ITEMS[gap.metric];
  if (item === undefined) throw new RangeError(`no ENTSO-E item publishes ${gap.metric}`);
  return entsoeRequest(item, gap.zone, { start: gap.start, end: gap.end }, reference);
}
