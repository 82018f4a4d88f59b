import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exportCommand } from '../../src/cli/commands/export.ts';
import { runCli } from '../../src/cli/index.ts';
import { writeObservations } from '../../src/storage/index.ts';
import { sink } from '../helpers/cli.ts';
import { TEST_TOKEN } from '../helpers/fake-entsoe.ts';
import { tempDir } from '../helpers/services.ts';
import { DB_KINDS, chunk, openTestDb } from './helpers.ts';

const RANGE = ['--from', '2025-10-21', '--to', '2025-10-22', '--tz', 'UTC'];

for (const kind of DB_KINDS) {
  describe(`gridstream export scrubs configured secrets from stored upstream texts: ${kind}`, () => {
    it('a token an upstream echoed into a document id (stored before ingestion scrubbed it) is not exported', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const dir = await tempDir();
      t.after(() => dir.remove());
      await writeObservations(h.db, [
        chunk({ zone: 'FI', start: '2025-10-21T00:00:00Z', points: 4, documentId: `ack-${TEST_TOKEN}` }),
        chunk({ zone: 'SE_3', start: '2025-10-21T00:00:00Z', points: 4, qualifier: `q=${TEST_TOKEN}` }),
      ]);
      if (h.kind === 'pglite') await h.db.close();
      const outputs: string[] = [];
      for (const format of [[], ['--out', 'x.ndjson'], ['--out', 'x.parquet']]) {
        const out = sink();
        const err = sink();
        const code = await runCli(
          ['export', '--zones', 'FI,SE_3', ...RANGE, ...format, '--schema', h.schema],
          [exportCommand],
          {
            env: {
              GRIDSTREAM_LOG_LEVEL: 'silent',
              GRIDSTREAM_DATA_DIR: h.dataDir,
              ENTSOE_TOKEN: TEST_TOKEN,
              ...(h.url === null ? {} : { DATABASE_URL: h.url }),
            },
            stdout: out.stream,
            stderr: err.stream,
            signal: new AbortController().signal,
            cwd: dir.path,
          },
        );
        assert.equal(code, 0, err.text());
        outputs.push(out.text() + err.text());
      }
      if (h.kind === 'pglite') await h.reopen();
      outputs.push(
        await readFile(join(dir.path, 'x.ndjson'), 'latin1'),
        await readFile(join(dir.path, 'x.parquet'), 'latin1'),
      );
      const all = outputs.join('\n');
      t.diagnostic(`occurrences of the token in CSV, NDJSON and Parquet exports: ${all.split(TEST_TOKEN).length - 1}`);
      assert.match(outputs[0] ?? '', /ack-\[redacted\]/);
      assert.equal(all.split(TEST_TOKEN).length - 1, 0);
    });
  });
}
