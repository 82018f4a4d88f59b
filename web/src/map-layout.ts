/**
 * The schematic tile map of Europe's bidding zones: one tile per zone, on a grid laid out by hand to follow the
 * geography roughly (north at the top; neighbours side by side where the grid allows). Zone codes are gridstream's
 * (`data/reference/eic-areas.csv`). This table is gridstream's own work, under the project's licence (see
 * web/README.md); no map shapes are used.
 *
 * Zones with data that are not placed here (country or control areas, older virtual zones) are listed under the grid.
 */
export interface TilePlace {
  readonly col: number;
  readonly row: number;
  /** Short label on the tile. */
  readonly label: string;
}

export const MAP_COLUMNS = 9;
export const MAP_ROWS = 13;

export const TILE_PLACES: Readonly<Record<string, TilePlace>> = {
  NO_4: { col: 6, row: 0, label: 'NO4' },
  SE_1: { col: 7, row: 0, label: 'SE1' },
  NO_3: { col: 5, row: 1, label: 'NO3' },
  SE_2: { col: 6, row: 1, label: 'SE2' },
  FI: { col: 7, row: 1, label: 'FI' },
  NO_5: { col: 4, row: 2, label: 'NO5' },
  NO_1: { col: 5, row: 2, label: 'NO1' },
  SE_3: { col: 6, row: 2, label: 'SE3' },
  EE: { col: 7, row: 2, label: 'EE' },
  NO_2: { col: 4, row: 3, label: 'NO2' },
  SE_4: { col: 6, row: 3, label: 'SE4' },
  LV: { col: 7, row: 3, label: 'LV' },
  IE_SEM: { col: 1, row: 4, label: 'IE' },
  GB: { col: 2, row: 4, label: 'GB' },
  NL: { col: 3, row: 4, label: 'NL' },
  DK_1: { col: 4, row: 4, label: 'DK1' },
  DK_2: { col: 5, row: 4, label: 'DK2' },
  LT: { col: 6, row: 4, label: 'LT' },
  BE: { col: 3, row: 5, label: 'BE' },
  DE_LU: { col: 4, row: 5, label: 'DE-LU' },
  PL: { col: 5, row: 5, label: 'PL' },
  FR: { col: 2, row: 6, label: 'FR' },
  LU: { col: 3, row: 6, label: 'LU' },
  CZ: { col: 4, row: 6, label: 'CZ' },
  SK: { col: 5, row: 6, label: 'SK' },
  UA_IPS: { col: 6, row: 6, label: 'UA' },
  PT: { col: 0, row: 7, label: 'PT' },
  ES: { col: 1, row: 7, label: 'ES' },
  CH: { col: 3, row: 7, label: 'CH' },
  AT: { col: 4, row: 7, label: 'AT' },
  HU: { col: 5, row: 7, label: 'HU' },
  RO: { col: 6, row: 7, label: 'RO' },
  MD: { col: 7, row: 7, label: 'MD' },
  IT_NORD: { col: 3, row: 8, label: 'IT-N' },
  SI: { col: 4, row: 8, label: 'SI' },
  HR: { col: 5, row: 8, label: 'HR' },
  RS: { col: 6, row: 8, label: 'RS' },
  BG: { col: 7, row: 8, label: 'BG' },
  IT_SACO_DC: { col: 1, row: 9, label: 'SACO DC' },
  IT_SACO_AC: { col: 2, row: 9, label: 'SACO AC' },
  IT_CNOR: { col: 3, row: 9, label: 'IT-CN' },
  BA: { col: 5, row: 9, label: 'BA' },
  ME: { col: 6, row: 9, label: 'ME' },
  XK: { col: 7, row: 9, label: 'XK' },
  IT_SARD: { col: 2, row: 10, label: 'IT-SAR' },
  IT_CSUD: { col: 3, row: 10, label: 'IT-CS' },
  IT_SUD: { col: 4, row: 10, label: 'IT-S' },
  AL: { col: 6, row: 10, label: 'AL' },
  MK: { col: 7, row: 10, label: 'MK' },
  TR: { col: 8, row: 10, label: 'TR' },
  IT_SICI: { col: 3, row: 11, label: 'IT-SIC' },
  IT_CALA: { col: 4, row: 11, label: 'IT-CAL' },
  GR: { col: 7, row: 11, label: 'GR' },
  MT: { col: 3, row: 12, label: 'MT' },
};

/** Zones the map places, in reading order (top row first). */
export function placedZones(): string[] {
  return Object.entries(TILE_PLACES)
    .sort(([, a], [, b]) => a.row - b.row || a.col - b.col)
    .map(([code]) => code);
}
