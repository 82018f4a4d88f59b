import { SaxesParser } from 'saxes';
import type { Steps } from './cooperative.ts';
import { runSync } from './cooperative.ts';
import { EntsoeError } from './errors.ts';

/** Default maximum response body size: a year of 15-minute data for every production type of one zone is ~60 MB. */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024;

/** Receives the events of one XML document. Local names only: namespace prefixes and versions are ignored. */
export interface XmlHandler {
  open(localName: string, attributes: Readonly<Record<string, string>>, line: number): void;
  text(text: string): void;
  close(localName: string): void;
}

/** Thrown by a handler to stop reading a document early (e.g. once an unsupported document's type is known). */
export class StopReading extends Error {}

const decoders = new Map<string, TextDecoder>();

/**
 * Turns a response body into XML text, refusing what must not be parsed: bodies over `maxBytes`, empty or
 * non-XML bodies, HTML pages, zip archives, undecodable bytes and DOCTYPE/ENTITY declarations (XXE, "billion
 * laughs"). The text may hold several concatenated documents; {@link readXml} reads them one at a time.
 */
export function xmlTextOf(body: Uint8Array | string, maxBytes = DEFAULT_MAX_BODY_BYTES): string {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > maxBytes) {
    throw new EntsoeError(
      'entsoe.body_too_large',
      `response body of ${size} bytes exceeds the limit of ${maxBytes} bytes`,
      {
        details: { bytes: size, maxBytes },
      },
    );
  }
  if (size === 0) throw new EntsoeError('entsoe.empty_body', 'response body is empty');
  if (typeof body !== 'string' && body[0] === 0x50 && body[1] === 0x4b && body[2] === 0x03 && body[3] === 0x04) {
    throw new EntsoeError('entsoe.zip_body', 'response body is a zip archive; unpack it before parsing');
  }
  const text = typeof body === 'string' ? body : decode(body);
  const start = firstNonSpace(text, 0);
  if (start === -1) throw new EntsoeError('entsoe.empty_body', 'response body holds only whitespace');
  const head = text.slice(start, start + 512).toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || /^<\?xml[^>]*>\s*<html/.test(head)) {
    throw htmlError(text);
  }
  if (text[start] !== '<') {
    throw new EntsoeError(
      'entsoe.not_xml',
      `response body is not XML (starts with ${JSON.stringify(text.slice(start, start + 40))})`,
    );
  }
  return start === 0 ? text : text.slice(start);
}

/**
 * DOCTYPE (and with it ENTITY) declarations may only appear in a document's prolog, before the root element:
 * look there, cheaply. One hiding behind a long prolog is still refused by the parser's `doctype` event.
 */
export function refuseDeclarations(text: string, from: number): void {
  const prolog = text.slice(from, from + 64 * 1024);
  const root = prolog.search(/<[A-Za-z_]/);
  if (/<!(DOCTYPE|ENTITY)/i.test(root === -1 ? prolog : prolog.slice(0, root))) {
    throw new EntsoeError(
      'entsoe.doctype_refused',
      'DOCTYPE and ENTITY declarations are refused (XXE / entity expansion)',
    );
  }
}

/**
 * Parses the XML document starting at `from` in `text` with saxes (strict, well-formedness checked, no DTD
 * processing), passing local names to `handler`. Returns the index where a further concatenated document starts
 * (two complete documents in one body, each with its own declaration, as some clients and mocks produce), or
 * `undefined` when the text ends with this document. A truncated or malformed document throws `malformed_xml`.
 */
export function readXml(text: string, handler: XmlHandler, from = 0): number | undefined {
  return runSync(readXmlSteps(text, handler, from));
}

/** Characters given to the XML tokenizer between two checkpoints of {@link readXmlSteps}. */
const XML_SLICE_CHARS = 256 * 1024;

/** {@link readXml} as {@link Steps}: pauses every 256 K characters, so a 100 MB body does not hold the event loop. */
export function* readXmlSteps(text: string, handler: XmlHandler, from = 0): Steps<number | undefined> {
  refuseDeclarations(text, from);
  const parser = new SaxesParser({ position: true });
  let depth = 0;
  let rootEnd: number | undefined;
  parser.on('doctype', () => {
    throw new EntsoeError('entsoe.doctype_refused', 'DOCTYPE declarations are refused');
  });
  parser.on('opentag', (tag) => {
    depth++;
    handler.open(localName(tag.name), tag.attributes as Record<string, string>, parser.line);
  });
  parser.on('text', handler.text.bind(handler));
  parser.on('cdata', handler.text.bind(handler));
  parser.on('closetag', (tag) => {
    handler.close(localName(tag.name));
    if (--depth === 0) rootEnd = parser.position;
  });
  let failure: unknown;
  let failed = false;
  for (let at = from; at < text.length && !failed; at += XML_SLICE_CHARS) {
    try {
      parser.write(text.slice(at, Math.min(text.length, at + XML_SLICE_CHARS)));
    } catch (error) {
      failure = error;
      failed = true;
    }
    if (!failed && at + XML_SLICE_CHARS < text.length) yield;
  }
  if (!failed) {
    try {
      parser.close();
      return undefined;
    } catch (error) {
      failure = error;
    }
  }
  if (failure instanceof StopReading || failure instanceof EntsoeError) throw failure;
  if (rootEnd !== undefined) {
    // The root element closed and something followed: another document, or junk (reported when read).
    const next = firstNonSpace(text, from + rootEnd);
    if (next !== -1) return next;
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  throw new EntsoeError('entsoe.malformed_xml', `malformed XML: ${message}`, {
    cause: failure,
    details: { line: parser.line },
  });
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function decode(bytes: Uint8Array): string {
  // Honour a non-UTF-8 encoding named in the XML declaration; ENTSO-E itself always sends UTF-8.
  const prolog = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const declared =
    /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(prolog)?.[1]?.toLowerCase() ?? 'utf-8';
  const label = declared === 'utf8' ? 'utf-8' : declared;
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
    } catch (cause) {
      throw new EntsoeError('entsoe.unsupported_encoding', `unsupported XML encoding "${declared}"`, { cause });
    }
    decoders.set(label, decoder);
  }
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new EntsoeError('entsoe.unsupported_encoding', `response body is not valid ${label}`, { cause });
  }
}

function firstNonSpace(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) return i;
  }
  return -1;
}

function htmlError(text: string): EntsoeError {
  const visible = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/(security_?token\s*[=:]\s*)[^&\s"'<]+/gi, '$1[redacted]')
    .trim()
    .slice(0, 200);
  return new EntsoeError('entsoe.html_body', `response body is an HTML page, not an ENTSO-E document: "${visible}"`, {
    details: { excerpt: visible },
  });
}
