import type { Decoder } from './decode.ts';

/** An API error answer (application/problem+json), or a network failure (`status` 0). */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly param: string | undefined;
  /** Seconds to wait, from `Retry-After` (429). */
  readonly retryAfter: number | undefined;

  constructor(status: number, title: string, detail: string, param?: string, retryAfter?: number) {
    super(`${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.param = param;
    this.retryAfter = retryAfter;
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** Something for the user to read: the problem's detail, or the error's message. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem)
    return error.status === 0 ? error.detail : `${error.title} (${error.status}): ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}

export type QueryValue = string | number | boolean | undefined | null;

export interface ClientHooks {
  /** The key was refused, or a key is needed (401): the app signs out with this reason. */
  readonly onUnauthorized?: (problem: ApiProblem) => void;
  /** A 429 will be retried after `seconds`. */
  readonly onRateLimited?: (problem: ApiProblem, seconds: number) => void;
}

/** Tries a 429 again this many times (after Retry-After, at most 30 s each). */
const RATE_LIMIT_RETRIES = 2;

/**
 * The `/api/v1` client: the key as a Bearer token (none for a `null` key: an anonymous reader, where the server
 * allows it), problem+json errors as {@link ApiProblem}, 429s retried.
 */
export class ApiClient {
  readonly key: string | null;
  readonly #hooks: ClientHooks;

  constructor(key: string | null, hooks: ClientHooks = {}) {
    this.key = key;
    this.#hooks = hooks;
  }

  get<T>(
    path: string,
    query: Readonly<Record<string, QueryValue>>,
    decode: Decoder<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.request('GET', path, { query, decode, ...(signal === undefined ? {} : { signal }) });
  }

  async request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: {
      readonly query?: Readonly<Record<string, QueryValue>>;
      readonly body?: unknown;
      readonly decode: Decoder<T>;
      readonly signal?: AbortSignal;
    },
  ): Promise<T> {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    }
    for (let attempt = 0; ; attempt++) {
      const response = await this.#fetch(url, method, options.body, options.signal);
      if (response.ok) {
        const body: unknown = response.status === 204 ? null : await response.json();
        return options.decode(body, path);
      }
      const problem = await problemOf(response);
      if (problem.status === 401) this.#hooks.onUnauthorized?.(problem);
      if (problem.status === 429 && attempt < RATE_LIMIT_RETRIES && method === 'GET') {
        const seconds = Math.min(30, problem.retryAfter ?? 2);
        this.#hooks.onRateLimited?.(problem, seconds);
        await delay(seconds * 1000, options.signal);
        continue;
      }
      throw problem;
    }
  }

  async #fetch(url: URL, method: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key !== null) headers['authorization'] = `Bearer ${this.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        cache: 'no-store',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiProblem(0, 'Network error', `the server could not be reached (${describeError(error)})`);
    }
  }
}

/** The problem document of an error answer (or a stand-in when the body is not one). */
export async function problemOf(response: Response): Promise<ApiProblem> {
  const retryHeader = response.headers.get('retry-after');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  let title = response.statusText || `HTTP ${response.status}`;
  let detail = `the server answered ${response.status}`;
  let param: string | undefined;
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null) {
      const o = body as Record<string, unknown>;
      if (typeof o['title'] === 'string') title = o['title'];
      if (typeof o['detail'] === 'string') detail = o['detail'];
      if (typeof o['param'] === 'string') param = o['param'];
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiProblem(response.status, title, detail, param, retryAfter);
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
