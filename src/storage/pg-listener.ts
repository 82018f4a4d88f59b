import pg from 'pg';
import type { Logger } from '../observability/index.ts';
import type { DbNotificationHandlers, DbSubscription } from './db.ts';
import { quoteIdent } from './db.ts';

/**
 * A LISTEN on its own PostgreSQL connection (a pooled connection would be handed to other statements). When the
 * connection is lost the subscriber is told (`onGap`: notifications may be missed), and it is re-made with backoff
 * (0.25 s doubling to 10 s); once back, `onGap` again, since what was sent meanwhile is gone.
 */
export async function listenPostgres(
  config: pg.ClientConfig,
  channel: string,
  handlers: DbNotificationHandlers,
  logger: Logger,
): Promise<DbSubscription> {
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let delay = 250;
  let missed = false;

  const lost = (error: Error | undefined): void => {
    if (closed || client === undefined) return;
    const dead = client;
    client = undefined;
    live = false;
    missed = true;
    dead.removeAllListeners('notification');
    dead.end().catch(() => undefined);
    logger.warn({ channel, err: error?.message }, 'PostgreSQL notification connection lost; re-connecting');
    handlers.onGap?.();
    schedule();
  };

  const schedule = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(() => {
        delay = Math.min(10_000, delay * 2);
        schedule();
      });
    }, delay);
    retry.unref();
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ ...config, application_name: 'gridstream-listen' });
    c.on('error', (error) => {
      if (client === c) lost(error);
    });
    c.on('end', () => {
      if (client === c) lost(undefined);
    });
    c.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotify(message.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (error) {
      await c.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    live = true;
    delay = 250;
    if (missed) {
      missed = false;
      handlers.onGap?.();
    }
  }

  try {
    await connect();
  } catch (error) {
    // Not fatal: the subscriber falls back on its own freshness rule until the connection is made.
    logger.warn({ channel, err: (error as Error).message }, 'cannot LISTEN on PostgreSQL yet; retrying');
    missed = true;
    schedule();
  }
  return {
    get live() {
      return live;
    },
    async close() {
      if (closed) return;
      closed = true;
      live = false;
      if (retry !== undefined) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
