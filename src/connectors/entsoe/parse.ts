import type { TimeZone } from '../../time/index.ts';
import { loadReference } from '../../reference/index.ts';
import type {
  EntsoeAcknowledgement,
  EntsoeDocumentHeader,
  EntsoeParseOutcome,
  EntsoeReject,
  EntsoeSeries,
} from './document.ts';
import { EntsoeError } from './errors.ts';
import { ACKNOWLEDGEMENT_ROOT, AcknowledgementReader } from './acknowledgement-document.ts';
import { MarketDocumentReader, isMarketDocumentRoot } from './market-document.ts';
import type { XmlHandler } from './xml-body.ts';
import { DEFAULT_MAX_BODY_BYTES, StopReading, readXml, readXmlSteps, xmlTextOf } from './xml-body.ts';
import type { CooperativeOptions, Steps } from './cooperative.ts';
import { runCooperatively, runSync } from './cooperative.ts';

export interface EntsoeParseOptions {
  /** Refuse bodies larger than this. @default 128 MiB */
  readonly maxBytes?: number;
  /** Time zone of an area, for calendar resolutions. @default the reference data's time zone of the EIC */
  readonly timeZoneOf?: (eic: string) => TimeZone | undefined;
  /** Time zone when the area is unknown. @default `Europe/Brussels` (ENTSO-E market time, CET/CEST) */
  readonly defaultTimeZone?: TimeZone;
  /** Largest number of steps one Period may expand to. @default 1 000 000 */
  readonly maxStepsPerPeriod?: number;
  /**
   * Largest number of steps the body may expand to (each Period counts its steps or its quarter hours, whichever is
   * more, from its timeInterval and resolution); past it the body is refused as `entsoe.too_many_steps` before
   * anything is expanded. @default 2 000 000 ({@link DEFAULT_MAX_STEPS_PER_DOCUMENT})
   */
  readonly maxStepsPerDocument?: number;
}

/** Default of {@link EntsoeParseOptions.maxStepsPerDocument}. */
export const DEFAULT_MAX_STEPS_PER_DOCUMENT = 2_000_000;

function referenceTimeZone(eic: string): TimeZone | undefined {
  const reference = loadReference();
  return reference.hasEic(eic) ? reference.area(eic).timeZone : undefined;
}

/**
 * Parses an ENTSO-E Transparency Platform response body into canonical series records. Pure: the same bytes give
 * the same result, and nothing is thrown for bad input — an unreadable body is an `invalid` outcome with a typed
 * {@link EntsoeError}; bad points or periods are `rejects` next to everything that could be read.
 *
 * @example
 * const outcome = parseEntsoeDocument(await readFile('A75.xml'));
 * if (outcome.kind === 'series') for (const s of outcome.series) console.log(s.psrType, s.periods.length);
 */
export function parseEntsoeDocument(body: Uint8Array | string, options: EntsoeParseOptions = {}): EntsoeParseOutcome {
  return runSync(parseEntsoeSteps(body, options));
}

/**
 * {@link parseEntsoeDocument} that gives the event loop a turn every few milliseconds of work (see
 * {@link runCooperatively}) and stops when `signal` is aborted (rejecting with its reason).
 */
export function parseEntsoeDocumentAsync(
  body: Uint8Array | string,
  options: EntsoeParseOptions & CooperativeOptions = {},
): Promise<EntsoeParseOutcome> {
  return runCooperatively(parseEntsoeSteps(body, options), options);
}

/** {@link parseEntsoeDocument} as {@link Steps}. */
export function* parseEntsoeSteps(
  body: Uint8Array | string,
  options: EntsoeParseOptions = {},
): Steps<EntsoeParseOutcome> {
  let text: string;
  try {
    text = xmlTextOf(body, options.maxBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (error) {
    return { kind: 'invalid', error: asEntsoeError(error) };
  }
  const documents: EntsoeDocumentHeader[] = [];
  const series: EntsoeSeries[] = [];
  const rejects: EntsoeReject[] = [];
  const acknowledgements: EntsoeAcknowledgement[] = [];
  let unsupported: { root: string; documentType: string | null } | undefined;
  let points = 0;
  let steps = 0;
  let from: number | undefined = 0;
  const budget = { planned: 0, max: options.maxStepsPerDocument ?? DEFAULT_MAX_STEPS_PER_DOCUMENT };
  try {
    while (from !== undefined) {
      if (text[from] !== '<') {
        throw new EntsoeError(
          'entsoe.malformed_xml',
          `unexpected content after the end of document ${documents.length + 1}`,
        );
      }
      const root = rootName(text, from);
      if (root !== undefined && isMarketDocumentRoot(root)) {
        const reader = new MarketDocumentReader({
          documentIndex: documents.length,
          firstSeriesIndex: series.length,
          timeZoneOf: options.timeZoneOf ?? referenceTimeZone,
          defaultTimeZone: options.defaultTimeZone ?? 'Europe/Brussels',
          maxStepsPerPeriod: options.maxStepsPerPeriod ?? 1_000_000,
          budget,
        });
        from = yield* readXmlSteps(text, reader, from);
        yield* reader.finish();
        documents.push(reader.header);
        series.push(...reader.series);
        rejects.push(...reader.rejects);
        points += reader.points;
        steps += reader.steps;
      } else if (root === ACKNOWLEDGEMENT_ROOT) {
        const reader = new AcknowledgementReader();
        from = readXml(text, reader, from);
        acknowledgements.push(reader.result());
      } else if (root !== undefined && root.toLowerCase() === 'html') {
        return {
          kind: 'invalid',
          error: new EntsoeError('entsoe.html_body', 'response body is an HTML page, not an ENTSO-E document'),
        };
      } else {
        unsupported ??= { root: root ?? '?', documentType: readDocumentType(text, from) };
        from = undefined;
      }
    }
  } catch (error) {
    return { kind: 'invalid', error: asEntsoeError(error) };
  }
  if (documents.length > 0) {
    return { kind: 'series', documents, series, rejects, acknowledgements, stats: { points, steps } };
  }
  const ack = acknowledgements[0];
  if (ack !== undefined) {
    const reason = ack.reasons[0] ?? { code: '', text: '' };
    return { kind: 'no_data', reasonCode: reason.code, reasonText: reason.text, acknowledgement: ack };
  }
  if (unsupported !== undefined) return { kind: 'unsupported', ...unsupported };
  return { kind: 'invalid', error: new EntsoeError('entsoe.malformed_xml', 'response body holds no XML document') };
}

/** The local name of the first element, without parsing the document. */
function rootName(text: string, from: number): string | undefined {
  const head = text.slice(from, from + 8192).replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '');
  const m = /<([A-Za-z_][\w.:-]*)[\s>/]/.exec(head);
  const name = m?.[1];
  if (name === undefined) return undefined;
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** Reads the header `<type>` of a document gridstream does not model, checking it is well-formed up to there. */
function readDocumentType(text: string, from: number): string | null {
  let depth = 0;
  let type: string | null = null;
  let buffer = '';
  const handler: XmlHandler = {
    open() {
      depth++;
      buffer = '';
    },
    text(t) {
      buffer += t;
    },
    close(name) {
      if (depth === 2 && name === 'type') {
        type = buffer.trim();
        throw new StopReading();
      }
      depth--;
    },
  };
  try {
    readXml(text, handler, from);
  } catch (error) {
    if (!(error instanceof StopReading)) throw error;
  }
  return type;
}

function asEntsoeError(error: unknown): EntsoeError {
  if (error instanceof EntsoeError) return error;
  return new EntsoeError('entsoe.malformed_xml', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
