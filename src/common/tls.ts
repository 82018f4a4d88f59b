import { findInErrorTree } from './errors.ts';

/**
 * Node's codes for a TLS peer that cannot be trusted: OpenSSL's certificate verification results and Node's own
 * host-name check. None of them goes away on a retry with the same settings.
 */
const VERIFICATION_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What {@link tlsFailure} found: Node's code and a sentence for an operator. */
export interface TlsFailure {
  readonly code: string;
  readonly reason: string;
}

/**
 * The TLS failure anywhere in `error`'s tree (its `cause` chain and the `errors` of aggregate errors, as client
 * libraries wrap a socket error in retry series), or `undefined`. A certificate that fails verification, a host
 * name the certificate does not name, or an OpenSSL protocol error (`ERR_SSL_*`: TLS spoken to a plaintext port,
 * a client certificate the server refused) is a configuration problem: retrying cannot fix it.
 */
export function tlsFailure(error: unknown): TlsFailure | undefined {
  const found = findInErrorTree(error, (e) => {
    const code = codeOf(e);
    return code !== undefined && (VERIFICATION_CODES.has(code) || code.startsWith('ERR_SSL_'));
  });
  const code = codeOf(found);
  return code === undefined ? undefined : { code, reason: describe(code) };
}

function codeOf(e: unknown): string | undefined {
  return e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function describe(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return `the server's certificate does not name the host connected to (${code})`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG')
    return `the server did not answer in TLS: is it a plaintext port? (${code})`;
  if (code.startsWith('ERR_SSL_')) return `the TLS handshake failed (${code})`;
  return `the server's certificate is not trusted: not signed by a configured CA, expired or revoked (${code})`;
}
