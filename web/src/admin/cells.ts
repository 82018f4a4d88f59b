import type { Row } from '../api-types.ts';
import type { Child } from '../dom.ts';
import { h } from '../dom.ts';
import { formatDuration, formatInstant, formatNumber } from '../format.ts';

/** A cell of an SQL row as text: instants in the browser's time zone, numbers grouped, null as a dash. */
export function cellText(row: Row, name: string): string {
  const value = row[name];
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'number') return formatNumber(value, 2);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') {
    if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return formatInstant(value);
    if (/^-?\d+(\.\d+)?$/.test(value)) return formatNumber(Number(value), 2);
    return value;
  }
  return JSON.stringify(value);
}

export function rowString(row: Row, name: string): string | null {
  const value = row[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** A status word as a coloured badge. */
export function statusBadge(status: string): HTMLElement {
  const tone =
    status === 'succeeded' || status === 'ok' || status === 'active' || status === 'leader'
      ? 'good'
      : status === 'running' || status === 'partial' || status === 'standby'
        ? 'warn'
        : status === 'failed' || status === 'revoked' || status === 'banned'
          ? 'bad'
          : 'muted';
  return h('span', { class: `badge badge-${tone}`, text: status });
}

export function durationCell(row: Row, name: string): string {
  const value = row[name];
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(ms) ? formatDuration(ms) : '–';
}

/** A section with a heading and content. */
export function section(title: string, children: readonly Child[], description?: string): HTMLElement {
  return h('section', { class: 'admin-section' }, [
    h('h2', { text: title }),
    description === undefined ? null : h('p', { class: 'help', text: description }),
    ...children,
  ]);
}

export function emptyNote(text: string): HTMLElement {
  return h('p', { class: 'empty-note', text });
}
