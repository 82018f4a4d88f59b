import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alertRulesOf } from '../../src/alerts/index.ts';
import { createApiKey } from '../../src/api/index.ts';
import { gapHealer } from '../../src/completeness/index.ts';
import type { DeadLetter, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { MemoryPublisher } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { reference, startTestApi } from '../helpers/api.ts';
import { FakeEntsoe, fakeEntsoeIngestor } from '../helpers/fake-entsoe.ts';

describe('GET /api/v1/completeness and /api/v1/admin/connectors: gaps and their state', () => {
  let api: TestApi;
  let fake: FakeEntsoe;
  before(async () => {
    api = await startTestApi();
    fake = await FakeEntsoe.start();
    // The real FI actual generation (2023-05-08T07:00Z – 2023-05-10T07:00Z) with three hours removed.
    await api.db.query(
      `DELETE FROM grid_observations WHERE zone = 'FI' AND metric = 'generation_actual'
         AND slot_start >= '2023-05-09T00:00Z' AND slot_start < '2023-05-09T03:00Z'`,
    );
    fake.fail('no-data', { times: 100 });
    const ingestor = fakeEntsoeIngestor(
      fake.url,
      silentLogger(),
      new MemoryPublisher<RawEntsoeDocument>(),
      new MemoryPublisher<DeadLetter>(),
    );
    const healer = gapHealer({
      db: api.db,
      logger: silentLogger(),
      reference,
      rules: alertRulesOf({
        publication: [{ source: 'entsoe', metric: 'generation_actual', zone: 'FI', delay: 'PT1H' }],
      }),
      ingest: (request, o) => ingestor.ingest(request, o),
      now: () => Date.parse('2023-05-10T09:00Z'),
    });
    const pass = await healer.runOnce();
    assert.deepEqual([pass.found, pass.requested], [1, 1]);
  });
  after(async () => {
    await fake.close();
    await api.close();
  });

  it('the zone answer lists the gap in range with its state; other ranges and zones do not', async () => {
    const { status, body } = await api.json('/api/v1/completeness?zone=FI&from=2023-05-08&to=2023-05-11', {
      key: api.readerFi,
    });
    assert.equal(status, 200);
    const gaps = body['gaps'] as Record<string, unknown>[];
    assert.equal(gaps.length, 1);
    assert.equal(body['gaps_truncated'], false);
    assert.deepEqual(
      {
        metric: gaps[0]?.['metric'],
        start: gaps[0]?.['start'],
        end: gaps[0]?.['end'],
        slots: gaps[0]?.['slots'],
        state: gaps[0]?.['state'],
        tries: gaps[0]?.['tries'],
        last_outcome: gaps[0]?.['last_outcome'],
      },
      {
        metric: 'generation_actual',
        start: '2023-05-09T00:00:00.000Z',
        end: '2023-05-09T03:00:00.000Z',
        slots: 12,
        state: 'backfilling',
        tries: 1,
        last_outcome: 'no matching data',
      },
    );
    const before = await api.json('/api/v1/completeness?zone=FI&from=2023-05-10T07:00Z&to=2023-05-11', {
      key: api.readerFi,
    });
    assert.deepEqual(before.body['gaps'], []);
  });

  it('the connectors page gets the counts per state, the hour’s requests and the open gaps', async () => {
    const { status, body } = await api.json('/api/v1/admin/connectors', { key: api.operator });
    assert.equal(status, 200);
    const gaps = body['gaps'] as { states: Record<string, number>; requests_last_hour: number; open: unknown[] };
    assert.deepEqual(gaps.states, { pending: 0, backfilling: 1, filled: 0, source_has_none: 0 });
    assert.equal(gaps.open.length, 1);
    // Counted in processing time of the healer (2023): the real last hour holds none of its requests.
    assert.equal(gaps.requests_last_hour, 0);
    // An operator limited to other zones sees none of FI's gaps, not even in the counts.
    const { key } = await createApiKey(api.db, { name: 'dk ops', role: 'operator', zones: ['DK_2'] });
    const limited = await api.json('/api/v1/admin/connectors', { key });
    assert.deepEqual(limited.body['gaps'], {
      states: { pending: 0, backfilling: 0, filled: 0, source_has_none: 0 },
      requests_last_hour: 0,
      open: [],
    });
  });

  it('a zone-limited key sees its zones’ gaps however many other zones hold, and never another zone’s; past 500 gaps the answer says so', async () => {
    // 1 001 open FI gaps (ranges newer than DK_2's) and one DK_2 gap, as the healer stores them.
    await api.db.query(
      `INSERT INTO completeness_gaps (source, metric, zone, resolution, gap_start, gap_end, state, next_attempt_at,
         detected_at, updated_at)
       SELECT 'entsoe', 'load_actual', 'FI', 'PT15M', s, s + interval '15 minutes', 'pending', s, s, s
       FROM generate_series('2023-04-20T00:00Z'::timestamptz, '2023-04-20T00:00Z'::timestamptz + interval '15 minutes' * 1000,
         interval '15 minutes') AS s`,
    );
    await api.db.query(
      `INSERT INTO completeness_gaps (source, metric, zone, resolution, gap_start, gap_end, state, tries,
         next_attempt_at, detected_at, updated_at, closed_at)
       VALUES ('entsoe', 'load_actual', 'DK_2', 'PT15M', '2023-01-01T00:00Z', '2023-01-01T02:00Z', 'source_has_none', 4,
         '2023-01-02T00:00Z', '2023-01-01T04:00Z', '2023-01-02T00:00Z', '2023-01-02T00:00Z')`,
    );
    const { key } = await createApiKey(api.db, { name: 'dk2 ops', role: 'operator', zones: ['DK_2'] });
    const dk = await api.json('/api/v1/admin/connectors', { key });
    const dkGaps = dk.body['gaps'] as { states: Record<string, number>; open: { zone: string; state: string }[] };
    assert.deepEqual(
      dkGaps.open.map((g) => [g.zone, g.state]),
      [['DK_2', 'source_has_none']],
    );
    assert.deepEqual(dkGaps.states, { pending: 0, backfilling: 0, filled: 0, source_has_none: 1 });

    const range = 'from=2023-01-01&to=2023-01-02';
    const unlimited = await api.json(`/api/v1/completeness?zone=DK_2&${range}`);
    assert.equal((unlimited.body['gaps'] as unknown[]).length, 1);
    const fiKey = await api.json(`/api/v1/completeness?zone=DK_2&${range}`, { key: api.readerFi });
    assert.equal(fiKey.status, 403);
    assert.equal(fiKey.body['gaps'], undefined);

    const many = await api.json('/api/v1/completeness?zone=FI&from=2023-04-20&to=2023-05-01&metric=load_actual', {
      key: api.readerFi,
    });
    assert.equal(many.status, 200);
    const listed = many.body['gaps'] as { start: string }[];
    assert.equal(listed.length, 500);
    assert.equal(many.body['gaps_truncated'], true);
    // Newest first: the last of the 1 001 ranges (2023-04-30T10:00Z) leads.
    assert.equal(listed[0]?.start, '2023-04-30T10:00:00.000Z');
  });
});
