import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Hono } from 'hono';
import { ApiError, problem } from './errors.ts';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built dashboard (`web/dist`) at `/`: files by path, and `index.html` for any other non-API path
 * (client-side routes such as `/admin`). Hashed asset names are cached for a year, `index.html` never.
 */
export function dashboardFiles(dir: string): (app: Hono) => void {
  return (app) => {
    app.get('*', async (c) => {
      if (c.req.path.startsWith('/api/'))
        return problem(c, new ApiError('api.not_found', `no route GET ${c.req.path}`));
      const index = join(dir, 'index.html');
      if (!existsSync(index)) {
        return problem(
          c,
          new ApiError('api.unavailable', `the dashboard is not built (no ${index}); run "npm run build:web"`),
        );
      }
      const requested = normalize(join(dir, decodeURIComponent(c.req.path)));
      const inside = requested.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
      const file = inside && extname(requested) !== '' && existsSync(requested) ? requested : index;
      const body = await readFile(file);
      const immutable = file !== index && /[.-][0-9A-Za-z_-]{8,}\.\w+$/.test(file);
      return c.body(body, 200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    });
  };
}
