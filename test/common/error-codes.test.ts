import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, codeMatches, codesForAlias, defaultRetryable, isErrorCode } from '../../src/common/index.ts';
import { errorCodesPage } from '../../scripts/generate-docs.ts';
import { ROOT } from '../helpers/fixtures.ts';

describe('the registry of error and reason codes', () => {
  it('names the system of every code, and docs/ERROR-CODES.md is the one generated from it', () => {
    for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^[a-z]+\.[a-z_]+$/, code);
    assert.equal(readFileSync(join(ROOT, 'docs', 'ERROR-CODES.md'), 'utf8'), errorCodesPage());
  });
  it('keeps the old names as aliases: a filter by either finds the other; an old name can mean several codes', () => {
    assert.ok(codeMatches('db_unavailable', 'db.unavailable'), 'a dead letter stored with the old name');
    assert.ok(codeMatches('db.unavailable', 'db_unavailable'), 'a filter with the old name');
    assert.ok(!codeMatches('db.unavailable', 'db.conflict'));
    assert.deepEqual(codesForAlias('timeout').sort(), ['entsoe.timeout', 'http.timeout', 'kafka.timeout']);
    assert.ok(codeMatches('kafka.timeout', 'timeout') && codeMatches('http.timeout', 'timeout'));
    assert.ok(codeMatches('something_else', 'something_else'), 'an unknown reason still matches itself');
  });
  it('gives each code a default retryable flag', () => {
    assert.equal(defaultRetryable('kafka.broker_unavailable'), true);
    assert.equal(defaultRetryable('db.rejected'), false);
    assert.equal(isErrorCode('db_unavailable'), false);
    assert.equal(defaultRetryable('not.a.code'), false);
  });
});
