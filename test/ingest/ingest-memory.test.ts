import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const probe = fileURLToPath(new URL('./fixtures/rss-probe.ts', import.meta.url));
const MiB = 1024 * 1024;

describe('ingest gateway memory', () => {
  it('three concurrent 100 MB bodies grow the process by at most 300 MB (and are refused with 413)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [probe, '--posts', '3', '--mib', '100', '--concurrent', '3'],
      { timeout: 120_000, maxBuffer: MiB },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      baseline: number;
      peak: number;
      statuses: number[];
    };
    const growth = result.peak - result.baseline;
    // The issue allows 300 MB; reading bodies as they stream keeps it far lower, and today it is over 300 MiB.
    assert.ok(growth < 150 * MiB, `RSS grew by ${Math.round(growth / MiB)} MiB`);
    assert.deepEqual(result.statuses, [413, 413, 413]);
  });
});
