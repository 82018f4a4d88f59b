import { parseEntsoeDocument } from '../connectors/entsoe/index.ts';
import { parseElectricityMaps } from '../connectors/electricitymaps/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { ProcessingResult } from './entsoe-observations.ts';
import { observationsFromEntsoe } from './entsoe-observations.ts';
import { observationsFromElectricityMaps } from './electricitymaps-observations.ts';

export interface ProcessedFile extends ProcessingResult {
  readonly format: 'entsoe' | 'electricitymaps';
}

/**
 * Observations from the body of one source file: JSON is read as an Electricity Maps response, anything else as
 * an ENTSO-E document. Never throws for bad content: it comes back as rejects.
 */
export function processFileBody(body: Uint8Array, name: string, reference: ReferenceData): ProcessedFile {
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
  return {
    format: 'entsoe',
    ...observationsFromEntsoe(parseEntsoeDocument(body), { reference, fallbackDocumentId: name }),
  };
}
