/**
 * Pretty log lines for a terminal: `20:41:07 WARN  scheduler  offline replay of bundled documents  documents=12`.
 * Time of day only, the level, the component, the message, then the other fields as `key=value`; an error shows
 * its message (its stack only at debug and trace). JSON stays the format for files, pipes and log collectors.
 */

const LEVEL_COLOURS: Readonly<Record<string, string>> = {
  trace: '\u001b[90m',
  debug: '\u001b[36m',
  info: '\u001b[32m',
  warn: '\u001b[33m',
  error: '\u001b[31m',
  fatal: '\u001b[41m\u001b[97m',
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
/** Fields every line has (shown in their own place) or that say nothing on a terminal. */
const OMITTED = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name', 'component', 'v']);

/** One JSON log line (pino's) as one short terminal line; a line that is not JSON passes unchanged. */
export function prettyLine(json: string, options: { readonly colour: boolean; readonly stacks: boolean }): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return json;
    record = parsed as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof record['level'] === 'string' ? record['level'] : 'info';
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 19) : '';
  const component = typeof record['component'] === 'string' ? record['component'] : '';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (OMITTED.has(key) || value === undefined) continue;
    if ((key === 'err' || key === 'error') && typeof value === 'object' && value !== null) {
      const e = value as Record<string, unknown>;
      const code = typeof e['code'] === 'string' ? `${e['code']}: ` : '';
      const message = typeof e['message'] === 'string' ? e['message'] : '';
      fields.push(`${key}=${JSON.stringify(`${code}${message}`)}`);
      if (options.stacks && typeof e['stack'] === 'string') stack = e['stack'];
      continue;
    }
    fields.push(`${key}=${formatValue(value)}`);
  }
  const paint = (code: string | undefined, text: string): string =>
    options.colour && code !== undefined ? `${code}${text}${RESET}` : text;
  const parts = [
    paint(DIM, time),
    paint(LEVEL_COLOURS[level], level.toUpperCase().padEnd(5)),
    ...(component === '' ? [] : [paint(DIM, component)]),
    msg,
    ...(fields.length === 0 ? [] : [paint(DIM, fields.join(' '))]),
  ];
  return `${parts.join('  ')}\n${stack === undefined ? '' : `${stack}\n`}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}
