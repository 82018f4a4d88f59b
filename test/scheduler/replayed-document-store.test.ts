import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ReplayedDocumentStore } from '../../src/scheduler/index.ts';
import { MemoryReplayedDocumentStore, SqlReplayedDocumentStore } from '../../src/scheduler/index.ts';
import { DB_KINDS, count, openTestDb } from '../storage/helpers.ts';

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** The contract every ReplayedDocumentStore keeps; `reopen` gives the same store after a restart, if it has one. */
async function contract(store: ReplayedDocumentStore, reopen?: () => Promise<ReplayedDocumentStore>): Promise<void> {
  const [a, b, c] = [hash('a'), hash('b'), hash('c')];
  assert.deepEqual([...(await store.published([]))], []);
  assert.deepEqual([...(await store.published([a, b]))], []);
  await store.record({ contentHash: a, fileName: 'a.xml' });
  await store.record({ contentHash: b, fileName: 'b.xml' });
  await store.record({ contentHash: a, fileName: 'a-renamed.xml' }); // again: no error, still one document
  assert.deepEqual([...(await store.published([a, b, c]))].sort(), [a, b].sort());
  if (reopen !== undefined) {
    const again = await reopen();
    assert.deepEqual([...(await again.published([c, b, a]))].sort(), [a, b].sort(), 'kept across a restart');
  }
}

describe('replayed-document stores', () => {
  it('in memory', async () => {
    await contract(new MemoryReplayedDocumentStore());
  });

  for (const kind of DB_KINDS) {
    it(`SQL on ${kind}: the same contract, kept across a restart, one row per content`, async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      await contract(
        new SqlReplayedDocumentStore(handle.db),
        async () => new SqlReplayedDocumentStore(await handle.reopen()),
      );
      assert.equal(await count(handle.db, 'replayed_documents'), 2);
      await assert.rejects(
        new SqlReplayedDocumentStore(handle.db).record({ contentHash: 'not a hash', fileName: 'x.xml' }),
        /check constraint/,
      );
    });
  }
});
