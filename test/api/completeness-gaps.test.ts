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
    const other = await api.json('/api/v1/completeness?zone=DK_2&from=2023-12-28&to=2023-12-30');
    assert.deepEqual(other.body['gaps'], []);
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
});
