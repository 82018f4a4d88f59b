import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyVerifier, ensureAdminKey } from '../../src/api/index.ts';
import { migrate } from '../../src/storage/index.ts';
import { openTestDb } from '../storage/helpers.ts';

const ENV_KEY = 'Jx4vQ9pL2sW7nE5rT8yU1iO3aZ6cV0bM-kH';

/** The key from GRIDSTREAM_ADMIN_KEY lives only as long as the variable: unset on a later start, it stops working. */
describe('GRIDSTREAM_ADMIN_KEY', () => {
  it('its key is revoked on the first start without the variable, and works again when it is set', async (t) => {
    const test = await openTestDb(t, 'pglite');
    if (test === undefined) return;
    await migrate(test.db);
    const verifier = new KeyVerifier(test.db, { ttlMs: 0, fallbackTtlMs: 0 });
    t.after(() => verifier.stop());
    assert.deepEqual(await ensureAdminKey(test.db, ENV_KEY), { generated: null, envKeyRevoked: false });
    assert.equal((await verifier.verify(ENV_KEY))?.role, 'admin');
    // The next start without the variable.
    const next = await ensureAdminKey(test.db, null);
    assert.equal(next.envKeyRevoked, true);
    assert.equal(next.generated, null, 'not a first start: no key is generated');
    assert.equal(await verifier.verify(ENV_KEY), undefined);
    await ensureAdminKey(test.db, ENV_KEY);
    assert.equal((await verifier.verify(ENV_KEY))?.role, 'admin');
  });
});
