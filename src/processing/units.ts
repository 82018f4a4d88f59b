import type { Unit } from '../contracts/index.ts';
import { UNITS } from '../contracts/index.ts';

/**
 * How a value behaves when the time step changes. Intensive values (power in MW, prices, intensities, shares) are
 * rates: a 60-minute value holds for each of its quarters, and quarters average back to it. Extensive values
 * (energy in MWh) are amounts: a 60-minute value is divided over its quarters, and quarters sum back to it.
 */
export type ValueKind = 'intensive' | 'extensive';

export function kindOf(unit: Unit): ValueKind {
  return unit === 'MWh' ? 'extensive' : 'intensive';
}

/**
 * gridstream's unit for an ENTSO-E unit: `MAW` → `MW`, `MWH` → `MWh`, `EUR/MWH` → `EUR/MWh` (any currency
 * gridstream knows). `undefined` for anything else.
 */
export function unitFromEntsoe(unit: string | null): Unit | undefined {
  if (unit === null) return undefined;
  const u = unit.toUpperCase();
  if (u === 'MAW' || u === 'MW') return 'MW';
  if (u === 'MWH') return 'MWh';
  const m = /^([A-Z]{3})\/MWH$/.exec(u);
  if (m !== null) {
    const candidate = `${m[1] ?? ''}/MWh`;
    return (UNITS as readonly string[]).includes(candidate) ? (candidate as Unit) : undefined;
  }
  return undefined;
}
