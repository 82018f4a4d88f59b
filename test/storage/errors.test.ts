import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable } from '../../src/common/index.ts';
import { StorageError, toStorageError } from '../../src/storage/errors.ts';

/** A server error report as node-postgres and PGlite build them. */
function sqlError(code: string, message = 'server says no'): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

const classify = (error: unknown): [string, boolean] => {
  const mapped = toStorageError(error, 'test');
  assert.ok(mapped instanceof StorageError);
  return [mapped.code, isRetryable(mapped)];
};

describe('storage error classification', () => {
  it('outages, restarts, overload and conflicts are retryable; data and query errors are not', () => {
    const cases: [unknown, [string, boolean]][] = [
      [sqlError('08006'), ['db.unavailable', true]], // connection failure
      [sqlError('57P01'), ['db.unavailable', true]], // admin shutdown
      [sqlError('57P03'), ['db.unavailable', true]], // the database system is starting up
      [sqlError('53300'), ['db.unavailable', true]], // too many connections
      [sqlError('53100'), ['db.disk_full', true]], // disk full
      [sqlError('53200'), ['db.resources', true]], // out of memory
      [Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), ['db.disk_full', true]],
      [sqlError('40P01'), ['db.conflict', true]], // deadlock
      [sqlError('40001'), ['db.conflict', true]], // serialization failure
      [sqlError('23505'), ['db.rejected', false]], // unique violation
      [sqlError('23514'), ['db.rejected', false]], // check violation
      [sqlError('22P02'), ['db.rejected', false]], // invalid text representation
      [sqlError('42P01'), ['db.query_failed', false]], // undefined table
      [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        ['db.unavailable', true],
      ],
      [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), ['db.unavailable', true]],
      [new Error('Connection terminated unexpectedly'), ['db.unavailable', true]],
      [new TypeError('x is not a function'), ['db.error', false]],
    ];
    for (const [error, expected] of cases) assert.deepEqual(classify(error), expected, String(error));
  });

  it('keeps the cause and the SQLSTATE, and lets an abort through untouched', () => {
    const cause = sqlError('23514');
    const mapped = toStorageError(cause, 'insert');
    assert.ok(mapped instanceof StorageError);
    assert.equal(mapped.cause, cause);
    assert.equal(mapped.sqlState, '23514');
    const abort = new DOMException('stop', 'AbortError');
    assert.equal(toStorageError(abort, 'x'), abort);
  });
});
