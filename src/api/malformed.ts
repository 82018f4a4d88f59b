import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.ts';

const NUL = String.fromCharCode(0);

/**
 * Refuses, before anything else runs (keys included), a request no route can mean: a path whose percent-encoding
 * does not decode (`/%zz`, a cut UTF-8 sequence), or a NUL byte in the path or a query parameter (PostgreSQL text
 * cannot hold one). A 400 problem naming the part at fault — a client error, so nothing is logged.
 */
export function rejectMalformed(): MiddlewareHandler {
  return async (c, next) => {
    const raw = rawPath(c.req.url);
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      throw new ApiError('api.bad_request', 'the path has malformed percent-encoding', { param: 'path' });
    }
    if (path.includes(NUL)) throw new ApiError('api.bad_request', 'the path contains a NUL byte', { param: 'path' });
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (name.includes(NUL) || values.some((v) => v.includes(NUL)))
        throw new ApiError('api.bad_request', `parameter "${name.replaceAll(NUL, '\\0')}" contains a NUL byte`, {
          param: name.replaceAll(NUL, '\\0'),
        });
    }
    await next();
  };
}

/** The path of a request URL as sent (still percent-encoded). */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return url.slice(start, end < start ? undefined : end);
}
