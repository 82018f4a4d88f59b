import { parseElectricityMaps } from '../connectors/electricitymaps/index.ts';
import { DEFAULT_MAX_STEPS_PER_DOCUMENT, parseEntsoeDocumentAsync } from '../connectors/entsoe/index.ts';
import type { Component } from '../common/index.ts';
import type { GridSeriesChunk, RawElectricityMaps, RawEntsoeDocument } from '../contracts/index.ts';
import { gridCarbonTopic, gridObservationsTopic, rawElectricityMapsTopic, rawEntsoeTopic } from '../contracts/index.ts';
import type { HandleResult, Log, ProcessorItem, ProcessorOutput, ProcessorReject } from '../log/index.ts';
import { createProcessor, output, processorMetrics } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { CarbonWindow } from './carbon/carbon-window.ts';
import { observationsFromElectricityMaps } from './electricitymaps-observations.ts';
import type { ProcessingResult } from './entsoe-observations.ts';
import { observationsFromEntsoeAsync } from './entsoe-observations.ts';

/** Consumer group of the process role's processors (one per input topic). */
export const PROCESS_GROUPS = {
  entsoe: 'gridstream-process-entsoe',
  electricitymaps: 'gridstream-process-electricitymaps',
} as const;

/** What the process role is built from (the runtime's infrastructure has all of it). */
export interface ProcessRoleDeps {
  readonly log: Log;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  /** Scrubs secrets out of dead-letter messages. */
  readonly scrub: (text: string) => string;
  /** The settings the role reads (the runtime's `Config`). @default a document expands to at most 2 000 000 steps */
  readonly config?: { readonly entsoe: { readonly maxStepsPerDocument: number } };
}

/**
 * The `process` role: raw.entsoe → grid.observations + grid.carbon, raw.electricitymaps → grid.observations.
 * Parts of a document that cannot become observations are dead-lettered to dlq-processing with their position;
 * the rest of the document goes on.
 */
export function processRole(deps: ProcessRoleDeps): Component[] {
  const { log, logger, reference, metrics, scrub } = deps;
  const maxSteps = deps.config?.entsoe.maxStepsPerDocument ?? DEFAULT_MAX_STEPS_PER_DOCUMENT;
  const carbon = new CarbonWindow(reference);
  let bootstrapped = false;

  const entsoe = createProcessor<RawEntsoeDocument>({
    name: 'process-entsoe',
    log,
    groupId: PROCESS_GROUPS.entsoe,
    input: rawEntsoeTopic,
    stage: 'processing',
    logger: logger.child({ component: 'process-entsoe' }),
    metrics: processorMetrics(metrics, 'processing'),
    scrub,
    // Raw documents are large (up to a year of data): small batches keep memory bounded.
    maxBatchRecords: 20,
    async handle(items, ctx) {
      if (!bootstrapped) {
        await carbon.bootstrap(log, logger, { signal: ctx.signal });
        bootstrapped = true;
      }
      const observations: GridSeriesChunk[] = [];
      const rejects: ProcessorReject[] = [];
      // Cooperatively: a document of millions of steps gives the event loop a turn every few milliseconds (the
      // embedded process answers HTTP meanwhile) and stops when the processor's signal aborts.
      const cooperative = { signal: ctx.signal };
      for (const item of items) {
        const parsed = await parseEntsoeDocumentAsync(item.value.body, {
          ...cooperative,
          maxStepsPerDocument: maxSteps,
        });
        const result = await observationsFromEntsoeAsync(
          parsed,
          {
            reference,
            fallbackDocumentId: item.value.fileName ?? item.value.id,
            request: item.value.request,
            receivedAt: item.value.fetchedAt,
            maxSlots: maxSteps,
          },
          cooperative,
        );
        collect(item, result, observations, rejects);
        carbon.add(result.chunks);
      }
      const first = items[0]?.record;
      const { chunks: carbonOut } = carbon.flush(
        first === undefined ? 'carbon' : `carbon:${first.topic}/${first.partition}/${first.offset}`,
      );
      return { outputs: [...outputsOf(observations), output(gridCarbonTopic, carbonOut)], rejects };
    },
  });

  const electricityMaps = createProcessor<RawElectricityMaps>({
    name: 'process-electricitymaps',
    log,
    groupId: PROCESS_GROUPS.electricitymaps,
    input: rawElectricityMapsTopic,
    stage: 'processing',
    logger: logger.child({ component: 'process-electricitymaps' }),
    metrics: processorMetrics(metrics, 'processing'),
    scrub,
    handle(items): Promise<HandleResult> {
      const observations: GridSeriesChunk[] = [];
      const rejects: ProcessorReject[] = [];
      for (const item of items) {
        const result = observationsFromElectricityMaps(parseElectricityMaps(item.value.body), {
          reference,
          documentId: item.value.fileName ?? item.value.id,
          issuedAt: item.value.fetchedAt,
        });
        collect(item, result, observations, rejects);
      }
      return Promise.resolve({ outputs: outputsOf(observations), rejects });
    },
  });

  return [entsoe, electricityMaps];
}

/** Chunks produced per call: each produce is awaited, so a document of 2 M observations is encoded in slices. */
const CHUNKS_PER_OUTPUT = 20;

function outputsOf(chunks: readonly GridSeriesChunk[]): ProcessorOutput[] {
  const outputs: ProcessorOutput[] = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_OUTPUT) {
    outputs.push(output(gridObservationsTopic, chunks.slice(i, i + CHUNKS_PER_OUTPUT)));
  }
  return outputs;
}

function collect<T extends { id: string; fileName?: string | undefined }>(
  item: ProcessorItem<T>,
  result: ProcessingResult,
  observations: GridSeriesChunk[],
  rejects: ProcessorReject[],
): void {
  observations.push(...result.chunks);
  for (const r of result.rejects) {
    rejects.push({
      record: item.record,
      reason: r.code,
      message: r.message,
      position: { ...r.position, rawId: item.value.id, fileName: item.value.fileName ?? null },
    });
  }
}
