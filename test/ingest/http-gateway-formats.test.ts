import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalReading, DeadLetter, RefusedLines } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema, DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import { listDeadLetters, replayDeadLetters } from '../../src/dlq/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { readTopic, useIngestGateway } from '../helpers/ingest.ts';

interface Answer {
  accepted: number;
  rejected: number;
  rejects: RefusedLines[];
}

const readings = async (infra: Infrastructure): Promise<CanonicalReading[]> =>
  (await readTopic(infra, 'raw.meters')).map((v) => CanonicalReadingSchema.parse(JSON.parse(v.toString('utf8'))));
const letters = async (infra: Infrastructure): Promise<DeadLetter[]> =>
  (await readTopic(infra, 'dlq-ingestion')).map((v) => DeadLetterSchema.parse(JSON.parse(v.toString('utf8'))));

describe('ingest gateway: input formats by Content-Type → canonical readings', () => {
  const fx = useIngestGateway({ keyName: 'formats' });
  const post = async (body: string, contentType?: string): Promise<{ status: number; answer: Answer }> => {
    const r = await fetch(fx.url, {
      method: 'POST',
      body: Buffer.from(body, 'utf8'),
      headers: { ...fx.auth, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
    });
    return { status: r.status, answer: (await r.json()) as Answer };
  };
  const of = async (id: string): Promise<CanonicalReading[]> =>
    (await readings(fx.infra)).filter((r) => r.meter_id.startsWith(id));

  it('takes a JSON array (application/json) in any shape; a refused element is answered by its place', async () => {
    const body = JSON.stringify([
      { meter_id: 'arr-1', timestamp: '2026-11-22T11:00:00+01:00', consumption: 0.337 },
      { meter_id: 'arr-2', quantity: 'voltage', ts: '2026-11-22T10:00:00Z', value: '231.40' },
      { meter_id: 'arr-3', timestamp: '2026-11-22T10:00:00', consumption: 1 },
      { deviceId: 'arr-4', kind: 'pmu', ts: '2026-11-22T10:00:00Z', quantity: 'frequency', value: 50.01, unit: 'Hz' },
    ]);
    const before = (await letters(fx.infra)).length;
    const { status, answer } = await post(body, 'application/json; charset=utf-8');
    assert.equal(status, 200);
    assert.equal(answer.accepted, 3);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [[3, 'ingest.timestamp_without_offset']],
    );
    assert.deepEqual(
      (await of('arr-')).sort((a, b) => a.meter_id.localeCompare(b.meter_id)),
      [
        {
          v: 2,
          meter_id: 'arr-1',
          kind: 'smart_meter',
          quantity: 'energy_import',
          ts: '2026-11-22T10:00:00Z',
          value: '0.337',
        },
        {
          v: 2,
          meter_id: 'arr-2',
          kind: 'smart_meter',
          quantity: 'voltage',
          ts: '2026-11-22T10:00:00Z',
          value: '231.4',
        },
        { v: 2, meter_id: 'arr-4', kind: 'pmu', quantity: 'frequency', ts: '2026-11-22T10:00:00Z', value: '50.01' },
      ],
    );
    const added = (await letters(fx.infra)).slice(before);
    assert.equal(added.length, 1, 'one dead letter for the request');
    const letter = added[0];
    assert.ok(letter !== undefined);
    assert.equal(letter.position?.['format'], 'json');
    assert.equal(letter.payload, '{"meter_id":"arr-3","timestamp":"2026-11-22T10:00:00","consumption":"1"}');
  });

  it('refuses a JSON body that is not JSON as record 1, in one dead letter', async () => {
    const { status, answer } = await post('[{"meter_id": ', 'application/json');
    assert.equal(status, 400);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [[1, 'ingest.not_json']],
    );
  });

  it('takes CSV with a header (text/csv); rows are answered by line, and their dead letter replays', async () => {
    const csv = [
      'meter_id,timestamp,consumption',
      'csv-1,2026-11-22T10:00:00Z,0.25',
      'csv-2,2026-11-22T10:00:00Z',
      '',
      'csv-3,2026-11-22T10:15:00+00:00,1.000',
      'csv-4,2026-11-22T10:15:00Z,1e-400',
    ].join('\r\n');
    const before = (await letters(fx.infra)).length;
    const { status, answer } = await post(csv, 'text/csv');
    assert.equal(status, 200);
    assert.equal(answer.accepted, 2);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [
        [3, 'ingest.invalid_reading'],
        [6, 'ingest.number_out_of_range'],
      ],
    );
    assert.deepEqual((await of('csv-')).map((r) => [r.meter_id, r.ts, r.value, r.quantity, r.interval]).sort(), [
      // The common shape says no interval: the meter's registry interval applies (the meters role reads it).
      ['csv-1', '2026-11-22T10:00:00Z', '0.25', 'energy_import', undefined],
      ['csv-3', '2026-11-22T10:15:00Z', '1', 'energy_import', undefined],
    ]);
    const added = (await letters(fx.infra)).slice(before);
    assert.equal(added.length, 1);
    assert.equal(added[0]?.position?.['csvHeader'], 'meter_id,timestamp,consumption');
    // Replayed, the rows are read under their header again (and refused for the same reasons).
    const entries = (await listDeadLetters(fx.infra.log, 'dlq-ingestion')).filter(
      (e) => e.letter?.position?.['format'] === 'csv',
    );
    assert.equal(entries.length, 1);
    await replayDeadLetters(fx.infra.log, entries);
    const replayed = (await letters(fx.infra)).at(-1);
    assert.deepEqual(
      expandRefusedLines(replayed?.refused ?? []).map((x) => [x.line, x.reason]),
      [
        [3, 'ingest.invalid_reading'],
        [6, 'ingest.number_out_of_range'],
      ],
    );
  });

  it("takes CSV of today's device schema, and refuses every row under a header that names no meter", async () => {
    const legacy = ['deviceId,kind,ts,quantity,value,unit,group', 'csvl-1,scada,2026-11-22T10:00:00Z,power,1500,W,'];
    const ok = await post(legacy.join('\n'), 'text/csv');
    assert.equal(ok.answer.accepted, 1);
    assert.deepEqual(
      (await of('csvl-')).map((r) => [r.quantity, r.value, r.kind]),
      [['power', '1.5', 'scada']],
    );
    const bad = await post('id,when,kwh\nx,2026-11-22T10:00:00Z,1\ny,2026-11-22T10:00:00Z,2', 'text/csv');
    assert.equal(bad.status, 400);
    assert.deepEqual(
      expandRefusedLines(bad.answer.rejects).map((x) => [x.line, x.reason]),
      [
        [2, 'ingest.invalid_reading'],
        [3, 'ingest.invalid_reading'],
      ],
    );
  });

  it('refuses other content types with 415, before reading the body', async () => {
    const r = await fetch(fx.url, {
      method: 'POST',
      body: '<readings/>',
      headers: { ...fx.auth, 'content-type': 'application/xml' },
    });
    assert.equal(r.status, 415);
    assert.equal(((await r.json()) as { code: string }).code, 'ingest.unsupported_content_type');
  });

  it("maps today's NDJSON quantities, refusing what has no canonical quantity with its reason", async () => {
    const line = (id: string, quantity: string, value: number, unit: string): string =>
      JSON.stringify({ deviceId: id, kind: 'smart_meter', ts: '2026-11-22T10:00:00Z', quantity, value, unit });
    const body = [line('nd-1', 'energy', 1250, 'Wh'), line('nd-2', 'reactive_energy', 3, 'kvarh')].join('\n');
    const { answer } = await post(body, 'application/x-ndjson');
    assert.equal(answer.accepted, 1);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [[2, 'ingest.unmapped_quantity']],
    );
    assert.deepEqual(
      (await of('nd-')).map((r) => [r.quantity, r.value, r.interval]),
      [['energy_import', '1.25', undefined]],
    );
  });
});
