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

/**
 * OpenSSL protocol errors that the same settings will meet again: TLS spoken to a plaintext port, a peer refusing
 * our certificate or our CA. Other `ERR_SSL_*` codes (an unexpected EOF, an internal alert) are seen while a server
 * restarts or fails over, and are retried like any broken connection.
 */
const PERMANENT_SSL_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_CA_MD_TOO_WEAK',
  'ERR_SSL_EE_KEY_TOO_SMALL',
]);

/** What {@link tlsFailure} found: Node's code and a sentence for an operator. */
export interface TlsFailure {
  readonly code: string;
  readonly reason: string;
}

/**
 * The TLS failure anywhere in `error`'s tree (its `cause` chain and the `errors` of aggregate errors, as client
 * libraries wrap a socket error in retry series), or `undefined`. A certificate that fails verification, a host
 * name the certificate does not name, or an OpenSSL protocol error that the same settings meet again (TLS spoken
 * to a plaintext port, a client certificate the server refused) is a configuration problem: retrying cannot fix it.
 */
export function tlsFailure(error: unknown): TlsFailure | undefined {
  const found = findInErrorTree(error, (e) => {
    const code = codeOf(e);
    return code !== undefined && (VERIFICATION_CODES.has(code) || PERMANENT_SSL_CODES.has(code));
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
