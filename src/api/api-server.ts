import type { ServerType } from '@hono/node-server';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Log } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db } from '../storage/index.ts';
import { ensureAdminKey } from './api-keys.ts';
import type { ApiAppDeps } from './app.ts';
import { createApiApp } from './app.ts';
import { LiveFeed } from './live-feed.ts';
import { Permissions } from './permissions.ts';

export interface ApiServerOptions {
  readonly db: Db;
  readonly log: Log;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  readonly host: string;
  readonly port: number;
  readonly adminKey: string | null;
  readonly publicRead: boolean;
  readonly defaultRatePerMinute: number;
  readonly version: string;
  readonly consumerGroups: ApiAppDeps['consumerGroups'];
  readonly refetch?: ApiAppDeps['refetch'];
  readonly connectorStatus?: ApiAppDeps['connectorStatus'];
  readonly staticFiles?: ApiAppDeps['staticFiles'];
  /** Called once with a generated first admin key (print it; it is never shown again). */
  readonly onGeneratedAdminKey?: (key: string) => void;
  /** Live-feed poll interval. @default 1000 */
  readonly feedIntervalMs?: number;
}

/**
 * The `api` role's component: the HTTP server of the API, live feed, dashboard and /metrics. `stop()` ends the live
 * streams, stops accepting connections, waits for requests in flight (up to the grace time) and flushes usage
 * counters.
 */
export class ApiServer {
  readonly name = 'api';
  readonly #options: ApiServerOptions;
  readonly #shutdown = new AbortController();
  #server: ServerType | undefined;
  #feed: LiveFeed | undefined;
  #permissions: Permissions | undefined;
  #stopping: Promise<void> | undefined;
  #app: Hono | undefined;

  constructor(options: ApiServerOptions) {
    this.#options = options;
  }

  /** The Hono app (after `start()`): tests can call `app.request()` without a socket. */
  get app(): Hono {
    if (this.#app === undefined) throw new Error('api server not started');
    return this.#app;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === 'object' && address !== null ? address.port : this.#options.port;
  }

  async start(): Promise<void> {
    const o = this.#options;
    const { generated } = await ensureAdminKey(o.db, o.adminKey);
    if (generated !== null) o.onGeneratedAdminKey?.(generated);
    this.#permissions = new Permissions(o.db, {
      publicRead: o.publicRead,
      defaultRatePerMinute: o.defaultRatePerMinute,
    });
    this.#feed = new LiveFeed(o.db, o.logger.child({ component: 'live-feed' }), o.feedIntervalMs ?? 1000);
    this.#app = createApiApp({
      db: o.db,
      log: o.log,
      logger: o.logger,
      metrics: o.metrics,
      reference: o.reference,
      permissions: this.#permissions,
      feed: this.#feed,
      version: o.version,
      consumerGroups: o.consumerGroups,
      shutdown: this.#shutdown.signal,
      ...(o.refetch === undefined ? {} : { refetch: o.refetch }),
      ...(o.connectorStatus === undefined ? {} : { connectorStatus: o.connectorStatus }),
      ...(o.staticFiles === undefined ? {} : { staticFiles: o.staticFiles }),
    });
    const app = this.#app;
    await new Promise<void>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port: o.port, hostname: o.host }, () => {
        resolve();
      });
      server.once('error', reject);
      this.#server = server;
    });
    o.logger.info(
      { url: `http://${o.host}:${this.port}/` },
      `API and dashboard on http://${o.host === '0.0.0.0' ? 'localhost' : o.host}:${this.port}/`,
    );
  }

  stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      this.#shutdown.abort();
      this.#feed?.stop();
      const server = this.#server;
      if (server !== undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            resolve();
          }, options.graceMs ?? 10_000);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        });
      }
      await this.#permissions?.usage.stop();
    })();
    return this.#stopping;
  }
}
