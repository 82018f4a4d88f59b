import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tlsFailure } from '../../src/common/index.ts';

const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('tlsFailure: which TLS errors retrying cannot fix', () => {
  it('finds a verification failure deep in a cause chain or an aggregate', () => {
    const wrapped = new Error('connect failed', {
      cause: new AggregateError([new Error('first'), coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')], 'all attempts'),
    });
    assert.equal(tlsFailure(wrapped)?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.match(tlsFailure(wrapped)?.reason ?? '', /not trusted/);
    assert.match(tlsFailure(coded('ERR_TLS_CERT_ALTNAME_INVALID'))?.reason ?? '', /does not name the host/);
  });

  it('names TLS spoken to a plaintext port and a refused client certificate', () => {
    assert.match(tlsFailure(coded('ERR_SSL_WRONG_VERSION_NUMBER'))?.reason ?? '', /plaintext port/);
    assert.equal(
      tlsFailure(new Error('x', { cause: coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') }))?.code,
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    );
  });

  it('leaves what a restarting server causes to the retries (an unexpected EOF, an internal alert, a reset)', () => {
    for (const code of ['ERR_SSL_UNEXPECTED_EOF_WHILE_READING', 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR', 'ECONNRESET'])
      assert.equal(tlsFailure(new Error('x', { cause: coded(code) })), undefined, code);
    assert.equal(tlsFailure(new Error('no code')), undefined);
  });
});
