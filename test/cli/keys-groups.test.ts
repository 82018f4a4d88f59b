import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import { openDb } from '../../src/storage/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

describe('gridstream keys create --groups', () => {
  it('stores the groups with the key, lists them, and refuses an empty or malformed list', async () => {
    const dir = await tempDir();
    const env = { GRIDSTREAM_DATA_DIR: join(dir.path, 'data'), GRIDSTREAM_LOG_LEVEL: 'error' };
    try {
      const created = await gridstream(
        ['keys', 'create', '--role', 'operator', '--groups', 'feeder-a,feeder-b', '--name', 'devices'],
        { env },
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stderr, /\(operator, all zones, groups feeder-a,feeder-b\)/);
      const listed = await gridstream(['keys', 'list'], { env });
      assert.match(listed.stdout, /devices {2}\(groups feeder-a,feeder-b\)$/m);
      assert.equal((await gridstream(['keys', 'create', '--role', 'reader', '--groups', ','], { env })).code, 2);
      assert.equal((await gridstream(['keys', 'create', '--role', 'reader', '--groups', 'a b'], { env })).code, 2);
      const db = await openDb({ url: null, dataDir: env.GRIDSTREAM_DATA_DIR, logger: silentLogger() });
      try {
        const { rows } = await db.query<{ groups: string[] | null }>(
          "SELECT groups FROM api_keys WHERE name = 'devices'",
        );
        assert.deepEqual(rows, [{ groups: ['feeder-a', 'feeder-b'] }]);
      } finally {
        await db.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
