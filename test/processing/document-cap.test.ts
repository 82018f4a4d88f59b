import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/common/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import { PROCESSING_REJECT_CODES, observationsFromEntsoe, processFileBody } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { entsoeFixtureText } from '../helpers/fixtures.ts';
import { hostileEntsoeDocument } from '../helpers/hostile-entsoe.ts';

const reference = loadReference();

describe('processing: documents too big to expand', () => {
  it('an 85 KB document of 150 M steps becomes one dead letter for the whole document, at once', () => {
    const started = performance.now();
    const result = processFileBody(hostileEntsoeDocument(150, 1_000_000), 'hostile.xml', reference);
    const ms = performance.now() - started;
    assert.equal(result.chunks.length, 0);
    assert.deepEqual(
      result.rejects.map((r) => r.code),
      ['processing.too_many_steps'],
    );
    const reject = result.rejects[0];
    assert.ok(reject !== undefined && PROCESSING_REJECT_CODES.includes(reject.code) && reject.code in ERROR_CODES);
    assert.equal(reject.position['document'], 'hostile.xml');
    assert.equal(reject.position['documentIndex'], 0);
    assert.match(reject.message, /more than 2000000 steps/);
    assert.ok(ms < 20_000, `refused within 20 s (took ${Math.round(ms)} ms)`);
  });

  it('a series whose Periods lie centuries apart is refused instead of allocating its quarter-hour grid', () => {
    // Two one-day Periods of the real BE prices, 199 years apart: few steps, 7 M quarter hours between them.
    const text = entsoeFixtureText('A44_BE_PT60M_A03_2024-10-08.xml');
    const open = text.indexOf('<Period>');
    const close = text.indexOf('</Period>') + '</Period>'.length;
    const period = text.slice(open, close);
    const far = period
      .replace('<start>2024-10-07T22:00Z</start>', '<start>2199-10-07T22:00Z</start>')
      .replace('<end>2024-10-08T22:00Z</end>', '<end>2199-10-08T22:00Z</end>');
    const body = `${text.slice(0, close)}${far}${text.slice(close)}`;
    const outcome = parseEntsoeDocument(body);
    assert.equal(outcome.kind, 'series');
    const result = observationsFromEntsoe(outcome, { reference, fallbackDocumentId: 'far.xml' });
    const codes = result.rejects.map((r) => r.code);
    assert.ok(codes.includes('processing.too_many_steps'), codes.join(','));
    const reject = result.rejects.find((r) => r.code === 'processing.too_many_steps');
    assert.equal(reject?.position['zone'], 'BE');
  });
});
