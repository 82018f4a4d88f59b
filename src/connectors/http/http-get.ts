import { withTimeout } from '../../common/index.ts';
import { redactUrl } from '../../observability/index.ts';
import { parseRetryAfter } from './retry.ts';
import { HttpError } from './errors.ts';

/** A complete HTTP answer, body read in full. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** `Content-Type` without parameters, lower case (`application/zip`), `''` when absent. */
  readonly contentType: string;
  /** `Retry-After` in milliseconds, when the upstream sent one. */
  readonly retryAfterMs: number | null;
}

export interface HttpGetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** Time limit for the whole exchange, body included. @default 60 000 ms */
  readonly timeoutMs?: number;
  /** Larger bodies are refused. @default 128 MiB */
  readonly maxBodyBytes?: number;
  /** Removes secrets from any text that ends up in an error. @default redactUrl only */
  readonly scrub?: (text: string) => string;
}

/** Node system error codes of a broken exchange, looked for along undici's cause chain. */
function systemCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && current instanceof Error; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * GETs `url` and reads the whole body, with a time limit and a size limit. Any status is returned (the caller
 * decides what it means); failures to get an answer throw an {@link HttpError}: `aborted` when `signal` fired,
 * `timeout`, `network_error`, `truncated_body` or `body_too_large`. Error messages carry the URL redacted and
 * scrubbed; the original error is replaced by a scrubbed copy, because undici errors may quote the request.
 */
export async function httpGet(url: URL, options: HttpGetOptions = {}): Promise<HttpResponse> {
  const scrub = (text: string): string => (options.scrub ?? ((t) => t))(redactUrl(text));
  const where = scrub(url.href);
  const signal = withTimeout(options.signal, options.timeoutMs ?? 60_000);
  const maxBytes = options.maxBodyBytes ?? 128 * 1024 * 1024;
  const fail = (error: unknown, stage: 'request' | 'body'): HttpError => {
    if (options.signal?.aborted === true) return new HttpError('http.aborted', `GET ${where} was cancelled`);
    if (signal.aborted)
      return new HttpError('http.timeout', `GET ${where} timed out after ${options.timeoutMs ?? 60_000} ms`);
    const code = systemCode(error) ?? 'unknown';
    const cause = Object.assign(new Error(scrub(error instanceof Error ? error.message : String(error))), { code });
    if (stage === 'body') {
      return new HttpError('http.truncated_body', `GET ${where}: the body ended early (${code})`, { cause });
    }
    return new HttpError('http.network_error', `GET ${where} failed: ${code}`, {
      cause,
      details: { systemCode: code },
    });
  };

  let response: Response;
  try {
    // Redirects are not followed: the URL may carry a credential, and a redirect could take it to another host.
    // A 3xx comes back as is and the caller treats it as an error.
    response = await fetch(url, { method: 'GET', headers: options.headers, signal, redirect: 'manual' });
  } catch (error) {
    throw fail(error, 'request');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          await response.body.cancel().catch(() => undefined);
          throw new HttpError('http.body_too_large', `GET ${where}: body larger than ${maxBytes} bytes`, {
            status: response.status,
          });
        }
        chunks.push(chunk);
      }
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw fail(error, 'body');
  }
  const body = chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size);
  return {
    status: response.status,
    headers: response.headers,
    body,
    contentType: (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
  };
}
