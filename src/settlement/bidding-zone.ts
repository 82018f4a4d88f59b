import type { Area, ReferenceData } from '../reference/index.ts';

/**
 * The bidding zone whose day-ahead price (ENTSO-E A44) applies to a meter registered in gridstream zone `zone`,
 * as a zone code, or `undefined` when the reference data does not name exactly one.
 *
 * - A zone that is a bidding zone (area type `BZN`) is its own: `DE_LU` → `DE_LU`, `FR` → `FR`; an alias gives
 *   the canonical code (`LU_BZN` → `DE_LU`).
 * - Any other area (a control area, a country, a TSO's area) maps to the bidding zones whose countries include
 *   all of its countries, and among those to the tightest fit: the ones with the fewest countries. Exactly one
 *   is the answer (`LU` → `DE_LU`, `DE` → `DE_LU`, `IE` → `IE_SEM`). The tightest fit is needed because the area
 *   list also holds bidding zones that no longer trade or span several countries: `LU` and `DE` also lie in
 *   `DE_AT_LU` (split on 2018-10-01) and `DE` in `CZ_DE_SK`.
 * - A country split into several bidding zones (`IT`, `SE`, `NO`, `DK`; `UK`, whose `GB` has the
 *   interconnector zones `GB_IFA`, `GB_IFA2`, `GB_ELECLINK` beside it), an area with no country (a region) and an
 *   unknown zone give `undefined`.
 */
export function biddingZoneOf(reference: ReferenceData, zone: string): string | undefined {
  if (!reference.hasZone(zone)) return undefined;
  const area = reference.zone(zone);
  if (area.areaTypes.includes('BZN')) return area.code;
  if (area.countries.length === 0) return undefined;
  const candidates = reference
    .areas()
    .filter((a) => a.areaTypes.includes('BZN') && area.countries.every((c) => a.countries.includes(c)));
  const tightest = fewestCountries(candidates);
  return tightest.length === 1 ? tightest[0]?.code : undefined;
}

/** The areas of `areas` with the fewest countries. */
function fewestCountries(areas: readonly Area[]): readonly Area[] {
  const fewest = Math.min(...areas.map((a) => a.countries.length));
  return areas.filter((a) => a.countries.length === fewest);
}
