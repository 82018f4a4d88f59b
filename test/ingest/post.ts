import { request } from 'node:http';

/** What a streamed POST got back, and how many body bytes it managed to send. */
export interface StreamedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly sent: number;
  /**
   * The server closed the connection while the body was still being sent (EPIPE/ECONNRESET) and its answer was
   * lost with it: a server that stops reading a refused body may reset the connection before the client has read
   * the 413 (then `status` is 0).
   */
  readonly reset: boolean;
}

/**
 * POSTs `total` bytes made by `chunk(i)` (generated as sent, never held whole) with node:http, which reports an
 * answer that arrives before the body is sent (undici's fetch may not). Without `contentLength` the body is sent
 * chunked; with it, that length is declared (and `total` bytes are offered). Stops sending once answered.
 */
export function postStreamed(
  url: string,
  options: {
    readonly total: number;
    readonly chunk: (i: number) => Buffer;
    readonly headers?: Readonly<Record<string, string>>;
    readonly contentLength?: number;
    readonly timeoutMs?: number;
  },
): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'POST',
      headers: {
        ...(options.headers ?? {}),
        ...(options.contentLength === undefined ? {} : { 'content-length': String(options.contentLength) }),
      },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeoutMs ?? 20_000} ms (sent ${sent} bytes)`));
    }, options.timeoutMs ?? 20_000);
    req.on('response', (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString(),
          sent,
          reset: false,
        });
        req.destroy();
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return;
      clearTimeout(timer);
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET')
        resolve({ status: 0, headers: {}, body: '', sent, reset: true });
      else reject(error);
    });
    let i = 0;
    const pump = (): void => {
      while (!answered && !req.destroyed && sent < options.total) {
        const c = options.chunk(i++);
        const part = c.byteLength > options.total - sent ? c.subarray(0, options.total - sent) : c;
        sent += part.byteLength;
        if (!req.write(part)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && !req.destroyed && sent >= options.total) req.end();
    };
    pump();
  });
}
