import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_TOPICS, DLQ_TOPICS } from '../../src/contracts/index.ts';
import { pageDeadLetters, summarizeDeadLetters } from '../../src/dlq/index.ts';
import type { EmbeddedLog } from '../../src/log/index.ts';
import { buildDeadLetter, createEmbeddedLog, topicSpecOf } from '../../src/log/index.ts';
import { tempDir } from '../helpers/services.ts';

/** Totals count every dead letter, however many: the admin overview used to stop at 100,000. */
describe('dead-letter totals', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let log: EmbeddedLog;
  const many = 100_010;
  before(async () => {
    dir = await tempDir();
    log = await createEmbeddedLog({ dir: join(dir.path, 'log') });
    await log.createTopics(ALL_TOPICS.map((t) => topicSpecOf(t)));
    const letter = JSON.stringify(
      buildDeadLetter({
        stage: 'storage',
        reason: 'store.constraint_violation',
        message: 'x',
        source: { topic: 'grid.observations', partition: 0, offset: 0, key: 'FI' },
        payload: '{}',
      }),
    );
    const value = Buffer.from(letter);
    for (let i = 0; i < many; i += 5000) {
      const n = Math.min(5000, many - i);
      await log.produce(
        DLQ_TOPICS.storage,
        Array.from({ length: n }, () => ({ key: 'FI', value })),
      );
    }
  });
  after(async () => {
    await log.close();
    await dir.remove();
  });

  it('the summary is exact past 100,000 letters', async () => {
    const summary = await summarizeDeadLetters(log);
    const storage = summary.find((t) => t.topic === DLQ_TOPICS.storage);
    assert.ok(storage !== undefined);
    assert.equal(storage.total, many);
    assert.deepEqual(storage.byReason, { 'store.constraint_violation': many });
  });

  it('a page says how many match in all', async () => {
    const page = await pageDeadLetters(log, DLQ_TOPICS.storage, { limit: 10, count: true });
    assert.equal(page.entries.length, 10);
    assert.equal(page.matched, many);
    const filtered = await pageDeadLetters(log, DLQ_TOPICS.storage, {
      limit: 10,
      count: true,
      filter: { reason: 'store.other' },
    });
    assert.deepEqual([filtered.entries.length, filtered.matched], [0, 0]);
  });
});
