import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { GridstreamError } from '../common/index.ts';

const gunzipAsync = promisify(gunzip);

type RefusalCode =
  | 'ingest.body_too_large'
  | 'ingest.unsupported_encoding'
  | 'ingest.unsupported_content_type'
  | 'ingest.bad_encoding'
  | 'ingest.body_timeout';
const STATUS: Readonly<Record<RefusalCode, { status: number; title: string }>> = {
  'ingest.body_too_large': { status: 413, title: 'Content too large' },
  'ingest.unsupported_encoding': { status: 415, title: 'Unsupported media type' },
  'ingest.unsupported_content_type': { status: 415, title: 'Unsupported media type' },
  'ingest.bad_encoding': { status: 400, title: 'Bad request' },
  'ingest.body_timeout': { status: 408, title: 'Request timeout' },
};

/** How long a body may take to arrive: a client trickling bytes must not hold a slot of the gateway for ever. */
const BODY_TIMEOUT_MS = 60_000;

/** A body the gateway refuses whole (413, 415 or 400), before any line is read. */
export class BodyRefused extends GridstreamError<RefusalCode> {
  readonly status: number;
  readonly title: string;
  constructor(code: RefusalCode, detail: string) {
    super(code, detail, { retryable: false });
    this.status = STATUS[code].status;
    this.title = STATUS[code].title;
  }
}

/** `identity` or `gzip` (what the gateway decodes), from a `Content-Encoding` header; anything else is refused. */
export function bodyEncoding(header: string | undefined): 'identity' | 'gzip' {
  const codings = (header ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  throw new BodyRefused(
    'ingest.unsupported_encoding',
    `Content-Encoding ${JSON.stringify(header?.slice(0, 100))} is not supported: send gzip or no encoding`,
  );
}

/** Refuses at once what the headers already say is refused: an unsupported encoding, a longer declared length. */
export function checkHeaders(request: Request, limits: { readonly maxBodyBytes: number }): 'identity' | 'gzip' {
  const encoding = bodyEncoding(request.headers.get('content-encoding') ?? undefined);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limits.maxBodyBytes)
    throw new BodyRefused('ingest.body_too_large', `body larger than ${limits.maxBodyBytes} bytes`);
  return encoding;
}

/**
 * Reads a request body without ever holding more than `maxBodyBytes` of it: a declared longer length is refused
 * before reading, a chunked body as soon as it passes the limit (the rest is not read). A gzip body is then
 * decompressed up to `maxDecodedBytes` (decompression stops there: a gzip bomb costs that much at most).
 */
export async function readBody(
  request: Request,
  limits: { readonly maxBodyBytes: number; readonly maxDecodedBytes: number },
): Promise<Buffer> {
  const encoding = checkHeaders(request, limits);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    const late = { timedOut: false };
    const timer = setTimeout(() => {
      late.timedOut = true;
      void reader.cancel().catch(() => undefined);
    }, BODY_TIMEOUT_MS);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (late.timedOut)
          throw new BodyRefused('ingest.body_timeout', `the body did not arrive within ${BODY_TIMEOUT_MS} ms`);
        if (done) break;
        total += value.byteLength;
        if (total > limits.maxBodyBytes)
          throw new BodyRefused('ingest.body_too_large', `body larger than ${limits.maxBodyBytes} bytes`);
        chunks.push(value);
      }
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
  }
  const raw = Buffer.concat(chunks, total);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limits.maxDecodedBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new BodyRefused(
        'ingest.body_too_large',
        `gzip body larger than ${limits.maxDecodedBytes} bytes once decompressed`,
      );
    throw new BodyRefused('ingest.bad_encoding', 'the body is not valid gzip');
  }
}

/** How much of a refused body is still read (and dropped) after the early answer, at most, and for how long. */
const LINGER_BYTES = 256 * 1024 * 1024;
const LINGER_MS = 5_000;

/**
 * A bounded lingering close (RFC 9112, 9.6) for a request answered before its body was read to the end (413, 415,
 * 401…), whose answer says `Connection: close`: once the answer is written only our side of the connection is
 * closed, and what still arrives is read and dropped — never held — until the client closes its side, at most
 * {@link LINGER_BYTES} or {@link LINGER_MS}; then the connection is cut. Closing both sides at once with unread
 * bytes in the socket makes the kernel reset the connection, and a client still sending may lose the answer.
 */
export function lingerOnUnreadBody(incoming: IncomingMessage): void {
  if (incoming.readableEnded || incoming.destroyed) return;
  const socket = incoming.socket;
  let dropped = 0;
  const cleanup = (): void => {
    clearTimeout(timer);
    incoming.off('data', onData);
  };
  const cut = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.byteLength;
    if (dropped > LINGER_BYTES) cut();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  // Node's server ends a `Connection: close` exchange with destroySoon(): both sides at once. End only ours; the
  // socket (half-open allowed) is destroyed when the client closes its side or the bounds are reached.
  socket.destroySoon = function lingeringEnd(this: typeof socket): void {
    this.end();
  };
  socket.once('end', cut);
  socket.once('close', cleanup);
  // A body that ends (a keep-alive answer, 401…) leaves the connection usable: stop counting and timing.
  incoming.once('end', cleanup);
  // The request's web stream (which nobody reads any more) must not queue what arrives.
  incoming.removeAllListeners('data');
  incoming.on('data', onData);
  incoming.resume();
}
