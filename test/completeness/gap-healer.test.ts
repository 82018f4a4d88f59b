import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { alertRulesOf } from '../../src/alerts/index.ts';
import type { Gap, GapHealer } from '../../src/completeness/index.ts';
import { gapHealer, gapSummary, listGaps } from '../../src/completeness/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { MemoryPublisher } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { observationsFromEntsoe } from '../../src/processing/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { writeObservations } from '../../src/storage/index.ts';
import { chunksOf, reference } from '../helpers/api.ts';
import type { FakeRequest } from '../helpers/fake-entsoe.ts';
import { FakeEntsoe, fakeEntsoeIngestor } from '../helpers/fake-entsoe.ts';
import { openTestDb } from '../storage/helpers.ts';

// Real actual generation of Luxembourg, 2024-05-21T10:00Z – 2024-05-24T10:00Z, quarter-hourly.
const DOC = 'A75_LU_PT15M_A01_2024-05-21.xml';
const LU_EIC = reference.zone('LU').eic;
const MIN = 60_000;
const T = (iso: string): number => Date.parse(iso);

/** Slots of LU's actual generation stored in `[from, to)` (distinct quarter hours). */
async function slotsIn(db: Db, from: string, to: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(DISTINCT slot_start)::integer AS n FROM grid_observations
     WHERE zone = 'LU' AND metric = 'generation_actual' AND slot_start >= $1 AND slot_start < $2`,
    [new Date(from), new Date(to)],
  );
  return rows[0]?.n ?? 0;
}

/** Processes and stores what the healer's requests published, as the process and store roles would. */
async function storePublished(db: Db, published: MemoryPublisher<RawEntsoeDocument>): Promise<number> {
  let points = 0;
  for (const doc of published.values.splice(0)) {
    const { chunks } = observationsFromEntsoe(parseEntsoeDocument(doc.body), {
      reference,
      fallbackDocumentId: doc.id,
    });
    await writeObservations(db, chunks);
    points += chunks.reduce((n, c) => n + c.points.length, 0);
  }
  return points;
}

const rangeOf = (r: FakeRequest): string => `${r.params['periodStart']}-${r.params['periodEnd']}`;

/** Deletes LU's stored actual generation in `[from, to)`: a range made missing on purpose. Returns the rows gone. */
async function removeGeneration(db: Db, from: string, to: string): Promise<number> {
  const r = await db.query(
    `DELETE FROM grid_observations WHERE zone = 'LU' AND metric = 'generation_actual'
       AND slot_start >= $1 AND slot_start < $2`,
    [new Date(from), new Date(to)],
  );
  return r.rowCount;
}

/** The local ENTSO-E service replaying the real documents (closed after the test), and an ingestor asking it. */
async function fakeUpstream(t: TestContext) {
  const fake = await FakeEntsoe.start();
  t.after(() => fake.close());
  const published = new MemoryPublisher<RawEntsoeDocument>();
  const deadLetters = new MemoryPublisher<DeadLetter>();
  const ingestor = fakeEntsoeIngestor(fake.url, silentLogger(), published, deadLetters);
  return { fake, ingestor, published, deadLetters };
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`self-healing completeness (${kind})`, () => {
    it('a deliberately removed range is found as a gap, asked for exactly, filled; a range the source never has ends as "source has none"', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      await writeObservations(db, chunksOf(DOC));
      const removed = await removeGeneration(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z');
      assert.ok(removed > 0);
      assert.equal(await slotsIn(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z'), 0);

      const { fake, ingestor, published, deadLetters } = await fakeUpstream(t);
      // The documents are historic: the model learns nothing from them (arrivals more than 7 days after the slot are
      // backfills), so the rule file says what is expected — as an operator's `publication` entry would.
      const rules = alertRulesOf({
        publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
      });
      let now = T('2024-05-24T12:00Z'); // the document's end + delay + margin: every slot of it is due
      const healer: GapHealer = gapHealer({
        db,
        logger: silentLogger(),
        reference,
        rules,
        ingest: (request, o) => ingestor.ingest(request, o),
        settings: { maxTries: 3, retryBaseMs: MIN, retryMaxMs: 10 * MIN, requestsPerRun: 5, requestsPerHour: 20 },
        now: () => now,
      });
      t.after(() => healer.stop());

      const gaps = async (): Promise<Gap[]> => listGaps(db, { zones: ['LU'] });

      // Pass 1: the removed range is the one gap, asked for with exactly its range.
      const first = await healer.runOnce();
      assert.deepEqual({ found: first.found, requested: first.requested }, { found: 1, requested: 1 });
      assert.equal(fake.requests.length, 1);
      const asked = fake.requests[0]!;
      assert.equal(asked.params['documentType'], 'A75');
      assert.equal(asked.params['processType'], 'A16');
      assert.equal(asked.params['in_Domain'], LU_EIC);
      assert.equal(rangeOf(asked), '202405221200-202405221500');
      assert.equal(asked.answer, DOC);
      let [gap] = await gaps();
      assert.ok(gap !== undefined);
      assert.deepEqual(
        [gap.state, gap.tries, gap.start, gap.end],
        ['backfilling', 1, T('2024-05-22T12:00Z'), T('2024-05-22T15:00Z')],
      );

      // What was fetched is processed and stored; the next pass sees the slots back and the gap filled.
      assert.ok((await storePublished(db, published)) > 0);
      assert.equal(await slotsIn(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z'), 12);
      const second = await healer.runOnce();
      assert.equal(second.filled, 1);
      assert.equal(second.requested, 0);
      [gap] = await gaps();
      assert.equal(gap?.state, 'filled');
      assert.equal(fake.requests.length, 1);

      // Later: the slots after the document's end are due and missing; the fake (like the service) has none for them.
      const later = T('2024-05-24T15:00Z');
      now = later;
      const third = await healer.runOnce();
      assert.deepEqual({ found: third.found, requested: third.requested }, { found: 1, requested: 1 });
      assert.equal(rangeOf(fake.requests.at(-1)!), '202405241000-202405241300');
      assert.equal(fake.requests.at(-1)!.answer, 'no-data');
      const open = async (): Promise<Gap | undefined> => (await gaps()).find((g) => g.state !== 'filled');
      assert.equal((await open())?.state, 'backfilling');
      assert.equal((await open())?.lastOutcome, 'no matching data');

      // Backoff: not asked again before its wait (1 min, then 2 min) is over.
      now = later + 30_000;
      assert.equal((await healer.runOnce()).requested, 0);
      now = later + MIN;
      assert.equal((await healer.runOnce()).requested, 1);
      now = later + 2 * MIN;
      assert.equal((await healer.runOnce()).requested, 0);
      now = later + 3 * MIN;
      assert.equal((await healer.runOnce()).requested, 1);
      assert.equal((await open())?.tries, 3);
      // Asked three times (maxTries): the next due look marks it and asks no more.
      now = later + 7 * MIN;
      const last = await healer.runOnce();
      assert.deepEqual({ none: last.sourceHasNone, requested: last.requested }, { none: 1, requested: 0 });
      const none = (await gaps()).find((g) => g.state === 'source_has_none');
      assert.ok(none !== undefined);
      assert.deepEqual([none.start, none.end, none.tries], [T('2024-05-24T10:00Z'), T('2024-05-24T13:00Z'), 3]);
      now = later + 12 * MIN;
      assert.equal((await healer.runOnce()).requested, 0);

      const trailing = fake.requests.slice(1);
      assert.deepEqual(
        trailing.map((r) => [rangeOf(r), r.answer]),
        Array.from({ length: 3 }, () => ['202405241000-202405241300', 'no-data']),
      );
      assert.equal(deadLetters.values.length, 0);
      const summary = await gapSummary(db, now);
      assert.deepEqual(summary.states, { pending: 0, backfilling: 0, filled: 1, source_has_none: 1 });
      // The first request (at 12:00) is three hours back: the hour holds the three asks of the trailing gap.
      assert.equal(summary.requestsLastHour, 3);
    });

    it('a series only the rule file expects (nothing of it ever stored) is a gap over the lookback', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const { fake, ingestor } = await fakeUpstream(t);
      const healer = gapHealer({
        db,
        logger: silentLogger(),
        reference,
        rules: alertRulesOf({
          publication: [{ source: 'entsoe', metric: 'load_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
        }),
        ingest: (request, o) => ingestor.ingest(request, o),
        settings: { lookbackMs: 2 * 86_400_000 },
        now: () => T('2024-05-24T12:00Z'),
      });
      const pass = await healer.runOnce();
      assert.deepEqual([pass.found, pass.requested], [1, 1]);
      const [asked] = fake.requests;
      assert.ok(asked !== undefined);
      assert.deepEqual(
        [
          asked.params['documentType'],
          asked.params['processType'],
          asked.params['outBiddingZone_Domain'],
          rangeOf(asked),
        ],
        ['A65', 'A16', LU_EIC, '202405221200-202405241000'],
      );
      const [gap] = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual([gap?.metric, gap?.state, gap?.lastOutcome], ['load_actual', 'backfilling', 'no matching data']);
    });

    it('keeps to the request budget per pass and per hour, and only asks within the leader term', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      await writeObservations(db, chunksOf(DOC));
      // Three separate removed ranges: three gaps.
      for (const [from, to] of [
        ['2024-05-22T00:00Z', '2024-05-22T01:00Z'],
        ['2024-05-22T06:00Z', '2024-05-22T07:00Z'],
        ['2024-05-22T12:00Z', '2024-05-22T13:00Z'],
      ] as const) {
        await removeGeneration(db, from, to);
      }
      const { fake, ingestor } = await fakeUpstream(t);
      // The service answers, but never with these slots (every request gets "no matching data").
      fake.fail('no-data', { times: 1000 });
      const term = new AbortController();
      let leading = false;
      let endTermOnAnswer = false;
      let now = T('2024-05-24T12:00Z');
      const healer = gapHealer({
        db,
        logger: silentLogger(),
        reference,
        rules: alertRulesOf({
          publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'LU', delay: 'PT1H' }],
        }),
        ingest: async (request, o) => {
          const answer = await ingestor.ingest(request, o);
          if (endTermOnAnswer) term.abort(); // leadership ends while the pass is under way
          return answer;
        },
        settings: { maxTries: 5, retryBaseMs: MIN, retryMaxMs: MIN, requestsPerRun: 2, requestsPerHour: 3 },
        leaderTerm: () => (leading ? term.signal : undefined),
        now: () => now,
      });
      assert.equal((await healer.runOnce()).found, 0, 'not the leader: nothing is looked at');
      leading = true;
      const first = await healer.runOnce();
      assert.deepEqual([first.found, first.requested, first.deferred], [3, 2, 1]);
      now += MIN;
      const second = await healer.runOnce();
      // One left in the hour's budget of three.
      assert.deepEqual([second.requested, second.deferred], [1, 2]);
      now += 61 * MIN;
      assert.equal((await healer.runOnce()).requested, 2);
      assert.equal(fake.requests.length, 5);
      assert.deepEqual([...new Set(fake.requests.map(rangeOf))].sort(), [
        '202405220000-202405220100',
        '202405220600-202405220700',
        '202405221200-202405221300',
      ]);

      // The term ends after the first answer of a pass that may ask twice: the pass stops there, the answer counts.
      now += 61 * MIN;
      const triesBefore = (await listGaps(db, { zones: ['LU'] })).reduce((n, g) => n + g.tries, 0);
      endTermOnAnswer = true;
      const cut = await healer.runOnce();
      assert.equal(cut.requested, 1);
      assert.equal(fake.requests.length, 6);
      assert.equal(
        (await listGaps(db, { zones: ['LU'] })).reduce((n, g) => n + g.tries, 0),
        triesBefore + 1,
      );
      now += 61 * MIN;
      assert.equal((await healer.runOnce()).found, 0, 'the term has ended: nothing is looked at');
      assert.equal(fake.requests.length, 6);
    });

    it('two metrics of one item missing over the same range are one request in a pass, a try for each', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const { fake, ingestor } = await fakeUpstream(t);
      fake.fail('no-data', { times: 100 });
      // Actual generation and consumption are both A75: expected by the rule file, nothing of either stored.
      const healer = gapHealer({
        db,
        logger: silentLogger(),
        reference,
        rules: alertRulesOf({
          publication: ['generation_actual', 'consumption_actual'].map((metric) => ({
            source: 'entsoe',
            metric,
            zone: 'LU',
            delay: 'PT1H',
            margin: 'PT1H',
          })),
        }),
        ingest: (request, o) => ingestor.ingest(request, o),
        settings: { lookbackMs: 2 * 86_400_000 },
        now: () => T('2024-05-24T12:00Z'),
      });
      const pass = await healer.runOnce();
      assert.deepEqual([pass.found, pass.requested], [2, 1]);
      assert.deepEqual(
        fake.requests.map((r) => [r.params['documentType'], rangeOf(r)]),
        [['A75', '202405221200-202405241000']],
      );
      const stored = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual(stored.map((g) => [g.metric, g.state, g.tries]).sort(), [
        ['consumption_actual', 'backfilling', 1],
        ['generation_actual', 'backfilling', 1],
      ]);
    });

    it('the absence going on past a "source has none" range is asked for once more after the longest wait', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const { fake, ingestor } = await fakeUpstream(t);
      fake.fail('no-data', { times: 100 });
      // Luxembourg's actual load is expected by the rule file; the source (the fake) never has any.
      let now = T('2024-05-24T12:00Z');
      const healer = gapHealer({
        db,
        logger: silentLogger(),
        reference,
        rules: alertRulesOf({
          publication: [{ source: 'entsoe', metric: 'load_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
        }),
        ingest: (request, o) => ingestor.ingest(request, o),
        settings: { lookbackMs: 86_400_000, maxTries: 2, retryBaseMs: MIN, retryMaxMs: 30 * MIN },
        now: () => now,
      });
      assert.equal((await healer.runOnce()).requested, 1);
      now += MIN;
      assert.equal((await healer.runOnce()).requested, 1);
      now += 2 * MIN;
      assert.equal((await healer.runOnce()).sourceHasNone, 1);
      assert.equal(fake.requests.length, 2);
      // An hour later, the hour after the first gap is due and missing too: one gap more, asked once, 30 min on.
      now += 60 * MIN;
      const found = await healer.runOnce();
      assert.deepEqual([found.found, found.requested], [1, 0]);
      const next = (await listGaps(db, { zones: ['LU'], states: ['pending'] }))[0];
      assert.ok(next !== undefined);
      assert.deepEqual([next.start, next.tries, next.nextAttemptAt], [T('2024-05-24T10:00Z'), 1, now + 30 * MIN]);
      now += 30 * MIN;
      assert.equal((await healer.runOnce()).requested, 1);
      now += 4 * 30 * MIN;
      const last = await healer.runOnce();
      assert.deepEqual([last.sourceHasNone, last.requested], [1, 0]);
      assert.equal(fake.requests.length, 3);
    });

    it('two healers in a pass at once (an old and a new leader overlapping) ask once per range and keep one gap', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      await writeObservations(db, chunksOf(DOC));
      await removeGeneration(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z');
      const { fake, ingestor } = await fakeUpstream(t);
      fake.fail('no-data', { times: 1000 });
      let now = T('2024-05-24T12:00Z');
      const replica = (): GapHealer =>
        gapHealer({
          db,
          logger: silentLogger(),
          reference,
          rules: alertRulesOf({
            publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
          }),
          ingest: (request, o) => ingestor.ingest(request, o),
          settings: { retryBaseMs: MIN, retryMaxMs: MIN, requestsPerRun: 5, requestsPerHour: 20 },
          now: () => now,
        });
      const [a, b] = [replica(), replica()];
      const reports = await Promise.all([a.runOnce(), b.runOnce()]);
      assert.equal(reports[0].requested + reports[1].requested, 1);
      assert.deepEqual(
        fake.requests.map((r) => [rangeOf(r), r.answer]),
        [['202405221200-202405221500', 'no-data']],
      );
      const stored = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual(
        stored.map((g) => [g.start, g.end, g.state, g.tries]),
        [[T('2024-05-22T12:00Z'), T('2024-05-22T15:00Z'), 'backfilling', 1]],
      );
      // Both again once the wait is over: still one gap, asked once more, one try more.
      now += MIN;
      await Promise.all([a.runOnce(), b.runOnce()]);
      assert.equal(fake.requests.length, 2);
      const after = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual(
        after.map((g) => [g.state, g.tries]),
        [['backfilling', 2]],
      );
    });

    it('a gap whose series left the model is looked at again: its data back, it is filled and not asked for', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const chunks = chunksOf(DOC);
      await writeObservations(db, chunks);
      await removeGeneration(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z');
      const { fake, ingestor } = await fakeUpstream(t);
      fake.fail('no-data', { times: 1000 });
      let now = T('2024-05-24T12:00Z');
      const healerWith = (rules: ReturnType<typeof alertRulesOf>): GapHealer =>
        gapHealer({
          db,
          logger: silentLogger(),
          reference,
          rules,
          ingest: (request, o) => ingestor.ingest(request, o),
          settings: { maxTries: 2, retryBaseMs: MIN, retryMaxMs: MIN },
          now: () => now,
        });
      const expected = alertRulesOf({
        publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
      });
      assert.equal((await healerWith(expected).runOnce()).requested, 1);
      assert.equal(fake.requests.length, 1);
      // The slots come back (the cron jobs' look back), and the rule that expected the series is gone.
      await writeObservations(db, chunks);
      const orphaned = healerWith(alertRulesOf({}));
      const reports = [];
      for (let i = 0; i < 3; i++) {
        now += 2 * MIN;
        reports.push(await orphaned.runOnce());
      }
      assert.deepEqual(
        reports.map((r) => [r.series, r.filled, r.requested, r.sourceHasNone]),
        [
          [0, 1, 0, 0],
          [0, 0, 0, 0],
          [0, 0, 0, 0],
        ],
      );
      assert.equal(fake.requests.length, 1, 'not asked for again');
      const stored = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual(
        stored.map((g) => g.state),
        ['filled'],
      );
    });

    it('a due gap whose slots came meanwhile is filled, not asked for; one partly back is asked for what is missing', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const chunks = chunksOf(DOC);
      await writeObservations(db, chunks);
      await removeGeneration(db, '2024-05-22T12:00Z', '2024-05-22T15:00Z');
      const { fake, ingestor } = await fakeUpstream(t);
      fake.fail('no-data', { times: 1000 });
      let now = T('2024-05-24T12:00Z');
      // A series the healer looks at but finds no window for any more (its delay grew past the lookback): its
      // gaps are only looked at when due.
      const healerWith = (delay: string): GapHealer =>
        gapHealer({
          db,
          logger: silentLogger(),
          reference,
          rules: alertRulesOf({
            publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'LU', delay, margin: 'PT1H' }],
          }),
          ingest: (request, o) => ingestor.ingest(request, o),
          settings: { maxTries: 3, retryBaseMs: MIN, retryMaxMs: MIN },
          now: () => now,
        });
      assert.equal((await healerWith('PT1H').runOnce()).requested, 1);
      // 12:00–13:00 comes back; the rest stays missing.
      await writeObservations(
        db,
        chunks
          .map((c) => ({
            ...c,
            points: c.points.filter((p) => T(p.t) >= T('2024-05-22T12:00Z') && T(p.t) < T('2024-05-22T13:00Z')),
          }))
          .filter((c) => c.points.length > 0),
      );
      now += MIN;
      const pass = await healerWith('P30D').runOnce();
      assert.deepEqual([pass.series, pass.requested], [0, 1]);
      assert.equal(rangeOf(fake.requests.at(-1)!), '202405221300-202405221500');
      const [gap] = await listGaps(db, { zones: ['LU'] });
      assert.deepEqual([gap?.start, gap?.end, gap?.tries], [T('2024-05-22T13:00Z'), T('2024-05-22T15:00Z'), 2]);
    });
  });
}
