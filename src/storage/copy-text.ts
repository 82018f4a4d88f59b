import type { CopyValue } from './db.ts';

/**
 * PostgreSQL's COPY text format: columns separated by tabs, rows ended by newlines, `\N` for NULL, backslash
 * escapes for backslash, tab, newline and carriage return. Text rather than binary because every value gridstream
 * copies is short text or a number, and the text form is the same for node-postgres and PGlite.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : s;
}

const ARRAY_ELEMENT_NEEDS_QUOTES = /[{},"\\\s]|^$|^null$/i;

/** An array literal (`{a,"b c"}`) for text[] columns. */
function arrayLiteral(values: readonly string[]): string {
  const elements = values.map((v) =>
    ARRAY_ELEMENT_NEEDS_QUOTES.test(v) ? `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : v,
  );
  return `{${elements.join(',')}}`;
}

/** One field of a COPY text row. */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  switch (typeof value) {
    case 'string':
      return escapeText(value);
    case 'number':
      // String() gives the shortest text that reads back as the same double; NaN/Infinity are spelled as
      // PostgreSQL spells them.
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return value instanceof Date ? value.toISOString() : escapeText(arrayLiteral(value));
  }
}

/**
 * Encodes rows as COPY text in pieces of about `pieceChars` characters, so that a large batch is streamed
 * without building one huge string.
 */
export function* copyTextPieces(rows: Iterable<readonly CopyValue[]>, pieceChars = 256 * 1024): Generator<string> {
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + copyField(row[i]);
    line += '\n';
    lines.push(line);
    size += line.length;
    if (size >= pieceChars) {
      yield lines.join('');
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) yield lines.join('');
}

/** The `COPY … FROM` statement for `table (columns)`; identifiers are gridstream's own, quoted anyway. */
export function copyStatement(table: string, columns: readonly string[], source: 'STDIN' | "'/dev/blob'"): string {
  const cols = columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
  return `COPY ${table} (${cols}) FROM ${source}`;
}
