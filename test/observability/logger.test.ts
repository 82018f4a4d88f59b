import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../src/config/index.ts';
import { createLogger, redactUrl, secretScrubber } from '../../src/observability/index.ts';

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
  it('redacts URL passwords of any length, keeps the user, and leaves URLs without one alone', () => {
    assert.equal(
      redactUrl('connect to postgres://gs:pw@db.internal:5432/grid failed; mqtts://dev:x%40y@broker/ too'),
      'connect to postgres://gs:[redacted]@db.internal:5432/grid failed; mqtts://dev:[redacted]@broker/ too',
    );
    for (const plain of ['http://localhost:8080/api@v1', 'mqtt://broker:1883', 'https://h/a:b@c', 'user:pw@host'])
      assert.equal(redactUrl(plain), plain);
  });
  it('a logger line never shows a short URL password, which value scrubbing skips', () => {
    const lines: string[] = [];
    const url = new Secret('postgres://gs:pw@db:5432/grid');
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) }, secrets: [url] });
    log.error({ err: new Error('connect ECONNREFUSED for postgres://gs:pw@db:5432/other') }, 'database down');
    assert.doesNotMatch(lines.join(''), /gs:pw@/);
    assert.match(lines.join(''), /postgres:\/\/gs:\[redacted\]@db:5432\/other/);
  });
  it('scrubs secret values longest first, ignores values too short to search for', () => {
    const scrub = secretScrubber([new Secret('hunter22'), 'db://u:hunter22@h/x', 'abc', null, undefined]);
    assert.equal(scrub('url db://u:hunter22@h/x pw hunter22 abc'), 'url [redacted] pw [redacted] abc');
  });
});

describe('log format', () => {
  const capture = (format: 'pretty' | 'json' | 'auto', isTTY: boolean, level: 'info' | 'debug' = 'info') => {
    const lines: string[] = [];
    const secret = new Secret('s3cr3t-token-value');
    const logger = createLogger({
      level,
      format,
      secrets: [secret],
      destination: { write: (l: string) => lines.push(l), isTTY },
    });
    return { lines, logger, secret };
  };
  it('pretty: time of day, level, component, message and fields on one short line, secrets scrubbed', () => {
    const { lines, logger, secret } = capture('pretty', false);
    logger
      .child({ component: 'scheduler' })
      .warn({ documents: 12, url: `https://h/api?securityToken=${secret.reveal()}` }, 'offline replay');
    logger.error({ err: new Error(`boom ${secret.reveal()}`) }, 'failed');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^\d{2}:\d{2}:\d{2} {2}WARN {3}scheduler {2}offline replay {2}documents=12 url=/);
    assert.doesNotMatch(lines.join(''), /s3cr3t-token-value|"pid"|\{"level"/);
    assert.match(lines[1] ?? '', /ERROR {2}failed {2}err="boom \[redacted\]"/);
    assert.doesNotMatch(lines[1] ?? '', /\n {4}at /, 'no stack at info level');
    assert.ok(!lines.join('').includes('\u001b['), 'no colours when not a terminal');
  });
  it('auto: pretty and coloured on a terminal, JSON otherwise; json: always JSON', () => {
    const tty = capture('auto', true);
    tty.logger.info('hello');
    assert.ok((tty.lines[0] ?? '').includes('\u001b[32mINFO'), 'coloured on a terminal');
    const pipe = capture('auto', false);
    pipe.logger.info('hello');
    assert.equal((JSON.parse(pipe.lines[0] ?? '') as { msg: string }).msg, 'hello');
    const json = capture('json', true);
    json.logger.info('hello');
    assert.equal((JSON.parse(json.lines[0] ?? '') as { msg: string }).msg, 'hello');
  });
  it('pretty at debug shows the stack of an error', () => {
    const { lines, logger } = capture('pretty', false, 'debug');
    logger.error({ err: new Error('boom') }, 'failed');
    assert.match(lines[0] ?? '', /\n {4}at /);
  });
});

describe('URL redaction inside JSON lines', () => {
  it('stops at the closing quote: the rest of the line (the message) survives and the line stays JSON', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
    log.info({ url: 'https://h/api?securityToken=unknown-to-the-scrubber' }, 'request sent');
    const record = JSON.parse(lines[0] ?? '') as { msg: string; url: string };
    assert.equal(record.msg, 'request sent');
    assert.equal(record.url, 'https://h/api?securityToken=[redacted]');
  });
});
