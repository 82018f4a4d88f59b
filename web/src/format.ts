/** Number and time formatting (the browser's locale for numbers, the zone's time zone for times). */

const numberFormats = new Map<number, Intl.NumberFormat>();

export function formatNumber(value: number, maxFractionDigits = 0): string {
  let format = numberFormats.get(maxFractionDigits);
  if (format === undefined) {
    format = new Intl.NumberFormat(undefined, { maximumFractionDigits: maxFractionDigits });
    numberFormats.set(maxFractionDigits, format);
  }
  return format.format(value);
}

/** A value with its unit and a precision suited to it (`1,234 MW`, `48.19 EUR/MWh`, `82 gCO2eq/kWh`). */
export function formatValue(value: number | null | undefined, unit: string): string {
  // Shares travel as fractions 0–1; people read them as percent.
  if (unit === 'fraction' && value !== null && value !== undefined) return formatShare(value);
  if (value === null || value === undefined) return '–';
  const digits = unit.endsWith('/MWh') ? 2 : Math.abs(value) < 10 ? 1 : 0;
  return `${formatNumber(value, digits)} ${unit}`;
}

export function formatShare(share: number): string {
  return `${formatNumber(share * 100, share < 0.1 ? 1 : 0)} %`;
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function dateTimeFormat(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let format = dateTimeFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(undefined, options);
    dateTimeFormats.set(key, format);
  }
  return format;
}

/** `24 May 2024, 11:45 GMT+2` in the zone's time zone. */
export function formatDateTime(ms: number, timeZone: string, withZone = true): string {
  return dateTimeFormat(`dt|${timeZone}|${withZone}`, {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(withZone ? { timeZoneName: 'short' } : {}),
  }).format(ms);
}

/** `24 May 2024` in the zone's time zone. */
export function formatDate(ms: number, timeZone: string): string {
  return dateTimeFormat(`d|${timeZone}`, { timeZone, day: 'numeric', month: 'short', year: 'numeric' }).format(ms);
}

/** `12:01:03` in the browser's time zone (when something happened here). */
export function formatClock(ms: number): string {
  return dateTimeFormat('clock', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

/** An instant in the browser's time zone, or a dash. */
export function formatInstant(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '–';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return String(value);
  return dateTimeFormat('instant', { dateStyle: 'medium', timeStyle: 'medium' }).format(ms);
}

/** `3 s`, `4 min`, `2 h` — a short duration. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** Friendly metric names. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  generation_actual: 'generation',
  consumption_actual: 'consumption by type',
  generation_forecast: 'generation forecast',
  wind_solar_forecast_day_ahead: 'wind & solar forecast (day-ahead)',
  wind_solar_forecast_intraday: 'wind & solar forecast (intraday)',
  wind_solar_forecast_current: 'wind & solar forecast (current)',
  installed_capacity: 'installed capacity',
  load_actual: 'load',
  load_forecast_day_ahead: 'load forecast',
  price_day_ahead: 'day-ahead price',
  flow_physical: 'physical flows',
  exchange_scheduled: 'scheduled exchanges',
  capacity_offered: 'offered capacity',
  carbon_intensity_production: 'carbon intensity (production)',
  carbon_intensity_consumption: 'carbon intensity (consumption)',
  renewable_share: 'renewable share',
  fossil_free_share: 'fossil-free share',
};

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric.replaceAll('_', ' ');
}
