import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../src/config/index.ts';
import { createLogger, redactUrl } from '../../src/observability/index.ts';

describe('logger', () => {
  it('never writes a secret, wherever it appears in a line', () => {
    const lines: string[] = [];
    const token = new Secret('0123-secret-token-4567');
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) }, secrets: [token] });
    log.info({ url: `https://x/api?securityToken=${token.reveal()}&a=1` }, 'request');
    log.error({ err: new Error(`upstream said: bad token ${token.reveal()}`) }, 'failed');
    log.info({ token: 'field-token', nested: { apiKey: 'field-key' } }, 'fields');
    log.info({ secret: token }, 'object');
    const all = lines.join('');
    assert.equal(lines.length, 4);
    assert.doesNotMatch(all, /0123-secret-token-4567|field-token|field-key/);
    assert.match(all, /\[redacted\]/);
    assert.equal((JSON.parse(lines[0] ?? '{}') as { msg: string }).msg, 'request');
  });
  it('redacts credentials in URLs', () => {
    assert.equal(
      redactUrl('https://h/api?documentType=A44&securityToken=abc&x=1'),
      'https://h/api?documentType=A44&securityToken=[redacted]&x=1',
    );
    assert.equal(redactUrl(new URL('https://h/v3?auth-token=zz')), 'https://h/v3?auth-token=[redacted]');
  });
});
