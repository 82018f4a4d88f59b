import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createApiKey, pingReadiness } from '../../src/api/index.ts';
import type { CanonicalReading, DeadLetter, MeterReading, RefusedLines } from '../../src/contracts/index.ts';
import { CanonicalReadingSchema, DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import { listDeadLetters, replayDeadLetters } from '../../src/dlq/index.ts';
import { ingestGateway } from '../../src/ingest/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { meterReading, readTopic, useIngestGateway } from '../helpers/ingest.ts';
import { postStreamed } from './post.ts';

const MiB = 1024 * 1024;

const reading = (i: number, over: Partial<Record<keyof MeterReading, unknown>> = {}): Record<string, unknown> => ({
  ...meterReading(i),
  ...over,
});
const line = (i: number, over: Partial<Record<keyof MeterReading, unknown>> = {}): string =>
  JSON.stringify(reading(i, over));

const letters = async (infra: Infrastructure): Promise<DeadLetter[]> =>
  (await readTopic(infra, 'dlq-ingestion')).map((v) => DeadLetterSchema.parse(JSON.parse(v.toString('utf8'))));
const readings = async (infra: Infrastructure): Promise<CanonicalReading[]> =>
  (await readTopic(infra, 'raw.meters')).map((v) => CanonicalReadingSchema.parse(JSON.parse(v.toString('utf8'))));

async function bytesUnder(dir: string, match: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && path.includes(match)) total += (await stat(path)).size;
  }
  return total;
}

interface Answer {
  accepted: number;
  rejected: number;
  rejects: RefusedLines[];
}

function defined<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

describe('ingest gateway: bounded bodies, gzip, one dead letter per request, readings kept as sent', () => {
  const fixture = useIngestGateway({ keyName: 'meters' });
  let infra: Infrastructure;
  let url: string;
  let auth: Record<string, string>;
  before(() => {
    ({ infra, url, auth } = fixture);
  });

  it('answers 413 at once to a declared length over the limit, without reading the body', async () => {
    const r = await postStreamed(url, {
      total: 0,
      chunk: () => Buffer.alloc(0),
      headers: auth,
      contentLength: 200 * MiB,
      timeoutMs: 5000,
    });
    assert.equal(r.status, 413);
    assert.match(String(r.headers['content-type']), /problem\+json/);
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'ingest.body_too_large');
  });

  it('answers 413 to a chunked body as soon as it passes the limit, and stops reading it', async () => {
    const chunk = Buffer.from(`${line(1)}\n`.repeat(2000));
    const r = await postStreamed(url, { total: 200 * MiB, chunk: () => chunk, headers: auth, timeoutMs: 20_000 });
    // Past the limit the server answers at once and only drops what still arrives (a bounded lingering close): the
    // client gets the 413, never a reset, and stops sending.
    assert.equal(r.reset, false, 'the connection was reset before the answer could be read');
    assert.equal(r.status, 413);
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'ingest.body_too_large');
    assert.ok(r.sent < 100 * MiB, `the client could send ${r.sent} bytes`);
  });

  it('takes gzip bodies (decoded, never dead-lettered as bytes) and refuses a gzip bomb and unknown encodings', async () => {
    const before = (await letters(infra)).length;
    const body = gzipSync(Buffer.from([line(100), line(101), line(102)].join('\n')));
    const ok = await fetch(url, { method: 'POST', body, headers: { ...auth, 'content-encoding': 'gzip' } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Answer).accepted, 3);
    assert.equal((await letters(infra)).length, before);
    assert.ok((await readings(infra)).some((x) => x.meter_id === 'meter-102'));

    // 1 GiB of newlines compresses to about 1 MiB: past the 64 MiB decoded cap it is refused, cheaply.
    const bomb = gzipSync(Buffer.alloc(256 * MiB, 0x0a), { level: 9 });
    const rss = process.memoryUsage().rss;
    const r = await fetch(url, { method: 'POST', body: bomb, headers: { ...auth, 'content-encoding': 'gzip' } });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { code: string }).code, 'ingest.body_too_large');
    assert.ok(process.memoryUsage().rss - rss < 200 * MiB);

    const garbage = await fetch(url, {
      method: 'POST',
      body: Buffer.from('not gzip at all'),
      headers: { ...auth, 'content-encoding': 'gzip' },
    });
    assert.equal(garbage.status, 400);
    for (const encoding of ['br', 'compress', 'gzip, zstd']) {
      const u = await fetch(url, { method: 'POST', body: line(1), headers: { ...auth, 'content-encoding': encoding } });
      assert.equal(u.status, 415, encoding);
    }
    assert.equal((await letters(infra)).length, before);
  });

  it('names every rejected line in the answer and writes one dead letter per request with the lines verbatim', async () => {
    const before = (await letters(infra)).length;
    const body = [line(1), 'not json', '', line(2, { value: 'lots' }), line(3), '{"deviceId":'].join('\n');
    const r = await fetch(url, { method: 'POST', body, headers: auth });
    assert.equal(r.status, 200);
    const answer = (await r.json()) as Answer;
    assert.equal(answer.accepted, 2);
    assert.equal(answer.rejected, 3);
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [
        [2, 'ingest.not_json'],
        [4, 'ingest.invalid_reading'],
        [6, 'ingest.not_json'],
      ],
    );
    const added = (await letters(infra)).slice(before);
    assert.equal(added.length, 1);
    const letter = defined(added[0]);
    assert.equal(letter.payload, ['not json', line(2, { value: 'lots' }), '{"deviceId":'].join('\n'));
    assert.deepEqual(
      expandRefusedLines(letter.refused ?? []).map((x) => [x.line, x.reason]),
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
    );
  });

  it('keeps the dead-letter topic within a few times the size of the bad lines it holds', async () => {
    const dir = infra.config.dataDir;
    const readingLines = Array.from({ length: 10_000 }, (_, i) => line(i, { value: `v${i}` })).join('\n');
    const tinyLines = Array.from({ length: 600_000 }, (_, i) => (i % 1000 === 999 ? '{}' : 'x')).join('\n');
    for (const body of [readingLines, tinyLines]) {
      assert.ok(body.length > 1.2e6);
      const sizeBefore = await bytesUnder(dir, 'dlq-ingestion');
      const lettersBefore = (await letters(infra)).length;
      const r = await fetch(url, { method: 'POST', body, headers: auth });
      assert.equal(r.status, 400);
      const answer = await r.text();
      const growth = (await bytesUnder(dir, 'dlq-ingestion')) - sizeBefore;
      assert.ok(growth < 4 * body.length, `the DLQ grew by ${growth} bytes for ${body.length} bytes of bad lines`);
      assert.ok(answer.length < 2 * body.length, `an answer of ${answer.length} bytes`);
      assert.equal((await letters(infra)).length, lettersBefore + 1, 'one dead letter for the request');
    }
  });

  it('refuses readings whose values would be altered on the way in, each with its reason', async () => {
    const soon = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const late = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const body = Buffer.concat([
      Buffer.from(`${line(1, { value: 0 })}\n`),
      Buffer.from(`${line(2, { ts: soon })}\n`),
      Buffer.from(
        '{"deviceId":"m-\xff","kind":"smart_meter","ts":"2026-11-22T10:00:00Z","quantity":"q","value":1,"unit":"kWh"}\n',
        'latin1',
      ),
      Buffer.from(`${line(4, { deviceId: 'meter\u0007-4' })}\n`),
      Buffer.from(`${line(5).replace('5.25', '1e-400')}\n`),
      Buffer.from(`${line(6).replace('6.25', '1e400')}\n`),
      Buffer.from(`${line(7, { ts: '0000-01-01T00:00:00Z' })}\n`),
      Buffer.from(`${line(8, { ts: '1999-12-31T23:59:59Z' })}\n`),
      Buffer.from(`${line(9, { ts: late })}\n`),
      Buffer.from(`${line(10).replace('10.25', '0.0e0')}\n`),
    ]);
    const before = (await letters(infra)).length;
    const r = await fetch(url, { method: 'POST', body, headers: auth });
    assert.equal(r.status, 200);
    const answer = (await r.json()) as Answer;
    assert.deepEqual(
      expandRefusedLines(answer.rejects).map((x) => [x.line, x.reason]),
      [
        [3, 'ingest.invalid_text'],
        [4, 'ingest.control_character'],
        [5, 'ingest.number_out_of_range'],
        [6, 'ingest.number_out_of_range'],
        [7, 'ingest.timestamp_out_of_range'],
        [8, 'ingest.timestamp_out_of_range'],
        [9, 'ingest.timestamp_out_of_range'],
      ],
    );
    assert.equal(answer.accepted, 3);
    const added = (await letters(infra)).slice(before);
    assert.equal(added.length, 1);
    // Invalid UTF-8 is kept byte for byte (base64), not replaced.
    assert.equal(defined(added[0]).payloadEncoding, 'base64');
    assert.ok(Buffer.from(defined(added[0]).payload, 'base64').includes(Buffer.from([0x2d, 0xff, 0x22])));
  });

  it('replays a request dead letter: lines valid now are ingested, the others stay dead with their line numbers', async () => {
    const fresh = await embeddedInfra();
    try {
      const strict = ingestGateway(fresh.infra, {
        host: '127.0.0.1',
        port: 0,
        readiness: pingReadiness(fresh.infra.db, fresh.infra.log),
        limits: { earliestReading: '2026-11-01T00:00:00Z' },
      });
      await strict.start();
      try {
        const { key } = await createApiKey(fresh.infra.db, { name: 'meters', role: 'operator' });
        const body = [
          line(1),
          line(2, { ts: '2026-10-01T00:00:00Z' }),
          'not json',
          line(4, { ts: '2026-10-02T00:00:00Z' }),
        ];
        const r = await fetch(`http://127.0.0.1:${strict.port}/ingest/meters`, {
          method: 'POST',
          body: body.join('\n'),
          headers: { authorization: `Bearer ${key}` },
        });
        assert.deepEqual(
          expandRefusedLines(((await r.json()) as Answer).rejects).map((x) => x.line),
          [2, 3, 4],
        );
      } finally {
        await strict.stop();
      }
      // The operator relaxed the rule (default: readings since 2000) and replays.
      const entries = await listDeadLetters(fresh.infra.log, 'dlq-ingestion');
      assert.equal(entries.length, 1);
      const result = await replayDeadLetters(fresh.infra.log, entries);
      assert.deepEqual(result.failed, []);
      assert.deepEqual((await readings(fresh.infra)).map((x) => x.meter_id).sort(), ['meter-1', 'meter-2', 'meter-4']);
      const after = await letters(fresh.infra);
      assert.equal(after.length, 2);
      assert.equal(defined(after[1]).payload, 'not json');
      assert.deepEqual(
        expandRefusedLines(defined(after[1]).refused ?? []).map((x) => [x.line, x.reason]),
        [[3, 'ingest.not_json']],
      );
      assert.equal(defined(after[1]).replays, 1);
    } finally {
      await fresh.remove();
    }
  });
});
