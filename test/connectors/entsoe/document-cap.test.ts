import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEntsoeDocument } from '../../../src/connectors/entsoe/index.ts';
import { ERROR_CODES } from '../../../src/common/index.ts';
import { entsoeFixture } from '../../helpers/fixtures.ts';
import { hostileEntsoeDocument } from '../../helpers/hostile-entsoe.ts';

describe('ENTSO-E parser: points per document', () => {
  it('refuses a small document that would expand to 150 M steps, before expanding anything', () => {
    const body = hostileEntsoeDocument(150, 1_000_000);
    assert.ok(body.length < 100_000, `a small document (${body.length} bytes)`);
    const started = performance.now();
    const rssBefore = process.memoryUsage().rss;
    const outcome = parseEntsoeDocument(body);
    const ms = performance.now() - started;
    const grown = process.memoryUsage().rss - rssBefore;
    assert.equal(outcome.kind, 'invalid', `refused, got ${outcome.kind}`);
    assert.equal(outcome.error.code, 'entsoe.too_many_steps');
    assert.ok(outcome.error.code in ERROR_CODES, 'a registered code');
    assert.match(outcome.error.message, /2000000|2 000 000|2,000,000/);
    assert.equal(outcome.error.details['documentIndex'], 0);
    // Hang and memory guards (not performance claims): today this takes ~10 s and 2 GB.
    assert.ok(ms < 20_000, `refused within 20 s (took ${Math.round(ms)} ms)`);
    assert.ok(grown < 300 * 1024 * 1024, `grew by ${Math.round(grown / 1e6)} MB`);
  });

  it('the cap is a setting: a document just under it is read, just over it refused', () => {
    const body = hostileEntsoeDocument(3, 1000);
    const under = parseEntsoeDocument(body, { maxStepsPerDocument: 3000 });
    assert.equal(under.kind, 'series');
    assert.equal(under.stats.steps, 3000);
    const over = parseEntsoeDocument(body, { maxStepsPerDocument: 2999 });
    assert.equal(over.kind, 'invalid');
    assert.equal(over.error.code, 'entsoe.too_many_steps');
  });

  it('counts quarter hours too: a few daily steps over centuries are refused (the 15-minute grid is dense)', () => {
    const text = entsoeFixture('A44_BE_PT60M_A03_2024-10-08.xml')
      .toString('utf8')
      .replace(
        /<start>2024-10-07T22:00Z<\/start>\s*<end>2024-10-08T22:00Z<\/end>(?=\s*<\/timeInterval>)/,
        '<start>1900-01-01T00:00Z</start><end>2099-01-01T00:00Z</end>',
      )
      .replace('<resolution>PT60M</resolution>', '<resolution>P1D</resolution>');
    const outcome = parseEntsoeDocument(text);
    assert.equal(outcome.kind, 'invalid', JSON.stringify(outcome).slice(0, 300));
    assert.equal(outcome.error.code, 'entsoe.too_many_steps');
  });

  it('real documents stay under the cap', () => {
    assert.equal(parseEntsoeDocument(entsoeFixture('A44_BE_PT60M_A03_2024-10-08.xml')).kind, 'series');
  });
});
