import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpServer } from '../../src/api/index.ts';
import { createApiKey, pingReadiness } from '../../src/api/index.ts';
import type { RefusedLines } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema, DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import { ingestGateway } from '../../src/ingest/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { readTopic } from '../helpers/ingest.ts';

const reading = (meter: string, ts = '2026-11-22T10:00:00Z') =>
  JSON.stringify({ deviceId: meter, kind: 'smart_meter', ts, quantity: 'energy_import', value: '0.25', unit: 'kWh' });

describe('ingest gateway: a key limited to groups sends only readings of its groups’ meters', () => {
  let embedded: Awaited<ReturnType<typeof embeddedInfra>>;
  let infra: Infrastructure;
  let gateway: HttpServer;
  let url: string;
  before(async () => {
    embedded = await embeddedInfra();
    infra = embedded.infra;
    gateway = ingestGateway(infra, { host: '127.0.0.1', port: 0, readiness: pingReadiness(infra.db, infra.log) });
    await gateway.start();
    url = `http://127.0.0.1:${gateway.port}/ingest/meters`;
    // m-a is in feeder-a until 2026-11-22T12:00Z, then moves to feeder-b; m-b is in feeder-b.
    await infra.db.query(
      `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, annual_consumption_kwh, profile,
         valid_from, valid_to)
       VALUES ('m-a', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 3500, 'H0', NULL, '2026-11-22T12:00:00Z'),
              ('m-a', 'DE_LU', 'feeder-b', 'Europe/Berlin', 'import', 3500, 'H0', '2026-11-22T12:00:00Z', NULL),
              ('m-b', 'DE_LU', 'feeder-b', 'Europe/Berlin', 'import', 3500, 'H0', NULL, NULL)`,
    );
  });
  after(async () => {
    await gateway.stop();
    await embedded.remove();
  });

  const post = async (key: string, body: string, type?: string) => {
    const r = await fetch(url, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${key}`, ...(type === undefined ? {} : { 'content-type': type }) },
    });
    return {
      status: r.status,
      body: (await r.json()) as { accepted: number; rejected: number; rejects: RefusedLines[] },
    };
  };

  it('refuses other groups and unknown meters per line, in the one dead letter; keeps the rest', async () => {
    const { key } = await createApiKey(infra.db, { name: 'device a', role: 'operator', groups: ['feeder-a'] });
    const body = [
      reading('m-a'),
      reading('m-b'),
      reading('nobody'),
      reading('m-a', '2026-11-22T12:00:00Z'), // after the move: feeder-b's
      'not json',
    ].join('\n');
    const r = await post(key, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 1);
    assert.equal(r.body.rejected, 4);
    assert.deepEqual(
      expandRefusedLines(r.body.rejects).map((x) => [x.reason, x.line]),
      [
        ['ingest.group_forbidden', 2],
        ['ingest.group_forbidden', 3],
        ['ingest.group_forbidden', 4],
        ['ingest.not_json', 5],
      ],
    );
    assert.doesNotMatch(JSON.stringify(r.body), /feeder-b/, "the answer does not tell another meter's group");
    const stored = (await readTopic(infra, 'raw.meters')).map((x) =>
      CanonicalReadingSchema.parse(JSON.parse(x.toString('utf8'))),
    );
    assert.deepEqual(
      stored.map((x) => [x.meter_id, x.ts]),
      [['m-a', '2026-11-22T10:00:00Z']],
    );
    const letters = (await readTopic(infra, 'dlq-ingestion')).map((x) =>
      DeadLetterSchema.parse(JSON.parse(x.toString('utf8'))),
    );
    assert.equal(letters.length, 1, 'one dead letter for the request');
    assert.deepEqual(
      expandRefusedLines(letters[0]?.refused ?? []).map((l) => [l.reason, l.line]),
      [
        ['ingest.group_forbidden', 2],
        ['ingest.group_forbidden', 3],
        ['ingest.group_forbidden', 4],
        ['ingest.not_json', 5],
      ],
    );
    assert.equal(
      letters[0]?.payload,
      [reading('m-b'), reading('nobody'), reading('m-a', '2026-11-22T12:00:00Z'), 'not json'].join('\n'),
    );
  });

  it('applies to JSON arrays too (a refused element keeps its JSON), and only refused lines: 400', async () => {
    const { key } = await createApiKey(infra.db, { name: 'device b', role: 'operator', groups: ['feeder-a'] });
    const r = await post(key, `[${reading('m-b')}]`, 'application/json');
    assert.equal(r.status, 400);
    assert.deepEqual(
      expandRefusedLines(r.body.rejects).map((x) => [x.reason, x.line]),
      [['ingest.group_forbidden', 1]],
    );
  });

  it('leaves keys without groups as they were: every meter, known or not', async () => {
    const { key } = await createApiKey(infra.db, { name: 'head end', role: 'operator' });
    const r = await post(key, [reading('m-b'), reading('nobody')].join('\n'));
    assert.deepEqual([r.status, r.body.accepted, r.body.rejected], [200, 2, 0]);
  });
});
