import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

describe('GRIDSTREAM_INSTANCE_ID (Kafka static group membership)', () => {
  it('unset means dynamic membership', () => {
    assert.equal(loadConfig({}).instanceId, null);
  });

  it('takes an id as given, and @hostname as the host name', () => {
    assert.equal(loadConfig({ GRIDSTREAM_INSTANCE_ID: 'store-0' }).instanceId, 'store-0');
    assert.equal(loadConfig({ GRIDSTREAM_INSTANCE_ID: '@hostname' }).instanceId, hostname());
  });

  it('refuses an id Kafka tooling could not show or that holds spaces', () => {
    assert.throws(
      () => loadConfig({ GRIDSTREAM_INSTANCE_ID: 'store 0' }),
      (error: unknown) => error instanceof ConfigError && error.message.includes('GRIDSTREAM_INSTANCE_ID'),
    );
  });
});
