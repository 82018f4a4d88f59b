import type { CooperativeOptions } from '../connectors/entsoe/index.ts';
import {
  DEFAULT_MAX_STEPS_PER_DOCUMENT,
  parseEntsoeDocument,
  parseEntsoeDocumentAsync,
} from '../connectors/entsoe/index.ts';
import { parseElectricityMaps } from '../connectors/electricitymaps/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { ProcessingResult } from './entsoe-observations.ts';
import { observationsFromEntsoe, observationsFromEntsoeAsync } from './entsoe-observations.ts';
import { observationsFromElectricityMaps } from './electricitymaps-observations.ts';

export interface ProcessedFile extends ProcessingResult {
  readonly format: 'entsoe' | 'electricitymaps';
}

/**
 * Observations from the body of one source file: JSON is read as an Electricity Maps response, anything else as
 * an ENTSO-E document. Never throws for bad content: it comes back as rejects.
 */
export function processFileBody(body: Uint8Array, name: string, reference: ReferenceData): ProcessedFile {
  const json = readJsonFile(body, name, reference);
  if (json !== undefined) return json;
  return {
    format: 'entsoe',
    ...observationsFromEntsoe(parseEntsoeDocument(body), { reference, fallbackDocumentId: name }),
  };
}

/**
 * {@link processFileBody} that gives the event loop a turn every few milliseconds of work and stops when
 * `options.signal` aborts (rejecting with its reason), for the CLI and long documents.
 */
export async function processFileBodyAsync(
  body: Uint8Array,
  name: string,
  reference: ReferenceData,
  options: CooperativeOptions & { readonly maxStepsPerDocument?: number } = {},
): Promise<ProcessedFile> {
  const json = readJsonFile(body, name, reference);
  if (json !== undefined) return json;
  const maxSteps = options.maxStepsPerDocument ?? DEFAULT_MAX_STEPS_PER_DOCUMENT;
  const parsed = await parseEntsoeDocumentAsync(body, { ...options, maxStepsPerDocument: maxSteps });
  return {
    format: 'entsoe',
    ...(await observationsFromEntsoeAsync(
      parsed,
      { reference, fallbackDocumentId: name, maxSlots: maxSteps },
      options,
    )),
  };
}

/** An Electricity Maps file (JSON), or `undefined` for anything else. */
function readJsonFile(body: Uint8Array, name: string, reference: ReferenceData): ProcessedFile | undefined {
  const head = Buffer.from(body.subarray(0, 64)).toString('utf8').trimStart();
  if (head.startsWith('{') || head.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (error) {
      return {
        format: 'electricitymaps',
        chunks: [],
        rejects: [
          {
            code: 'processing.invalid_document',
            message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
            position: { file: name },
          },
        ],
        stats: { stepsIn: 0, stepsUsed: 0, stepsRejected: 0, observations: 0, overlapsResolved: 0 },
      };
    }
    return {
      format: 'electricitymaps',
      ...observationsFromElectricityMaps(parseElectricityMaps(json), { reference, documentId: name }),
    };
  }
  return undefined;
}
