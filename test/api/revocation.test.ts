import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/api/index.ts';
import { migrate } from '../../src/storage/index.ts';
import { openTestDb } from '../storage/helpers.ts';

const CHILD = fileURLToPath(new URL('./children/verifier-child.ts', import.meta.url));

/** A process that verifies a key; `next(pattern)` waits (15 s hang guard) for its next line matching `pattern`. */
function verifierProcess(args: { url: string; schema: string; key: string }): {
  child: ChildProcess;
  next(pattern: RegExp): Promise<string>;
} {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    async next(pattern) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const i = lines.findIndex((l) => pattern.test(l));
        if (i >= 0) return lines.splice(0, i + 1).at(-1) ?? '';
        if (Date.now() > deadline) throw new Error(`no line matching ${String(pattern)}; got ${lines.join(' | ')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

/** A migrated test database, an operator key in it, and another process verifying that key (killed after `t`). */
async function keyAndOtherProcess(t: TestContext) {
  const test = await openTestDb(t, 'postgres');
  if (test === undefined || test.url === null) return undefined;
  await migrate(test.db);
  const { key, record } = await createApiKey(test.db, { name: 'meters', role: 'operator' });
  const other = verifierProcess({ url: test.url, schema: test.schema, key });
  t.after(() => other.child.kill('SIGKILL'));
  return { test, record, other };
}

/** Revocation reaches every process within a second (PostgreSQL LISTEN/NOTIFY), with a short fallback freshness. */
describe('key revocation across processes (PostgreSQL)', () => {
  it('a key revoked in one process is refused by another within a second', async (t) => {
    const started = await keyAndOtherProcess(t);
    if (started === undefined) return;
    const { test, record, other } = started;
    await other.next(/^accepted /);
    assert.equal(await other.next(/^listening /), 'listening true', 'the other process follows key changes');
    // The other process has the key's row cached now; revoke it here.
    const revokedAt = Date.now();
    assert.ok(await revokeApiKey(test.db, record.id));
    const refusedAt = Number((await other.next(/^refused /)).split(' ')[1]);
    const seconds = (refusedAt - revokedAt) / 1000;
    t.diagnostic(`revocation took effect in the other process after ${seconds.toFixed(3)} s`);
    assert.ok(seconds < 1, `refused after ${seconds} s`);
  });

  it('when the notification connection is lost, revocation still takes effect within about a second', async (t) => {
    const started = await keyAndOtherProcess(t);
    if (started === undefined) return;
    const { test, record, other } = started;
    await other.next(/^listening true/);
    // Cut every listening connection of this schema's channel; the revocation's NOTIFY is then lost.
    const { rowCount } = await test.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gridstream-listen'
         AND pid <> pg_backend_pid() AND query ILIKE $1`,
      [`%${test.schema}%`],
    );
    assert.ok(rowCount >= 1, 'a listening connection was cut');
    const revokedAt = Date.now();
    assert.ok(await revokeApiKey(test.db, record.id));
    const refusedAt = Number((await other.next(/^refused /)).split(' ')[1]);
    const seconds = (refusedAt - revokedAt) / 1000;
    t.diagnostic(`without notifications: refused after ${seconds.toFixed(3)} s`);
    assert.ok(seconds < 2, `refused after ${seconds} s`);
  });
});
