import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createApiKey, pingReadiness } from '../../src/api/index.ts';
import type { RefusedLines } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema, DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import type { HttpServer } from '../../src/api/index.ts';
import { ingestGateway } from '../../src/ingest/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { meterReading } from '../helpers/ingest.ts';

describe('ingest gateway: NDJSON device readings → raw.meters, bad lines → dlq-ingestion', () => {
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
  });
  after(async () => {
    await gateway.stop();
    await embedded.remove();
  });

  it('accepts valid lines and dead-letters the others with their line number; needs an operator key', async () => {
    const { key } = await createApiKey(infra.db, { name: 'meters', role: 'operator' });
    const { key: reader } = await createApiKey(infra.db, { name: 'reader', role: 'reader' });
    const good = {
      deviceId: 'meter-1',
      kind: 'smart_meter',
      ts: '2026-11-22T10:00:00Z',
      quantity: 'energy_import',
      value: 1.25,
      unit: 'kWh',
      group: 'feeder-7',
    };
    const body = [JSON.stringify(good), '{"deviceId": "meter-2", "value": "lots"}', 'not json', ''].join('\n');
    assert.equal((await fetch(url, { method: 'POST', body })).status, 401);
    assert.equal(
      (await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${reader}` } })).status,
      403,
    );
    const r = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 200);
    const answer = (await r.json()) as { accepted: number; rejected: number; rejects: RefusedLines[] };
    assert.equal(answer.accepted, 1);
    assert.equal(answer.rejected, 2);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => x.line),
      [2, 3],
    );
    const meters = await infra.log.offsets('raw.meters');
    const records = (
      await Promise.all(meters.map((p) => infra.log.read('raw.meters', p.partition, p.earliest, 10)))
    ).flat();
    assert.deepEqual(
      records.map((x) => CanonicalReadingSchema.parse(JSON.parse(Buffer.from(x.value).toString('utf8')))),
      // The canonical reading of the old schema's line (kWh, interval start; the interval is the meter's).
      [
        {
          v: 2,
          meter_id: 'meter-1',
          kind: 'smart_meter',
          quantity: 'energy_import',
          ts: '2026-11-22T10:00:00Z',
          value: '1.25',
          group: 'feeder-7',
        },
      ],
    );
    const letters = (await infra.log.read('dlq-ingestion', 0, 0, 10)).map((x) =>
      DeadLetterSchema.parse(JSON.parse(Buffer.from(x.value).toString('utf8'))),
    );
    // One dead letter for the request, holding both refused lines with their numbers and reasons.
    assert.equal(letters.length, 1);
    assert.deepEqual(
      expandRefusedLines(letters.at(0)?.refused ?? []).map((l) => [l.reason, l.line]),
      [
        ['ingest.invalid_reading', 2],
        ['ingest.not_json', 3],
      ],
    );
    assert.equal(letters.at(0)?.reason, 'ingest.rejected_lines');
    assert.equal(letters.at(0)?.payload, '{"deviceId": "meter-2", "value": "lots"}\nnot json');
    assert.ok(letters.every((l) => l.stage === 'ingestion'));
  });
});

describe('ingest gateway: an unexpected failure is answered 500 and logged, never silent', () => {
  it('logs what failed (the API does the same), answers a problem without the detail', async () => {
    const embedded = await embeddedInfra();
    const infra = embedded.infra;
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    // A log whose writes fail with a plain (non-retryable, uncoded) error: a bug or an unforeseen fault.
    const log = new Proxy(infra.log, {
      get: (target, prop, receiver): unknown =>
        prop === 'produce'
          ? () => Promise.reject(new Error('disk exploded in an unforeseen way'))
          : Reflect.get(target, prop, receiver),
    });
    const gateway = ingestGateway(
      { ...infra, log, logger: createLogger({ level: 'info', format: 'json', destination }) },
      { host: '127.0.0.1', port: 0, readiness: pingReadiness(infra.db, infra.log) },
    );
    await gateway.start();
    try {
      const { key } = await createApiKey(infra.db, { name: 'meters', role: 'operator' });
      const r = await fetch(`http://127.0.0.1:${gateway.port}/ingest/meters`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify(meterReading(1)),
      });
      assert.equal(r.status, 500);
      assert.doesNotMatch(await r.text(), /disk exploded/);
      assert.ok(
        lines.some((l) => l.includes('"level":"error"') && l.includes('disk exploded')),
        `nothing logged:\n${lines.join('')}`,
      );
    } finally {
      await gateway.stop();
      await embedded.remove();
    }
  });
});
