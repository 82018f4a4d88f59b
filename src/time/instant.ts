import type { Brand } from '../common/index.ts';

/** Milliseconds since the Unix epoch, always UTC. */
export type UtcMs = Brand<number, 'UtcMs'>;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const SLOT_MS = 15 * MINUTE_MS;

/**
 * Parses the UTC timestamps ENTSO-E and Electricity Maps write: `2024-05-21T10:00Z`, `2024-05-21T10:00:00Z`,
 * `2024-05-21T10:00:00.000Z` (and `+00:00` for `Z`). Returns `undefined` for anything else, including non-UTC
 * offsets and impossible dates (`2024-02-30`).
 */
export function parseUtc(text: string): UtcMs | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(?:Z|\+00:00)$/.exec(text.trim());
  if (m === null) return undefined;
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || h > 24 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(t);
  // 24:00 is allowed as the end of a day; anything else must round-trip (rejects 2024-02-30).
  if (h !== 24 && (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1)) return undefined;
  if (h === 24 && (mi !== 0 || s !== 0 || ms !== 0)) return undefined;
  return t as UtcMs;
}

/** `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatUtc(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/** Parses a date (`2025-10-21`) or a UTC timestamp; a bare date means 00:00 UTC of that day. */
export function parseDateOrUtc(text: string): UtcMs | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return parseUtc(`${text}T00:00Z`);
  return parseUtc(text);
}

/** Start of the 15-minute slot containing `t`. */
export function slotStart(t: number): UtcMs {
  return (Math.floor(t / SLOT_MS) * SLOT_MS) as UtcMs;
}
