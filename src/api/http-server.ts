import type { ServerType } from '@hono/node-server';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Component } from '../common/index.ts';
import { GridstreamError, Lifecycle, hasErrno, problemLogger, withLifecycle } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';

export interface HttpServerOptions {
  /** Names the server in logs and `/readyz`. */
  readonly name: string;
  readonly app: Hono;
  readonly host: string;
  readonly port: number;
  /** The variable that sets `port`, named when the port is taken. */
  readonly portVariable: string;
  readonly logger: Logger;
  /** Runs after the server stopped accepting connections and its requests ended (flush counters…). */
  readonly afterClose?: () => Promise<void>;
  /** Runs first on stop (end live streams so that they do not hold the close up). */
  readonly beforeClose?: () => void;
  /** Told the port once the server listens (log where it is). */
  readonly onListening?: (port: number) => void;
  /**
   * The app reads (and drops) the rest of a body it answered early itself (the ingest gateway's lingering close),
   * so the HTTP adapter must not cut such a connection after its own short drain. @default false
   */
  readonly drainsUnreadBodies?: boolean;
}

/** An HTTP server as a component, with the port it listens on. */
export interface HttpServer extends Component {
  /** The bound port (useful with port 0). */
  readonly port: number;
}

/** The port is taken by another program. */
export class PortInUseError extends GridstreamError<'http.port_in_use'> {
  constructor(message: string, options: { cause: unknown; details: Record<string, unknown> }) {
    super('http.port_in_use', message, { retryable: false, ...options });
  }
}

/**
 * Serves a Hono app on the one lifecycle: `start()` resolves once it listens (a taken port fails naming the
 * variable to change); `stop()` stops accepting connections, closes idle ones, waits for requests in flight within
 * the grace time and then cuts the rest. Every gridstream HTTP server (API, ingest gateway, metrics) is one of these.
 */
export function httpServer(options: HttpServerOptions): HttpServer {
  let server: ServerType | undefined;
  const life = new Lifecycle(
    options.name,
    {
      start: async () => {
        await listen();
        options.onListening?.(boundPort());
      },
      stop: async ({ deadline }) => {
        options.beforeClose?.();
        const s = server;
        if (s !== undefined) {
          await new Promise<void>((resolve) => {
            const cut = (): void => {
              if ('closeAllConnections' in s) s.closeAllConnections();
              resolve();
            };
            deadline.addEventListener('abort', cut, { once: true });
            s.close(() => {
              deadline.removeEventListener('abort', cut);
              resolve();
            });
            if ('closeIdleConnections' in s) s.closeIdleConnections();
          });
        }
        await options.afterClose?.();
      },
    },
    { graceMs: 10_000, onProblem: problemLogger(options.logger) },
  );

  function listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const s = serve(
        {
          fetch: options.app.fetch,
          port: options.port,
          hostname: options.host,
          ...(options.drainsUnreadBodies === true ? { autoCleanupIncoming: false } : {}),
        },
        () => {
          resolve();
        },
      );
      s.once('error', (error: Error) => {
        reject(
          hasErrno(error, 'EADDRINUSE')
            ? new PortInUseError(
                `port ${options.port} on ${options.host} is already in use: set ${options.portVariable} to a free port`,
                { cause: error, details: { port: options.port, host: options.host, variable: options.portVariable } },
              )
            : error,
        );
      });
      server = s;
    });
  }

  function boundPort(): number {
    const address = server?.address();
    return typeof address === 'object' && address !== null ? address.port : options.port;
  }

  return withLifecycle(life, {
    get port(): number {
      return boundPort();
    },
  });
}
