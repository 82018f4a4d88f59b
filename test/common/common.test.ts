import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GridstreamError, errorCode, isRetryable, normaliseDecimal, parseCsv } from '../../src/common/index.ts';

describe('normaliseDecimal', () => {
  it('keeps decimals exact and drops redundant zeros and signs', () => {
    const cases: [string, string | undefined][] = [
      ['15.00', '15'],
      ['-0.010', '-0.01'],
      ['+5', '5'],
      ['007.50', '7.5'],
      ['-0', '0'],
      ['-0.000', '0'],
      ['.5', '0.5'],
      ['1.', '1'],
      ['123456789012345678901234567890.000000000000000000001', '123456789012345678901234567890.000000000000000000001'],
      ['1e3', undefined],
      ['NaN', undefined],
      ['', undefined],
      ['1 2', undefined],
      ['-', undefined],
    ];
    for (const [input, expected] of cases) assert.equal(normaliseDecimal(input), expected, input);
  });
  it('preserves the numeric value of any decimal', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), (x) => {
        const text = x.toFixed(6);
        assert.ok(Number(normaliseDecimal(text)) === Number(text), text); // -0 and 0 are the same decimal
      }),
    );
  });
});

describe('errors', () => {
  it('retryable is found anywhere in the cause chain; codes come from the first gridstream error', () => {
    const root = new GridstreamError('http.timeout', 'timed out', { retryable: true });
    const wrapped = new Error('fetch failed', { cause: root });
    const outer = new GridstreamError('entsoe.http_error', 'could not fetch', { cause: wrapped });
    assert.equal(isRetryable(outer), true);
    assert.equal(isRetryable(new GridstreamError('entsoe.malformed_xml', 'bad')), false);
    assert.equal(isRetryable(new Error('plain')), false);
    assert.equal(errorCode(wrapped), 'http.timeout');
    assert.equal(errorCode(new Error('x')), 'internal.error');
  });
  it('survives cause cycles', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(isRetryable(a), false);
  });
});

describe('parseCsv', () => {
  it('handles quotes, commas, doubled quotes and line breaks in fields', () => {
    assert.deepEqual(parseCsv('a,b,c\r\n1,"x, y","say ""hi"""\n2,"multi\nline",\n'), [
      { a: '1', b: 'x, y', c: 'say "hi"' },
      { a: '2', b: 'multi\nline', c: '' },
    ]);
  });
});
