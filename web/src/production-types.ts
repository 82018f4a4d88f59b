/**
 * ENTSO-E production types (psrType) as the dashboard draws them: name and category as in
 * data/reference/psr-types.csv, a colour by category (fossil browns and greys, nuclear purple, renewables greens,
 * blues and yellow, storage teal, other muted) and a stacking order from base load at the bottom to solar on top.
 */
export const CATEGORIES = ['fossil', 'nuclear', 'renewable', 'storage', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface ProductionType {
  readonly code: string;
  readonly name: string;
  readonly category: Category;
  readonly color: string;
}

const TYPES: readonly ProductionType[] = [
  { code: 'B14', name: 'Nuclear', category: 'nuclear', color: '#7b3fa0' },
  { code: 'B02', name: 'Lignite', category: 'fossil', color: '#7a5230' },
  { code: 'B05', name: 'Hard coal', category: 'fossil', color: '#3f3f46' },
  { code: 'B08', name: 'Peat', category: 'fossil', color: '#a1795a' },
  { code: 'B07', name: 'Oil shale', category: 'fossil', color: '#5c4a3d' },
  { code: 'B03', name: 'Coal-derived gas', category: 'fossil', color: '#8d7b6a' },
  { code: 'B04', name: 'Gas', category: 'fossil', color: '#9ca3af' },
  { code: 'B06', name: 'Oil', category: 'fossil', color: '#57534e' },
  { code: 'B17', name: 'Waste', category: 'other', color: '#b8a99a' },
  { code: 'B20', name: 'Other', category: 'other', color: '#cbd5e1' },
  { code: 'B01', name: 'Biomass', category: 'renewable', color: '#2f7d32' },
  { code: 'B09', name: 'Geothermal', category: 'renewable', color: '#7cb342' },
  { code: 'B15', name: 'Other renewable', category: 'renewable', color: '#a5c882' },
  { code: 'B12', name: 'Hydro reservoir', category: 'renewable', color: '#1f4e9c' },
  { code: 'B11', name: 'Hydro run-of-river', category: 'renewable', color: '#2f7fd1' },
  { code: 'B13', name: 'Marine', category: 'renewable', color: '#3b5ba9' },
  { code: 'B10', name: 'Pumped storage', category: 'storage', color: '#0f8b80' },
  { code: 'B25', name: 'Energy storage', category: 'storage', color: '#4fb8ad' },
  { code: 'B18', name: 'Wind offshore', category: 'renewable', color: '#0e9fd8' },
  { code: 'B19', name: 'Wind onshore', category: 'renewable', color: '#67c7ef' },
  { code: 'B16', name: 'Solar', category: 'renewable', color: '#f2c12e' },
];

const BY_CODE = new Map(TYPES.map((t, i) => [t.code, { ...t, order: i }]));

export function productionType(
  code: string,
  fallbackName?: string | null,
): ProductionType & { readonly order: number } {
  return (
    BY_CODE.get(code) ?? { code, name: fallbackName ?? code, category: 'other', color: '#94a3b8', order: TYPES.length }
  );
}

export const CATEGORY_LABELS: Readonly<Record<Category, string>> = {
  fossil: 'Fossil',
  nuclear: 'Nuclear',
  renewable: 'Renewable',
  storage: 'Storage',
  other: 'Other',
};

export function isCategory(value: string | null): value is Category {
  return value !== null && (CATEGORIES as readonly string[]).includes(value);
}
