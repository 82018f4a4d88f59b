import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { RawEntsoeDocument } from '../../src/contracts/index.ts';
import {
  gridCarbonTopic,
  gridObservationsTopic,
  rawElectricityMapsTopic,
  rawEntsoeTopic,
} from '../../src/contracts/index.ts';
import type { Log } from '../../src/log/index.ts';
import {
  PROCESS_GROUPS,
  CarbonState,
  carbonChunks,
  countPoints,
  observationsFromEntsoe,
} from '../../src/processing/index.ts';
import { STORE_GROUP } from '../../src/storage/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { entsoeFixtureNames, entsoeFixtureText } from './fixtures.ts';
import { lag } from './log.ts';

/** Every shipped ENTSO-E fixture as a raw document, as the ingest side would publish it. */
export function fixtureDocuments(): RawEntsoeDocument[] {
  return entsoeFixtureNames().map((name) => ({
    id: `fixture:${name}`,
    origin: 'file',
    fetchedAt: '2026-11-22T00:00:00.000Z',
    request: null,
    httpStatus: 200,
    body: entsoeFixtureText(name),
    fileName: name,
  }));
}

/** Polls `read` until it returns the same value `stableFor` times in a row (the pipeline has gone quiet). */
export async function settle<T>(
  read: () => Promise<T>,
  options: { stableFor?: number; intervalMs?: number; timeoutMs?: number } = {},
): Promise<T> {
  const { stableFor = 4, intervalMs = 300, timeoutMs = 120_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(await read());
  let same = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const value = await read();
    const text = JSON.stringify(value);
    same = text === last ? same + 1 : 0;
    last = text;
    if (same >= stableFor) return value;
    if (Date.now() > deadline) throw new Error(`did not settle within ${timeoutMs} ms (last: ${text})`);
  }
}

/**
 * Waits until the process and store groups have committed everything on the topics they read, so that what the
 * database holds is final. Counting rows until they stop changing is not enough: a rebalance (a killed member's
 * session running out) or a slow batch can hold them still for seconds.
 */
export async function pipelineDrained(log: Log, timeoutMs = 180_000): Promise<void> {
  const reads = [
    [PROCESS_GROUPS.entsoe, rawEntsoeTopic.name],
    [PROCESS_GROUPS.electricitymaps, rawElectricityMapsTopic.name],
    [STORE_GROUP, gridObservationsTopic.name],
    [STORE_GROUP, gridCarbonTopic.name],
  ] as const;
  await settle(
    async () => {
      let behind = 0;
      for (const [groupId, topic] of reads) behind += await lag(log, groupId, topic);
      return behind === 0 ? 'drained' : Math.random();
    },
    { stableFor: 4, timeoutMs },
  );
}

/**
 * What the pipeline must end up storing, computed directly with the processing functions: distinct keys across
 * all documents (two fixtures hold the same BE prices for one day; the database keeps one row per key).
 */
export function expectedFromFixtures(): { observations: number; carbon: number; rejects: number } {
  const reference = loadReference();
  const state = new CarbonState(reference);
  const keys = new Set<string>();
  let rejects = 0;
  for (const doc of fixtureDocuments()) {
    const r = observationsFromEntsoe(parseEntsoeDocument(doc.body), {
      reference,
      fallbackDocumentId: doc.fileName ?? doc.id,
    });
    for (const c of r.chunks)
      for (const p of c.points)
        keys.add(`${c.zone}|${c.metric}|${c.productionType}|${c.counterpartZone}|${c.qualifier}|${p.t}`);
    rejects += r.rejects.length;
    for (const c of r.chunks) state.add(c);
  }
  return { observations: keys.size, carbon: countPoints(carbonChunks(state.compute(), 'x')), rejects };
}
