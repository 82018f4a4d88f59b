/**
 * How many decimals the API gives a value of each unit: enough for what the unit measures, no float noise
 * (`61.639140893470795` MW is `61.639`). Exports and stored values are never rounded; only JSON answers are.
 */
export function decimalsFor(unit: string): number {
  if (unit === 'MW' || unit === 'MWh') return 3;
  if (unit.endsWith('/MWh')) return 2; // prices: EUR/MWh, GBP/MWh, …
  if (unit === 'gCO2eq/kWh') return 1;
  if (unit === 'fraction') return 4;
  if (unit === '%') return 2;
  return 3;
}

/** `value` rounded to the decimals of `unit` (half away from zero, as people round). */
export function roundForUnit(value: number, unit: string): number {
  const factor = 10 ** decimalsFor(unit);
  const rounded = (Math.sign(value) * Math.round(Math.abs(value) * factor + Number.EPSILON)) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}
