import { findErrorBy, TimeoutError as KafkaTimeoutError, UserError, type GenericError } from '@platformatic/kafka';
import { findInErrorTree, tlsFailure } from '../../common/index.ts';
import { LogError, type LogErrorCode } from '../errors.ts';

/**
 * Kafka protocol errors whose meaning does not change on a retry, by the `apiId` @platformatic/kafka gives them
 * (Kafka's own error names). Everything else the broker says is transient (leader moved, coordinator loading,
 * not enough replicas) and maps to a retryable `broker_unavailable`.
 */
const PERMANENT_PROTOCOL_ERRORS: Readonly<Record<string, LogErrorCode>> = {
  MESSAGE_TOO_LARGE: 'log.record_too_large',
  RECORD_LIST_TOO_LARGE: 'log.record_too_large',
  UNKNOWN_TOPIC_OR_PARTITION: 'log.unknown_topic',
  UNKNOWN_TOPIC_ID: 'log.unknown_topic',
  INVALID_TOPIC_EXCEPTION: 'log.invalid_argument',
  INVALID_PARTITIONS: 'log.invalid_argument',
  INVALID_REPLICATION_FACTOR: 'log.invalid_argument',
  INVALID_REPLICA_ASSIGNMENT: 'log.invalid_argument',
  INVALID_CONFIG: 'log.invalid_argument',
  INVALID_REQUEST: 'log.invalid_argument',
  INVALID_TIMESTAMP: 'log.invalid_argument',
  INVALID_RECORD: 'log.invalid_argument',
  POLICY_VIOLATION: 'log.invalid_argument',
  UNSUPPORTED_VERSION: 'kafka.failure',
  UNSUPPORTED_COMPRESSION_TYPE: 'kafka.failure',
  CORRUPT_MESSAGE: 'kafka.failure',
};

/** Authentication and authorisation failures: retrying with the same credentials cannot succeed. */
const AUTH_ERRORS = [
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
];

/**
 * A failed SASL authentication anywhere in the error tree. The library nests it as the `cause` of a retryable
 * network error, where its own `findErrorBy` (which follows `errors` only) does not look.
 */
export function authenticationFailure(error: unknown): Error | undefined {
  const found = findInErrorTree(
    error,
    (e) =>
      e instanceof Error &&
      (('code' in e && e.code === 'PLT_KFK_AUTHENTICATION') ||
        ('apiId' in e && typeof e.apiId === 'string' && AUTH_ERRORS.includes(e.apiId))),
  );
  return found instanceof Error ? found : undefined;
}

/**
 * A connection failure that no retry with the same settings can mend: a refused SASL login, an untrusted or
 * mismatched TLS certificate.
 */
export function isPermanentConnectionFailure(error: unknown): boolean {
  return authenticationFailure(error) !== undefined || tlsFailure(error) !== undefined;
}

/**
 * The first error in a @platformatic/kafka error tree (retry series are `MultipleErrors`) whose `property`
 * equals `value`; `null` for anything that is not one of the library's errors.
 */
export function findKafkaError(error: unknown, property: string, value: unknown): GenericError | null {
  return error instanceof Error ? findErrorBy(error, property, value) : null;
}

/**
 * True when the library reports that a topic does not exist. Its metadata call replaces the broker's
 * UNKNOWN_TOPIC_OR_PARTITION with a bare `UserError('Unknown topic <name>.')` without a cause, so for that one
 * case the message is all there is to go on; it is matched here and nowhere else.
 */
export function isUnknownTopic(error: unknown): boolean {
  if (
    findKafkaError(error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION') ||
    findKafkaError(error, 'apiId', 'UNKNOWN_TOPIC_ID')
  ) {
    return true;
  }
  const user = findKafkaError(error, 'code', UserError.code);
  return user !== null && user.message.startsWith('Unknown topic ');
}

/**
 * True when the coordinator fenced this static member: another process joined with the same group.instance.id. The
 * library treats it as "rejoin", which would make the two fence each other for ever; it is fatal, as in the Java
 * client.
 */
export function isFencedInstance(error: unknown): boolean {
  return findKafkaError(error, 'apiId', 'FENCED_INSTANCE_ID') !== null;
}

/** True when the broker asks the member to rejoin its group (a rebalance happened or it was evicted). */
export function needsRejoin(error: unknown): boolean {
  return findKafkaError(error, 'needsRejoin', true) !== null;
}

/**
 * Maps anything @platformatic/kafka throws to a {@link LogError} with a stable code and a correct `retryable`
 * flag, keeping the original as `cause`. Permanent causes are looked for first: a retry series that ended on
 * MESSAGE_TOO_LARGE is a too-large record even if an earlier attempt hit a network blip.
 */
export function toLogError(error: unknown, what: string, details: Record<string, unknown> = {}): LogError {
  if (error instanceof LogError) return error;
  const withCause = (code: LogErrorCode, message: string, retryable?: boolean, extra: Record<string, unknown> = {}) =>
    new LogError(code, `${what}: ${message}`, {
      cause: error,
      details: { ...details, ...extra },
      ...(retryable === undefined ? {} : { retryable }),
    });

  if (isFencedInstance(error))
    return withCause(
      'kafka.failure',
      'another member of the group registered with the same instance id: give every worker its own GRIDSTREAM_INSTANCE_ID',
      false,
      { kafkaError: 'FENCED_INSTANCE_ID' },
    );
  for (const [apiId, code] of Object.entries(PERMANENT_PROTOCOL_ERRORS)) {
    const found = findKafkaError(error, 'apiId', apiId);
    if (found)
      return withCause(code, found.message, code === 'kafka.failure' ? false : undefined, { kafkaError: apiId });
  }
  if (isUnknownTopic(error)) return withCause('log.unknown_topic', 'the topic does not exist');
  const tls = tlsFailure(error);
  if (tls !== undefined) return withCause('kafka.tls_failed', tls.reason, false, { tlsError: tls.code });
  for (const apiId of AUTH_ERRORS) {
    const found = findKafkaError(error, 'apiId', apiId);
    if (found) return withCause('kafka.failure', found.message, false, { kafkaError: apiId });
  }
  const auth = authenticationFailure(error);
  if (auth !== undefined)
    return withCause(
      'kafka.failure',
      `authentication failed (${auth.message.replace(/\.$/, '')}: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password)`,
      false,
    );
  if (findKafkaError(error, 'closed', true)) return withCause('log.closed', 'the client is closed');
  if (findKafkaError(error, 'constructor', KafkaTimeoutError) || findKafkaError(error, 'apiId', 'REQUEST_TIMED_OUT')) {
    return withCause('kafka.timeout', 'the broker did not answer in time');
  }
  if (findKafkaError(error, 'code', 'PLT_KFK_NETWORK'))
    return withCause('kafka.broker_unavailable', 'no broker could be reached');
  const retryable =
    findKafkaError(error, 'canRetry', false) === null && findKafkaError(error, 'canRetry', true) !== null;
  if (retryable) return withCause('kafka.broker_unavailable', messageOf(error));
  return withCause('kafka.failure', messageOf(error), false);
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return `${error.message} (last: ${messageOf(error.errors[error.errors.length - 1])})`;
  }
  return error instanceof Error ? error.message : String(error);
}
