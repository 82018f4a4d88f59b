import type { DeadLetter } from '../contracts/index.ts';
import type { DlqEntry } from './dead-letter-ops.ts';

/** Topics whose record key is the zone (grid chunks and raw Electricity Maps answers are keyed by zone). */
const ZONE_KEYED_TOPICS: ReadonlySet<string> = new Set(['grid.observations', 'grid.carbon', 'raw.electricitymaps']);
const ZONE = /^[A-Z][A-Z0-9_]{0,39}$/;

function zonesIn(value: unknown): string[] {
  if (typeof value === 'string') return ZONE.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && ZONE.test(v));
  return [];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The payload as JSON when it is JSON (text, JSON or base64 of JSON), else undefined. */
function payloadJson(letter: DeadLetter): Record<string, unknown> | undefined {
  const text =
    letter.payloadEncoding === 'base64' ? Buffer.from(letter.payload, 'base64').toString('utf8') : letter.payload;
  const start = text.trimStart()[0];
  if (start !== '{') return undefined;
  try {
    return record(JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * The zones a dead letter is about, from what it carries: its position (`zone`), its request (`zones` of an ENTSO-E
 * or Electricity Maps request), the key of a zone-keyed source topic, or its payload (a grid chunk's `zone`, a raw
 * document's `request.zones`, an Electricity Maps answer's `zone`). Empty when none says (readings of devices,
 * invalid envelopes): such a letter is platform-wide.
 */
export function deadLetterZones(entry: DlqEntry): string[] {
  const letter = entry.letter;
  if (letter === null) return [];
  const zones = new Set<string>();
  for (const z of zonesIn(letter.position?.['zone'])) zones.add(z);
  for (const z of zonesIn(letter.request?.['zones'])) zones.add(z);
  for (const z of zonesIn(letter.request?.['zone'])) zones.add(z);
  const source = letter.source;
  if (source !== null && ZONE_KEYED_TOPICS.has(source.topic)) for (const z of zonesIn(source.key)) zones.add(z);
  const payload = payloadJson(letter);
  if (payload !== undefined) {
    for (const z of zonesIn(payload['zone'])) zones.add(z);
    for (const z of zonesIn(record(payload['request'])?.['zones'])) zones.add(z);
  }
  return [...zones].sort();
}
