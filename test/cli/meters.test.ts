import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import { openDb } from '../../src/storage/index.ts';
import type { RunningInstance } from '../helpers/cli.ts';
import { gridstream, startInstance } from '../helpers/cli.ts';
import { tempDir, testDatabaseUrl, uniqueName } from '../helpers/services.ts';

const HEADER = 'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile';
const FILE = [
  `${HEADER},lat,lon,valid_from,valid_to`,
  'cli-1,DE_LU,feeder-a,,import,PT15M,3500,H0,52.5,13.4,,',
  'cli-2,FR,feeder-b,,export,PT15M,800.25,G0,,,2026-01-01T00:00:00Z,',
  'cli-3,XX,feeder-a,,import,PT15M,3500,H0,,,,',
  '',
].join('\n');

/** Import twice, change a row, list: the same answers with or without a running instance. */
async function importScenario(dir: string, env: Record<string, string>): Promise<void> {
  const file = join(dir, 'meters.csv');
  await writeFile(file, FILE);
  const first = await gridstream(['meters', 'import', 'meters.csv'], { env, cwd: dir });
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /^line 4 \(cli-3\): meters\.invalid: unknown zone XX$/m);
  assert.match(first.stderr, /^2 inserted, 0 updated, 0 unchanged, 1 rejected$/m);
  const again = await gridstream(['meters', 'import', file], { env });
  assert.match(again.stderr, /^nothing changed: 0 inserted, 0 updated, 2 unchanged, 1 rejected$/m);
  await writeFile(file, FILE.replace(/^cli-3.*\n/m, '').replace('800.25', '900'));
  const changed = await gridstream(['meters', 'import', file], { env });
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /^0 inserted, 1 updated, 1 unchanged, 0 rejected$/m);
  const listed = await gridstream(['meters', 'list', '--group', 'feeder-b'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(
    listed.stdout,
    `${HEADER},lat,lon,valid_from,valid_to\ncli-2,FR,feeder-b,Europe/Paris,export,PT15M,900,G0,,,2026-01-01T00:00:00.000Z,\n`,
  );
  const byZone = await gridstream(['meters', 'list', '--zone', 'DE_LU'], { env });
  assert.match(byZone.stdout, /^cli-1,DE_LU,feeder-a,Europe\/Berlin,import,PT15M,3500,H0,52\.5,13\.4,,$/m);
  assert.equal((await gridstream(['meters', 'list', '--zone', 'NOWHERE'], { env })).code, 2);
  const missing = await gridstream(['meters', 'import', join(dir, 'absent.csv')], { env });
  assert.equal(missing.code, 2);
  await writeFile(file, 'meter_id,zone\nx,FR\n');
  const badHeader = await gridstream(['meters', 'import', file], { env });
  assert.equal(badHeader.code, 2);
  assert.match(badHeader.stderr, /lacks column\(s\) group/);
}

describe('gridstream meters import / list', () => {
  it('embedded (PGlite in the data directory), no instance running', async () => {
    const dir = await tempDir();
    try {
      await importScenario(dir.path, { GRIDSTREAM_DATA_DIR: join(dir.path, 'data'), GRIDSTREAM_LOG_LEVEL: 'error' });
    } finally {
      await dir.remove();
    }
  });

  it('on PostgreSQL', async (t) => {
    const url = testDatabaseUrl(t);
    if (url === undefined) return;
    const dir = await tempDir();
    const namespace = uniqueName('gs_cli_meters').toLowerCase();
    try {
      await importScenario(dir.path, {
        GRIDSTREAM_DATA_DIR: join(dir.path, 'data'),
        DATABASE_URL: url,
        GRIDSTREAM_NAMESPACE: namespace,
        GRIDSTREAM_LOG_LEVEL: 'error',
      });
    } finally {
      const admin = await openDb({ url, dataDir: dir.path, logger: silentLogger() });
      await admin.exec(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      await admin.close();
      await dir.remove();
    }
  });
});

describe('gridstream meters import while an embedded instance runs', () => {
  let instance: RunningInstance;
  before(async () => {
    instance = await startInstance();
  });
  after(() => instance.close());

  it('imports and lists through the control socket, with the same answers', async () => {
    const dir = await tempDir();
    try {
      await importScenario(dir.path, instance.env);
    } finally {
      await dir.remove();
    }
  });
});
