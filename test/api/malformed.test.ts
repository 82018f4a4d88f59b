import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dashboardFiles } from '../../src/api/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';
import { tempDir } from '../helpers/services.ts';

/** Sends `path` byte for byte (no client-side URL normalisation). */
function get(port: number, path: string, key: string | null): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: key === null ? {} : { authorization: `Bearer ${key}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const series = '/api/v1/series?zone=FI&metric=generation_actual';
/** The malformed requests of the campaign that were answered 500, with or without a key. */
const MALFORMED: readonly (readonly [string, 'key' | 'none'])[] = [
  ['/%zz', 'none'],
  ['/%E0%A4%A', 'none'],
  ['/admin/%', 'none'],
  ['/assets/%c0%af', 'none'],
  ['/%zz', 'key'],
  ['/api/v1/admin/keys/%zz', 'key'],
  ['/api/v1/admin/dlq/dlq-processing/%zz/1', 'key'],
  ['/api/v1/admin/jobs?job=a%00b', 'key'],
  ['/api/v1/admin/dlq/dlq-processing?reason=a%00', 'key'],
  ['/api/v1/admin/dlq/dlq-processing?source=raw%00', 'key'],
  ['/api/v1/admin/keys/ab%00cd', 'key'],
  ['/api/v1/mix?zone=FI%00', 'key'],
  [`${series}&from=2023-05-08%00&to=2023-05-09`, 'key'],
  [`${series}&from=2023-05-08&to=2023-05-09&tz=UTC%00`, 'key'],
  ['/api/v1/mix?zone=FI&at=0000-01-01', 'key'],
  ['/api/v1/mix?zone=FI&at=0000-01-01T00:00Z', 'key'],
  ['/api/v1/mix?zone=FI&at=0001-01-01T00:00Z', 'key'],
  [`${series}&from=0000-01-01T00:00Z&to=0000-01-02T00:00Z`, 'key'],
  [`${series}&from=0000-01-01&to=0000-01-02`, 'key'],
  ['/api/v1/carbon-intensity?zone=FI&from=0000-01-01T00:00Z&to=0000-01-02T00:00Z', 'key'],
  ['/api/v1/completeness?zone=FI&from=0000-01-01&to=0000-01-05', 'key'],
  ['/api/v1/mix?zone=FI&at=0001-01-01', 'key'],
];

/** Malformed requests are client errors: 400 with a problem body, and no stack trace in the log. */
describe('malformed requests', () => {
  let api: TestApi;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const logged: string[] = [];
  before(async () => {
    dir = await tempDir();
    const web = join(dir.path, 'web');
    await mkdir(web);
    await writeFile(join(web, 'index.html'), '<!doctype html><title>gridstream</title>');
    api = await startTestApi({
      staticFiles: dashboardFiles(web),
      logger: createLogger({ level: 'warn', destination: { write: (line: string) => logged.push(line) } }),
    });
  });
  after(async () => {
    await api.close();
    await dir.remove();
  });

  it('bad percent-encoding, NUL bytes and years out of range are 400 problems, never 500', async () => {
    const answers: string[] = [];
    for (const [path, key] of MALFORMED) {
      const r = await get(api.server.port, path, key === 'key' ? ADMIN : null);
      answers.push(`${r.status} ${path}`);
      if (r.status === 400) {
        assert.equal(r.type, 'application/problem+json', path);
        assert.equal((JSON.parse(r.body) as { status: number }).status, 400);
      }
    }
    const wrong = answers.filter((a) => !a.startsWith('400 '));
    assert.deepEqual(wrong, [], `not 400:\n${wrong.join('\n')}`);
    assert.deepEqual(logged, [], 'client errors log nothing at warn or above (no stack traces)');
  });

  it('well-formed requests next to them still work', async () => {
    assert.equal((await get(api.server.port, '/api/v1/mix?zone=FI', ADMIN)).status, 200);
    assert.equal((await get(api.server.port, '/admin/dlq', null)).status, 200);
    assert.equal((await get(api.server.port, '/%41pi-docs', null)).status, 200, 'a valid escape is served');
    const future = await get(api.server.port, `${series}&from=9999-12-30T00:00Z&to=9999-12-31T00:00Z`, ADMIN);
    assert.equal(future.status, 200, 'the last representable days are a valid (empty) range');
  });
});
