import type { Hono } from 'hono';
import type { Component, LifecycleState, StopOptions } from '../common/index.ts';
import { Lifecycle, problemLogger } from '../common/index.ts';
import type { Log } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db } from '../storage/index.ts';
import { ensureAdminKey } from './api-keys.ts';
import type { AuthThrottleOptions } from './authenticate.ts';
import type { ApiAppDeps } from './app.ts';
import { createApiApp } from './app.ts';
import type { ReadinessCheck } from './health.ts';
import { pingReadiness } from './health.ts';
import type { HttpServer } from './http-server.ts';
import { httpServer } from './http-server.ts';
import { AlertFeed } from './alert-feed.ts';
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
  /** Backoff of client addresses that present wrong keys. @default 10 failures, then 1 s doubling to 15 min */
  readonly authThrottle?: AuthThrottleOptions;
  /** `GRIDSTREAM_TRUSTED_PROXIES`. @default none */
  readonly trustedProxies?: readonly string[];
  readonly version: string;
  readonly consumerGroups: ApiAppDeps['consumerGroups'];
  readonly refetch?: ApiAppDeps['refetch'];
  readonly connectorStatus?: ApiAppDeps['connectorStatus'];
  /** What replayed refused device readings are checked against: the ingest rules of this deployment. */
  readonly readingRules?: ApiAppDeps['readingRules'];
  /** The alert rule file's settings (its publication overrides shape the publication model answered). */
  readonly alertRules?: ApiAppDeps['alertRules'];
  /** The best-window route's data clock and intensity forecast. @default the wall clock, no forecast */
  readonly carbonAware?: ApiAppDeps['carbonAware'];
  readonly staticFiles?: ApiAppDeps['staticFiles'];
  /** Called once with a generated first admin key (print it; it is never shown again). */
  readonly onGeneratedAdminKey?: (key: string) => void;
  /** Live-feed poll interval. @default 1000 */
  readonly feedIntervalMs?: number;
  /** What `/readyz` answers. @default the database and the log answer ({@link pingReadiness}) */
  readonly readiness?: ReadinessCheck;
  /** The data clock (`replayClock(db)` when this process runs the offline replay). @default the wall clock */
  readonly clock?: ApiAppDeps['clock'];
}

/**
 * The `api` role's component: the HTTP server of the API, live feed, dashboard and /metrics. `stop()` ends the live
 * streams, stops accepting connections, waits for requests in flight (up to the grace time) and flushes usage
 * counters.
 */
export class ApiServer implements Component {
  readonly name = 'api';
  readonly #options: ApiServerOptions;
  readonly #shutdown = new AbortController();
  readonly #life: Lifecycle;
  #server: HttpServer | undefined;
  #feed: LiveFeed | undefined;
  #alertFeed: AlertFeed | undefined;
  #permissions: Permissions | undefined;
  #app: Hono | undefined;

  constructor(options: ApiServerOptions) {
    this.#options = options;
    this.#life = new Lifecycle(
      'api',
      { start: () => this.#start(), stop: ({ graceMs }) => this.#stop(graceMs) },
      { graceMs: 10_000, onProblem: problemLogger(options.logger), degradedBy: () => this.#server?.degraded },
    );
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  get error(): unknown {
    return this.#life.error;
  }

  get degraded(): string | undefined {
    return this.#life.degraded;
  }

  get finished(): Promise<void> {
    return this.#life.finished;
  }

  /** The Hono app (after `start()`): tests call `app.request()` without a socket. */
  get app(): Hono {
    if (this.#app === undefined) throw new Error('api server not started');
    return this.#app;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.#server?.port ?? this.#options.port;
  }

  start(): Promise<void> {
    return this.#life.start();
  }

  stop(options: StopOptions = {}): Promise<void> {
    return this.#life.stop(options);
  }

  async #start(): Promise<void> {
    const o = this.#options;
    this.#permissions = new Permissions(o.db, {
      publicRead: o.publicRead,
      defaultRatePerMinute: o.defaultRatePerMinute,
      metrics: o.metrics,
      ...(o.authThrottle === undefined ? {} : { authThrottle: o.authThrottle }),
      ...(o.trustedProxies === undefined ? {} : { trustedProxies: o.trustedProxies }),
    });
    this.#feed = new LiveFeed(o.db, o.logger.child({ component: 'live-feed' }), o.feedIntervalMs ?? 1000);
    this.#alertFeed = new AlertFeed(o.db, o.logger.child({ component: 'alert-feed' }), o.feedIntervalMs ?? 1000);
    this.#app = createApiApp({
      db: o.db,
      log: o.log,
      logger: o.logger,
      metrics: o.metrics,
      reference: o.reference,
      permissions: this.#permissions,
      feed: this.#feed,
      alertFeed: this.#alertFeed,
      version: o.version,
      consumerGroups: o.consumerGroups,
      shutdown: this.#shutdown.signal,
      readiness: o.readiness ?? pingReadiness(o.db, o.log),
      ...(o.refetch === undefined ? {} : { refetch: o.refetch }),
      ...(o.connectorStatus === undefined ? {} : { connectorStatus: o.connectorStatus }),
      ...(o.readingRules === undefined ? {} : { readingRules: o.readingRules }),
      ...(o.alertRules === undefined ? {} : { alertRules: o.alertRules }),
      ...(o.carbonAware === undefined ? {} : { carbonAware: o.carbonAware }),
      ...(o.staticFiles === undefined ? {} : { staticFiles: o.staticFiles }),
      ...(o.clock === undefined ? {} : { clock: o.clock }),
    });
    this.#server = httpServer({
      name: 'api',
      app: this.#app,
      host: o.host,
      port: o.port,
      portVariable: 'GRIDSTREAM_PORT',
      logger: o.logger,
      beforeClose: () => {
        this.#shutdown.abort();
        this.#feed?.stop();
        this.#alertFeed?.stop();
      },
      onListening: (port) => {
        o.logger.info(
          { url: `http://${o.host}:${port}/` },
          `API and dashboard on http://${o.host === '0.0.0.0' ? 'localhost' : o.host}:${port}/`,
        );
      },
    });
    await this.#server.start();
    // After the port is bound: a start that fails (a port in use) must not spend the one showing of a new key.
    const { generated, envKeyRevoked } = await ensureAdminKey(o.db, o.adminKey);
    if (envKeyRevoked)
      o.logger.warn(
        { keyId: 'admin-env' },
        'GRIDSTREAM_ADMIN_KEY is no longer set: the admin key it gave has been revoked (create admin keys with "gridstream keys create")',
      );
    if (generated !== null) o.onGeneratedAdminKey?.(generated);
  }

  async #stop(graceMs: number): Promise<void> {
    this.#shutdown.abort();
    this.#feed?.stop();
    this.#alertFeed?.stop();
    await this.#server?.stop({ graceMs });
    await this.#permissions?.usage.stop();
    await this.#permissions?.auth.stop();
  }
}
