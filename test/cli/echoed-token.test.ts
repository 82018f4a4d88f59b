import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, runCli } from '../../src/cli/index.ts';
import { sink } from '../helpers/cli.ts';
import { FakeEntsoe, TEST_TOKEN } from '../helpers/fake-entsoe.ts';
import { ROOT, entsoeFixtureText } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/services.ts';

/** The real FI generation document as an upstream that echoes the request would send it: token in mRID and text. */
const ECHOING_DOCUMENT = entsoeFixtureText('A75_FI_PT60M_A01_2023-05-08.xml')
  .replace(/<mRID>[^<]+<\/mRID>/, `<mRID>${TEST_TOKEN}</mRID>`)
  .replace('<type>A75</type>', `<!-- request: securityToken=${TEST_TOKEN}&documentType=A75 --><type>A75</type>`);

/** Occurrences of `needle` in every file under `dir` (the embedded log's segments, PGlite's pages). */
async function occurrences(dir: string, needle: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const bytes = await readFile(join(entry.parentPath, entry.name));
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) n++;
  }
  return n;
}

describe('an echoed token is stored nowhere (embedded: backfill, then export)', () => {
  it('backfill from a service echoing the token: not in the data directory, not exported, not printed', async (t) => {
    const fake = await FakeEntsoe.start({ respond: () => ECHOING_DOCUMENT });
    t.after(() => fake.close());
    const dir = await tempDir();
    t.after(() => dir.remove());
    const env = {
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_LOG_LEVEL: 'info',
      ENTSOE_TOKEN: TEST_TOKEN,
      ENTSOE_BASE_URL: fake.url,
    };
    const run = async (argv: string[]) => {
      const out = sink();
      const err = sink();
      const code = await runCli(argv, COMMANDS, {
        env,
        stdout: out.stream,
        stderr: err.stream,
        signal: new AbortController().signal,
        cwd: ROOT,
      });
      return { code, text: out.text() + err.text() };
    };
    const backfill = await run([
      'backfill',
      '--from',
      '2023-05-08',
      '--to',
      '2023-05-09',
      '--zones',
      'FI',
      '--documents',
      'A75',
      '--time-zone',
      'Europe/Helsinki',
    ]);
    assert.equal(backfill.code, 0, backfill.text);
    assert.ok(fake.requests.length > 0);
    const exported = await run([
      'export',
      '--zones',
      'FI',
      '--metrics',
      'generation_actual',
      '--from',
      '2023-05-08',
      '--to',
      '2023-05-09',
      '--format',
      'ndjson',
    ]);
    assert.equal(exported.code, 0, exported.text);
    assert.match(exported.text, /"document_id":"\[redacted\]"/, 'the observations were stored and exported');
    const stored = await occurrences(dir.path, TEST_TOKEN);
    const shown = (backfill.text + exported.text).split(TEST_TOKEN).length - 1;
    t.diagnostic(
      `occurrences of the echoed token: ${stored} in the data directory, ${shown} in output, logs and the export`,
    );
    assert.equal(stored, 0);
    assert.equal(shown, 0);
  });
});
