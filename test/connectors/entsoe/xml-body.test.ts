import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEntsoeDocument, periodSteps } from '../../../src/connectors/entsoe/index.ts';
import type { EntsoePeriod } from '../../../src/connectors/entsoe/index.ts';
import { entsoeFixture, entsoeFixtureText } from '../../helpers/fixtures.ts';

const stepsOf = (p: EntsoePeriod | undefined) => (p === undefined ? [] : [...periodSteps(p)]);

function errorCodeOf(body: Uint8Array | string, maxBytes?: number): string {
  const outcome = parseEntsoeDocument(body, maxBytes === undefined ? {} : { maxBytes });
  assert.equal(outcome.kind, 'invalid', JSON.stringify(outcome).slice(0, 200));
  return outcome.error.code;
}

describe('unsafe and unreadable bodies', () => {
  it('refuses a billion-laughs DOCTYPE without expanding it', () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><GL_MarketDocument><mRID>&lol2;</mRID></GL_MarketDocument>`;
    assert.equal(errorCodeOf(lol), 'entsoe.doctype_refused');
  });
  it('refuses an external entity (XXE)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Publication_MarketDocument><mRID>&x;</mRID></Publication_MarketDocument>`;
    assert.equal(errorCodeOf(xxe), 'entsoe.doctype_refused');
  });
  it('refuses a body over the configured maximum size, before parsing', () => {
    const body = entsoeFixture('A75_LU_PT15M_A01_2024-05-21.xml');
    assert.equal(errorCodeOf(body, 1024), 'entsoe.body_too_large');
    assert.equal(parseEntsoeDocument(body, { maxBytes: body.byteLength }).kind, 'series');
  });
  it('a truncated document is malformed_xml with its line, not a partial result', () => {
    const text = entsoeFixtureText('A75_LU_PT15M_A01_2024-05-21.xml');
    const outcome = parseEntsoeDocument(text.slice(0, Math.floor(text.length / 2)));
    assert.equal(outcome.kind, 'invalid');
    assert.equal(outcome.error.code, 'entsoe.malformed_xml');
    assert.equal(typeof outcome.error.details['line'], 'number');
  });
  it('JSON, plain text, empty and zip bodies are typed errors', () => {
    assert.equal(errorCodeOf('{"error":"Invalid auth-token"}'), 'entsoe.not_xml');
    assert.equal(errorCodeOf('Service Unavailable'), 'entsoe.not_xml');
    assert.equal(errorCodeOf(''), 'entsoe.empty_body');
    assert.equal(errorCodeOf('  \n '), 'entsoe.empty_body');
    assert.equal(errorCodeOf(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0])), 'entsoe.zip_body');
  });
  it('an HTML error page is html_body and a token echoed in it is redacted', () => {
    const page =
      '<!DOCTYPE html><html><body><p>Bad request https://x/api?securityToken=abcd-1234-secret&documentType=A44</p></body></html>';
    const outcome = parseEntsoeDocument(page);
    assert.equal(outcome.kind, 'invalid');
    assert.equal(outcome.error.code, 'entsoe.html_body');
    assert.doesNotMatch(outcome.error.message, /abcd-1234-secret/);
  });
  it('invalid UTF-8 bytes are a typed error', () => {
    const bytes = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="UTF-8"?><a>'),
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from('</a>'),
    ]);
    assert.equal(errorCodeOf(bytes), 'entsoe.unsupported_encoding');
  });
  it('reads a document with a UTF-8 byte-order mark, prefixed namespaces and attributes wrapped over lines', () => {
    const text = entsoeFixtureText('A44_FR_PT60M_A01_2023-05-07.xml')
      .replace('<Publication_MarketDocument xmlns=', '<ns:Publication_MarketDocument\n   xmlns:ns=')
      .replace('</Publication_MarketDocument>', '</ns:Publication_MarketDocument>')
      .replace(/<(\/?)(TimeSeries|Period|Point|position|price\.amount)>/g, '<$1ns:$2>');
    const outcome = parseEntsoeDocument(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    assert.equal(outcome.kind, 'series');
    assert.equal(outcome.stats.steps, 48);
  });
});

describe('rejects keep the rest of the document', () => {
  const base = entsoeFixtureText('A44_SE4_PT60M_A01_2023-08-07.xml');
  it('a non-numeric value rejects only that point, with its source position', () => {
    const broken = base.replace('<price.amount>-0.19</price.amount>', '<price.amount>n/a</price.amount>');
    const outcome = parseEntsoeDocument(broken);
    assert.equal(outcome.kind, 'series');
    assert.equal(outcome.stats.steps, 47);
    assert.equal(outcome.rejects.length, 1);
    const [reject] = outcome.rejects;
    assert.equal(reject?.code, 'invalid_value');
    assert.equal(reject.seriesIndex, 0);
    assert.equal(reject.periodIndex, 0);
    assert.equal(reject.position, 1);
    assert.ok((reject.line ?? 0) > 1);
  });
  it('an unknown resolution rejects its Period; a position beyond the Period end is rejected', () => {
    const last = base.lastIndexOf('<position>24</position>');
    const broken = `${base.slice(0, last)}<position>99</position>${base.slice(last + 23)}`.replace(
      '<resolution>PT60M</resolution>',
      '<resolution>PT7Q</resolution>',
    );
    const outcome = parseEntsoeDocument(broken);
    assert.equal(outcome.kind, 'series');
    assert.deepEqual(outcome.rejects.map((r) => r.code).sort(), ['invalid_resolution', 'position_out_of_range']);
    assert.equal(outcome.stats.steps, 23);
  });
  it('a duplicated position keeps the first value and rejects the second', () => {
    const broken = base.replace('<position>2</position>', '<position>1</position>');
    const outcome = parseEntsoeDocument(broken);
    assert.equal(outcome.kind, 'series');
    assert.equal(outcome.rejects[0]?.code, 'duplicate_position');
    assert.equal(stepsOf(outcome.series[0]?.periods[0])[0]?.value, '-0.19');
  });
  it('an unsupported curve type rejects the series', () => {
    const outcome = parseEntsoeDocument(base.replace('<curveType>A01</curveType>', '<curveType>A02</curveType>'));
    assert.equal(outcome.kind, 'series');
    assert.ok(outcome.rejects.some((r) => r.code === 'unsupported_curve_type'));
  });
});
