import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

describe('GRIDSTREAM_ADMIN_KEY strength', () => {
  for (const [what, weak] of [
    ['16 characters', 'admin-key-012345'],
    ['a long run of one character', 'a'.repeat(64)],
    ['a long word with few different characters', 'adminadminadminadminadminadminadmin'],
  ] as const) {
    it(`refuses ${what} with a config error that does not echo the key`, () => {
      assert.throws(
        () => loadConfig({ GRIDSTREAM_ADMIN_KEY: weak }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, /GRIDSTREAM_ADMIN_KEY: .*too weak/);
          assert.ok(!e.message.includes(weak));
          return true;
        },
      );
    });
  }
  it('accepts a random key (openssl rand -base64 32)', () => {
    const key = 'q3Vd8mZkP0xR7tLw2YbN5cHs9JfA1eGu4oKiXyTzQ6E=';
    assert.equal(loadConfig({ GRIDSTREAM_ADMIN_KEY: key }).adminKey?.reveal(), key);
  });
});
