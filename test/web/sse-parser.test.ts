import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from '../../web/src/sse-parser.ts';

describe('SseParser', () => {
  it('parses events, ids, comments and multi-line data', () => {
    const parser = new SseParser();
    const events = parser.push(
      'event: hello\ndata: {"zones":null}\nid: 0\n\n: keep-alive\n\nevent: slot\ndata: a\ndata: b\nid: 1\n\n',
    );
    assert.deepEqual(events, [
      { event: 'hello', data: '{"zones":null}', id: '0' },
      { event: 'slot', data: 'a\nb', id: '1' },
    ]);
    assert.equal(parser.lastEventId, '1');
  });

  it('assembles events split anywhere across chunks, with CRLF, CR or LF line ends', () => {
    const text = 'event: slot\r\ndata: {"x":1}\r\n\r\nevent: slot\rdata: two\r\rdata: plain\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(
        events.map((e) => [e.event, e.data]),
        [
          ['slot', '{"x":1}'],
          ['slot', 'two'],
          ['message', 'plain'],
        ],
        `cut at ${cut}`,
      );
    }
  });

  it('ignores events without data, keeps the retry hint, strips one leading space only', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('retry: 2500\n\nevent: x\n\ndata:  two spaces\n\n'), [
      { event: 'message', data: ' two spaces', id: undefined },
    ]);
    assert.equal(parser.retryMs, 2500);
  });
});
