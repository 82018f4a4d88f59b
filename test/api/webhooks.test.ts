import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

describe('API: webhook allowlist, rules and deliveries (admin only)', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(async () => {
    await api.close();
  });

  it('is refused to reader and operator keys (403)', async () => {
    for (const key of [api.readerFi, api.operator]) {
      assert.equal((await api.request('/api/v1/admin/webhooks', { key })).status, 403);
      assert.equal((await api.request('/api/v1/admin/webhooks/allowlist', { key })).status, 403);
      assert.equal((await api.request('/api/v1/admin/webhooks/deliveries', { key })).status, 403);
      const put = await api.request('/api/v1/admin/webhooks/allowlist', {
        key,
        method: 'PUT',
        body: { origins: ['https://evil.example'] },
      });
      assert.equal(put.status, 403);
      const post = await api.request('/api/v1/admin/webhooks', {
        key,
        method: 'POST',
        body: { name: 'x', url: 'https://evil.example/h' },
      });
      assert.equal(post.status, 403);
    }
    assert.equal((await api.request('/api/v1/admin/webhooks', { key: null })).status, 401);
    assert.deepEqual((await api.json('/api/v1/admin/webhooks/allowlist')).body, { origins: [] });
  });

  it('replaces the allowlist with normalised origins and refuses what is not an origin', async () => {
    const set = await api.json('/api/v1/admin/webhooks/allowlist', {
      method: 'PUT',
      body: { origins: ['https://Hooks.Example.com', 'http://127.0.0.1:8080/', 'https://hooks.example.com:443'] },
    });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body, { origins: ['http://127.0.0.1:8080', 'https://hooks.example.com:443'] });
    const rows = await api.db.query<{ added_by: string }>('SELECT added_by FROM webhook_allowlist');
    assert.ok(
      rows.rows.every((r) => r.added_by.length > 0),
      'audited by the key name',
    );
    for (const bad of ['ftp://files.example.com', 'https://u:p@hooks.example.com', 'https://h.example.com/path']) {
      const r = await api.json('/api/v1/admin/webhooks/allowlist', { method: 'PUT', body: { origins: [bad] } });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body['code'], 'alerts.webhook_not_allowed');
    }
    assert.equal((await api.json('/api/v1/admin/webhooks/allowlist')).body['origins'] instanceof Array, true);
  });

  it('creates a rule only for a URL on the allowlist, returns its secret once, lists and deletes it', async () => {
    const off = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'off-list', url: 'https://other.example.com/hook' },
    });
    assert.equal(off.status, 400);
    assert.equal(off.body['code'], 'alerts.webhook_not_allowed');
    assert.doesNotMatch(String(off.body['detail']), /\/hook/);
    const userinfo = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'userinfo', url: 'https://me:pw@hooks.example.com/hook' },
    });
    assert.equal(userinfo.status, 400);
    assert.equal(userinfo.body['code'], 'alerts.webhook_not_allowed');
    assert.doesNotMatch(JSON.stringify(userinfo.body), /pw/);
    const short = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'short', url: 'https://hooks.example.com/h', secret: 'too-short' },
    });
    assert.equal(short.status, 400);
    assert.equal(short.body['param'], 'secret');

    const created = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'ops', url: 'https://hooks.example.com/alerts', min_severity: 'critical', zones: ['FI'] },
    });
    assert.equal(created.status, 201);
    const secret = String(created.body['secret']);
    assert.ok(secret.length >= 16);
    const rule = created.body['rule'] as Record<string, unknown>;
    assert.equal(rule['min_severity'], 'critical');
    assert.deepEqual(rule['zones'], ['FI']);
    assert.equal(rule['detectors'], null);
    assert.equal('secret' in rule, false);
    const given = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'local', url: 'http://127.0.0.1:8080/x', secret: 'a-secret-of-16-chars!' },
    });
    assert.equal(given.status, 201);
    assert.equal(given.body['secret'], 'a-secret-of-16-chars!');
    const dup = await api.json('/api/v1/admin/webhooks', {
      method: 'POST',
      body: { name: 'ops', url: 'https://hooks.example.com/alerts' },
    });
    assert.equal(dup.status, 409);

    const listed = await api.request('/api/v1/admin/webhooks');
    const text = await listed.text();
    assert.equal(listed.status, 200);
    assert.ok(!text.includes(secret) && !text.includes('a-secret-of-16-chars!'), 'secrets are never listed');
    const rules = (JSON.parse(text) as { rules: { id: string; name: string }[] }).rules;
    assert.deepEqual(
      rules.map((r) => r.name),
      ['ops', 'local'],
    );

    const deliveries = await api.json('/api/v1/admin/webhooks/deliveries?state=pending&limit=10');
    assert.deepEqual(deliveries.body, { deliveries: [] });
    assert.equal((await api.request('/api/v1/admin/webhooks/deliveries?state=lost')).status, 400);

    const id = rules.find((r) => r.name === 'local')?.id ?? '';
    assert.equal((await api.request(`/api/v1/admin/webhooks/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api.request(`/api/v1/admin/webhooks/${id}`, { method: 'DELETE' })).status, 404);
    assert.equal((await api.request('/api/v1/admin/webhooks/abc', { method: 'DELETE' })).status, 400);
  });
});
