import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntsoeError, parseBanUntil, readEntsoeAnswer } from '../../../src/connectors/entsoe/index.ts';
import type { HttpResponse } from '../../../src/connectors/http/index.ts';
import { HttpError, findHttpError } from '../../../src/connectors/http/index.ts';

/*
 * Every ban wording here is quoted from a source, never made up:
 * - REAL_BAN: the R3 service's answer reported in BerriJ/entsoe-apy#99 (2025-11-25), HTTP 429.
 * - OLD_TITLE and OLD_MESSAGE: the old RESTful API guide §1.8 (quoted in EnergieID/entsoe-py#70): the ban "returns
 *   "HTTP Status 429 - TOO MANY REQUESTS" with message text "Max allowed requests per minute from each unique IP is
 *   max up to 400 only"". The guide gives the two texts, not the page around them.
 */
const REAL_BAN = "<html><body><p>Requester banned until '2025-11-25T10:01:55.545Z'.</p></body></html>";
const OLD_TITLE = 'HTTP Status 429 - TOO MANY REQUESTS';
const OLD_MESSAGE = 'Max allowed requests per minute from each unique IP is max up to 400 only';
const WHERE = 'https://web-api.tp.entsoe.eu/api?documentType=A75';

function response(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  const all = new Headers({ 'content-type': 'text/html;charset=utf-8', ...headers });
  return {
    status,
    headers: all,
    body: new TextEncoder().encode(body),
    contentType: (all.get('content-type') ?? '').split(';')[0]?.trim() ?? '',
    retryAfterMs: null,
  };
}

/** The ban `answer` is read as: an `EntsoeError('banned')`, retryable, whose `HttpError('banned')` cause says when. */
function banOf(answer: HttpResponse): HttpError {
  let thrown: unknown;
  try {
    readEntsoeAnswer(answer, WHERE);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof EntsoeError, `expected a ban, got ${String(thrown)}`);
  assert.equal(thrown.code, 'entsoe.banned');
  assert.equal(thrown.retryable, true);
  const http = findHttpError(thrown);
  assert.ok(http instanceof HttpError);
  assert.equal(http.code, 'http.banned');
  assert.equal(http.status, answer.status);
  return http;
}

describe('ENTSO-E answers: bans', () => {
  it('reads the real R3 ban (HTTP 429, end quoted, with milliseconds) with its end', () => {
    const http = banOf(response(429, REAL_BAN));
    assert.equal(http.bannedUntil, Date.parse('2025-11-25T10:01:55.545Z'));
  });

  it('reads the documented 429 message as a ban with no stated end, as HTML and as plain text', () => {
    const html = `<html><body><h1>${OLD_TITLE}</h1><p>${OLD_MESSAGE}</p></body></html>`;
    assert.equal(banOf(response(429, html)).bannedUntil, null);
    assert.equal(banOf(response(429, OLD_MESSAGE, { 'content-type': 'text/plain' })).bannedUntil, null);
    assert.equal(banOf(response(429, OLD_TITLE, { 'content-type': 'text/plain' })).bannedUntil, null);
  });

  it('reads the documented 429 message as a ban whatever status it comes with', () => {
    // The guide says where the text comes from (a redirect to another port), not with which status.
    assert.equal(banOf(response(200, OLD_MESSAGE, { 'content-type': 'text/plain' })).bannedUntil, null);
    assert.equal(banOf(response(200, `<html><body><p>${OLD_MESSAGE}</p></body></html>`)).bannedUntil, null);
  });

  it('reads a redirect to port 81 or 8443 (the guide\u2019s ban redirect, not followed) as a ban', () => {
    for (const location of ['https://web-api.tp.entsoe.eu:8443/api', 'http://web-api.tp.entsoe.eu:81/api']) {
      assert.equal(banOf(response(302, '', { location })).bannedUntil, null, location);
    }
  });

  it('reads a bare 429 as a ban', () => {
    assert.equal(banOf(response(429, '')).bannedUntil, null);
  });

  it('does not read other answers as bans', () => {
    const other = (answer: HttpResponse): unknown => {
      try {
        return readEntsoeAnswer(answer, WHERE);
      } catch (error) {
        return error;
      }
    };
    const moved = other(response(302, '', { location: 'https://web-api.tp.entsoe.eu/api?x=1' }));
    assert.ok(moved instanceof EntsoeError && moved.code !== 'entsoe.banned');
    const unauthorized = other(
      response(401, '<html><body>Unauthorized. Missing or invalid security token</body></html>'),
    );
    assert.ok(unauthorized instanceof EntsoeError && unauthorized.code === 'entsoe.unauthorized');
    const maintenance = other(response(503, '<html><body>Service Temporarily Unavailable</body></html>'));
    assert.ok(maintenance instanceof EntsoeError && maintenance.code === 'entsoe.http_error');
  });
});

describe('parseBanUntil', () => {
  it('reads the one form seen: quoted ISO instant with milliseconds and Z, followed by a full stop', () => {
    assert.equal(parseBanUntil(REAL_BAN), Date.parse('2025-11-25T10:01:55.545Z'));
    assert.equal(parseBanUntil("Requester banned until '2025-11-25T10:01:55.545Z'."), 1764064915545);
  });

  it('has no end to read in the documented 429 texts', () => {
    assert.equal(parseBanUntil(OLD_MESSAGE), null);
    assert.equal(parseBanUntil(OLD_TITLE), null);
  });

  it('gives null for an end it cannot read, so that the documented length is waited', () => {
    assert.equal(parseBanUntil("Requester banned until '2025-13-45T99:00:00Z'."), null);
    assert.equal(parseBanUntil("Requester banned until 'tomorrow'."), null);
    assert.equal(parseBanUntil('Requester banned.'), null);
  });
});
