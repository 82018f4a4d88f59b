/** One Server-Sent Event as dispatched (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * Incremental parser of a `text/event-stream` body: feed it decoded text chunks as they arrive, it returns the
 * events completed by each chunk. Handles CRLF/CR/LF line ends split across chunks, comments (`: keep-alive`),
 * multi-line `data:` and the `retry:` hint.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #pendingCr = false;
  /** Reconnection delay suggested by the server (`retry:`), if any. */
  retryMs: number | undefined;
  /** The last event id seen, to resume with `Last-Event-ID`. */
  lastEventId: string | undefined;

  push(chunk: string): SseMessage[] {
    let text = chunk;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = text.endsWith('\r');
    this.#buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const message = this.#line(line);
      if (message !== undefined) out.push(message);
    }
    return out;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (name) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const id = this.#id;
    if (id !== undefined) this.lastEventId = id;
    if (this.#data.length === 0) {
      this.#event = '';
      return undefined;
    }
    const message = { event: this.#event === '' ? 'message' : this.#event, data: this.#data.join('\n'), id };
    this.#event = '';
    this.#data = [];
    return message;
  }
}
