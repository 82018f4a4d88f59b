import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isErrorCode } from '../../src/common/index.ts';
import type { RefusedLines } from '../../src/contracts/index.ts';
import { DeadLetterSchema, expandRefusedLines } from '../../src/contracts/index.ts';
import type { Random } from '../helpers/fuzz.ts';
import { fuzzCases, fuzzSeed, prng, int as randomInt, pick as randomPick } from '../helpers/fuzz.ts';
import { useIngestGateway } from '../helpers/ingest.ts';

/** `GRIDSTREAM_FUZZ_SEED` replays a failing run; `GRIDSTREAM_FUZZ_CASES` runs more (or fewer) cases. */
const SEED = fuzzSeed(20261204);
const CASES = fuzzCases(400);
const MAX_BODY = 256 * 1024;
const MAX_DECODED = 1024 * 1024;

interface Case {
  readonly name: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  /** The body as the gateway should parse it (after gzip), or undefined when it must be refused whole. */
  readonly decoded: Buffer | undefined;
}

function generator(random: Random) {
  const int = (n: number): number => randomInt(random, n);
  const pick = <T>(xs: readonly T[]): T => randomPick(random, xs);
  const kinds = ['smart_meter', 'scada', 'pmu'];
  const reading = (): string =>
    JSON.stringify({
      deviceId: `meter-${int(1000)}`,
      kind: pick(kinds),
      ts: new Date(Date.UTC(2026, 10, 1 + int(28), int(24), 15 * int(4))).toISOString().replace('.000Z', 'Z'),
      quantity: pick(['energy_import', 'energy_export', 'voltage', 'frequency']),
      value: Math.round(random() * 1e6) / 1000,
      unit: pick(['kWh', 'V', 'Hz']),
      ...(random() < 0.5 ? { group: `feeder-${int(20)}` } : {}),
    });
  const mutateLine = (line: string): Buffer => {
    let b = Buffer.from(line, 'utf8');
    switch (int(12)) {
      case 0: {
        // byte flips
        b = Buffer.from(b);
        for (let i = 0, n = 1 + int(4); i < n; i++) b[int(b.length)] = int(256);
        return b;
      }
      case 1:
        return b.subarray(0, int(b.length)); // truncation
      case 2:
        return Buffer.from(
          line.replace(
            /"value":[^,}]+/,
            `"value":${pick(['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '0.0', '-0', '1e-320', '4.9e-324'])}`,
          ),
        );
      case 3: {
        const depth = pick([10, 1000, 100_000]);
        return Buffer.from(line.replace(/"value":[^,}]+/, `"value":${'['.repeat(depth)}1${']'.repeat(depth)}`));
      }
      case 4: {
        // invalid UTF-8
        const at = int(b.length);
        return Buffer.concat([b.subarray(0, at), Buffer.from([pick([0xff, 0xc0, 0xe2, 0x80, 0xed])]), b.subarray(at)]);
      }
      case 5:
        return Buffer.from(
          line.replace(/"deviceId":"/, `"deviceId":"${pick(['\\u0000', '\\u001b[31m', '\\n', '\\u0085', '\\u2028'])}`),
        );
      case 6:
        return Buffer.from(
          line.replace(
            /"ts":"[^"]+"/,
            `"ts":"${pick(['0000-01-01T00:00:00Z', '1999-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-11-22T10:00:00+01:00', ''])}"`,
          ),
        );
      case 7:
        return Buffer.from(
          pick(['{}', '[]', 'null', '"x"', '{"deviceId":', '{"__proto__":{"x":1}}', ' ', '\r', '\t \r']),
        );
      case 8:
        return Buffer.from(`${line}\r`);
      case 9:
        return Buffer.from(line.replace(/}$/, `,"extra":"${'x'.repeat(int(5000))}"}`));
      default:
        return b;
    }
  };
  const ndjson = (): Buffer => {
    const parts: Buffer[] = [];
    for (let i = 0, n = int(40); i < n; i++) {
      if (i > 0) parts.push(Buffer.from(pick(['\n', '\n', '\n', '\n\n', '\r\n'])));
      parts.push(random() < 0.4 ? mutateLine(reading()) : Buffer.from(reading()));
    }
    return Buffer.concat(parts);
  };
  return (): Case => {
    const c = anyCase();
    // A Content-Type that names no reading format is refused whole (415), whatever the body.
    return c.headers['content-type'] === 'application/xml' ? { ...c, decoded: undefined } : c;
  };
  function anyCase(): Case {
    const body = ndjson();
    const contentType = pick(['application/x-ndjson', 'application/json', 'text/plain', 'application/xml', '']);
    const headers: Record<string, string> = contentType === '' ? {} : { 'content-type': contentType };
    switch (int(10)) {
      case 0:
        return {
          name: 'gzip',
          body: gzipSync(body),
          headers: { ...headers, 'content-encoding': 'gzip' },
          decoded: body,
        };
      case 1: {
        const z = gzipSync(body);
        const garbage = Buffer.concat([
          z.subarray(0, 10),
          Buffer.from(Array.from({ length: int(200) }, () => int(256))),
        ]);
        return {
          name: 'gzip garbage',
          body: garbage,
          headers: { ...headers, 'content-encoding': 'gzip' },
          decoded: undefined,
        };
      }
      case 2:
        return {
          name: 'gzip bomb',
          body: gzipSync(Buffer.alloc(MAX_DECODED + 1 + int(MAX_DECODED), 0x20)),
          headers: { 'content-encoding': 'gzip' },
          decoded: undefined,
        };
      case 3:
        return {
          name: 'encoding',
          body,
          headers: { ...headers, 'content-encoding': pick(['br', 'deflate', 'zstd', 'gzip, gzip', 'x']) },
          decoded: undefined,
        };
      case 4:
        return {
          name: 'too large',
          body: Buffer.alloc(MAX_BODY + 1 + int(MAX_BODY), 0x0a),
          headers,
          decoded: undefined,
        };
      default:
        return { name: 'ndjson', body, headers, decoded: body };
    }
  }
}

function nonBlankLines(body: Buffer): number {
  let n = 0;
  for (const line of body.toString('latin1').split('\n')) if (!/^[ \t\r]*$/.test(line)) n++;
  return n;
}

describe('ingest gateway fuzz: mutated readings never crash it, never hang, and every refusal is explained', () => {
  const fixture = useIngestGateway({
    keyName: 'fuzz',
    limits: { maxBodyBytes: MAX_BODY, maxDecodedBytes: MAX_DECODED },
  });

  it(`runs ${CASES} seeded cases`, async (t) => {
    const { infra, gateway, url, auth } = fixture;
    t.diagnostic(`seed ${SEED} (GRIDSTREAM_FUZZ_SEED=${SEED} replays this run)`);
    const next = generator(prng(SEED));
    let dlqAt = 0;
    let metersAt = 0;
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const c = next();
      const where = `seed ${SEED}, case ${i} (${c.name})`;
      const r = await fetch(url, {
        method: 'POST',
        body: new Uint8Array(c.body),
        headers: { ...auth, ...c.headers },
        signal: AbortSignal.timeout(15_000),
      }).catch((error: unknown) => {
        throw new Error(`${where}: no answer: ${String(error)}`);
      });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const text = await r.text();
      assert.ok([200, 400, 413, 415].includes(r.status), `${where}: status ${r.status}: ${text.slice(0, 300)}`);
      const answer = JSON.parse(text) as {
        accepted?: number;
        rejected?: number;
        rejects?: RefusedLines[];
        code?: string;
      };
      const letters = (await infra.log.read('dlq-ingestion', 0, dlqAt, 1000)).map((x) =>
        DeadLetterSchema.parse(JSON.parse(Buffer.from(x.value).toString('utf8'))),
      );
      dlqAt += letters.length;
      const meters = (await infra.log.offsets('raw.meters')).reduce((n, p) => n + p.next, 0);
      const decoded =
        c.decoded === undefined || c.body.length > MAX_BODY || c.decoded.length > MAX_DECODED ? undefined : c.decoded;
      if (decoded === undefined) {
        // Refused whole: a problem document naming why, nothing written.
        assert.ok(r.status !== 200 && isErrorCode(answer.code ?? ''), `${where}: not refused with a code: ${text}`);
        assert.equal(letters.length, 0, `${where}: a refused body was dead-lettered`);
        assert.equal(meters, metersAt, `${where}: a refused body was ingested`);
        continue;
      }
      assert.equal(answer.code, undefined, `${where}: refused a body it should read: ${text}`);
      const lines = nonBlankLines(decoded);
      const rejects = answer.rejects ?? [];
      assert.equal((answer.accepted ?? -1) + (answer.rejected ?? -1), lines, `${where}: accepted + rejected ≠ lines`);
      const refused = expandRefusedLines(rejects);
      assert.equal(refused.length, answer.rejected, `${where}: the answer does not name every refused line`);
      assert.equal(new Set(refused.map((x) => x.line)).size, refused.length, `${where}: a line named twice`);
      for (const g of rejects) {
        assert.ok(isErrorCode(g.reason), `${where}: unregistered reason ${g.reason}`);
        assert.ok(g.message.length > 0, `${where}: a reason without a message`);
        assert.equal(expandRefusedLines([g]).length, g.count, where);
      }
      assert.ok(
        refused.every((x) => x.line >= 1 && x.line <= decoded.toString('latin1').split('\n').length),
        where,
      );
      assert.equal(meters - metersAt, answer.accepted, `${where}: raw.meters grew by other than the accepted count`);
      metersAt = meters;
      assert.deepEqual(
        letters.flatMap((l) => expandRefusedLines(l.refused ?? []).map((x) => [x.line, x.reason])),
        refused.map((x) => [x.line, x.reason]),
        `${where}: the dead letters do not hold exactly the refused lines`,
      );
      assert.ok(letters.length <= 1, `${where}: ${letters.length} dead letters for one request`);
    }
    t.diagnostic(`statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.equal((await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).status, 200);
  });
});
