/**
 * The zones gridstream follows by default: Germany-Luxembourg, France, the Italian bidding zones and Spain, plus
 * every neighbour they exchange power with — carbon intensity by flow tracing needs the neighbours' generation mix
 * and the flows on each border. Borders follow entsoe-py's `NEIGHBOURS` table (IT_BRNN, IT_FOGN and IT_ROSN have
 * been merged into IT_SUD/IT_CALA since 2021).
 */
export const CORE_ZONES = [
  'DE_LU',
  'FR',
  'IT_NORD',
  'IT_CNOR',
  'IT_CSUD',
  'IT_SUD',
  'IT_CALA',
  'IT_SICI',
  'IT_SARD',
  'ES',
] as const;

/** Borders as unordered pairs; flows are requested in both directions. */
export const DEFAULT_BORDERS: readonly (readonly [string, string])[] = [
  ['DE_LU', 'FR'],
  ['DE_LU', 'NL'],
  ['DE_LU', 'BE'],
  ['DE_LU', 'AT'],
  ['DE_LU', 'CH'],
  ['DE_LU', 'CZ'],
  ['DE_LU', 'PL'],
  ['DE_LU', 'DK_1'],
  ['DE_LU', 'DK_2'],
  ['DE_LU', 'SE_4'],
  ['DE_LU', 'NO_2'],
  ['FR', 'BE'],
  ['FR', 'CH'],
  ['FR', 'ES'],
  ['FR', 'IT_NORD'],
  ['ES', 'PT'],
  ['IT_NORD', 'CH'],
  ['IT_NORD', 'AT'],
  ['IT_NORD', 'SI'],
  ['IT_NORD', 'IT_CNOR'],
  ['IT_CNOR', 'IT_CSUD'],
  ['IT_CNOR', 'IT_SARD'],
  ['IT_CSUD', 'IT_SARD'],
  ['IT_CSUD', 'IT_SUD'],
  ['IT_CSUD', 'ME'],
  ['IT_SUD', 'IT_CALA'],
  ['IT_SUD', 'GR'],
  ['IT_CALA', 'IT_SICI'],
  ['IT_SICI', 'MT'],
];

/** Core zones first, then the neighbours their borders reach. */
export const DEFAULT_ZONES: readonly string[] = [
  ...CORE_ZONES,
  ...new Set(DEFAULT_BORDERS.flat().filter((z) => !(CORE_ZONES as readonly string[]).includes(z))),
];

/**
 * The document items the default jobs fetch: generation, load, day-ahead prices, physical flows, and the forecasts
 * the carbon-intensity forecast is made from — wind and solar day-ahead (A69) and intraday (A69:A40), the day-ahead
 * generation forecast (A71) and the day-ahead load forecast (A65:A01). Per run of the hourly or daily job that is
 * one request per zone and item plus two per border: 25 default zones × 7 zone items + 29 borders × 2 = 233
 * requests (133 without the forecasts), about 35 s of the default 400-a-minute budget; about 5 900 requests a
 * day with the day-ahead price job (3 400 without).
 */
export const DEFAULT_DOCUMENTS = ['A75', 'A65', 'A44', 'A11', 'A69', 'A69:A40', 'A71', 'A65:A01'] as const;

/**
 * Items published ahead of the slots they describe: a job's request for them reaches to the end of the zone's next
 * local day (day-ahead forecasts are published for tomorrow, intraday ones for the rest of today and tomorrow), so
 * that the same lookbacks that fetch and revise actuals also fetch the coming day.
 */
export const AHEAD_ITEMS: readonly string[] = ['A69', 'A69:A40', 'A69:A18', 'A71', 'A65:A01'];

/** Electricity Maps zones polled by default, to compare with ENTSO-E zone by zone. */
export const DEFAULT_ELECTRICITYMAPS_ZONES = ['DE', 'FR', 'IT', 'ES'] as const;
