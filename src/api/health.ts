import type { Hono } from 'hono';
import type { Readiness } from '../common/index.ts';
import { errorCode, errorMessage } from '../common/index.ts';
import type { Log } from '../log/index.ts';
import type { Db } from '../storage/index.ts';

/** How a process answers `/readyz`: the states of its components and the reachability of what it depends on. */
export type ReadinessCheck = (options: { readonly signal: AbortSignal }) => Promise<Readiness>;

/**
 * `/healthz` (liveness: the process answers) and `/readyz` (readiness: every component runs, none is degraded, the
 * database and the log answer) on any gridstream HTTP server. Both without a key, for load balancers, container
 * health checks and Kubernetes probes. `/readyz` answers 503 with the same body when not ready, so an operator sees
 * which part holds it back.
 */
export function healthRoutes(app: Hono, readiness: ReadinessCheck): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const report = await readiness({ signal: AbortSignal.timeout(3_000) });
    return c.json({ status: report.ready ? 'ready' : 'not_ready', ...report }, report.ready ? 200 : 503);
  });
}

/** Names a check's failure without internals: `ok`, or the error code and message. */
async function check(what: Promise<unknown>): Promise<string> {
  try {
    await what;
    return 'ok';
  } catch (error) {
    return `unreachable (${errorCode(error)}: ${errorMessage(error)})`;
  }
}

/**
 * Readiness of a process from its components and dependencies: ready when `components()` all run, none is
 * degraded, and the database and the log answer within the request's time.
 */
export function processReadiness(
  deps: { readonly db: Db; readonly log: Log },
  components: () => Omit<Readiness, 'checks'> = () => ({ ready: true, state: 'running', components: [] }),
): ReadinessCheck {
  return async ({ signal }) => {
    const [database, log] = await Promise.all([
      check(deps.db.query('SELECT 1', [], { signal })),
      check(deps.log.topics({ signal })),
    ]);
    const own = components();
    return { ...own, ready: own.ready && database === 'ok' && log === 'ok', checks: { database, log } };
  };
}

/** The readiness of a server used on its own (tests, benchmarks): the database and the log answer. */
export function pingReadiness(db: Db, log: Log): ReadinessCheck {
  return processReadiness({ db, log });
}
