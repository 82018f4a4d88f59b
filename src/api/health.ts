import type { Env, Hono } from 'hono';
import type { z } from 'zod';
import type { Readiness } from '../common/index.ts';
import { errorCode, settlesWithin } from '../common/index.ts';
import type { Log } from '../log/index.ts';
import type { Db } from '../storage/index.ts';
import { defineRoute, handle } from './route.ts';
import { HealthSchema, ReadinessSchema } from './schemas.ts';

/** How a process answers `/readyz`: the states of its components and the reachability of what it depends on. */
export type ReadinessCheck = (options: { readonly signal: AbortSignal }) => Promise<Readiness>;

export const healthzRoute = defineRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  summary: 'Liveness: the process answers',
  access: 'public',
  query: {},
  response: HealthSchema,
});

export const readyzRoute = defineRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  summary: 'Readiness: every component runs, none is degraded, the database and the event log answer',
  description: '503 with the same body when not ready, naming the part that holds it back.',
  access: 'public',
  query: {},
  response: ReadinessSchema,
  errors: [503],
});

/**
 * `/healthz` (liveness: the process answers) and `/readyz` (readiness: every component runs, none is degraded, the
 * database and the log answer) on any gridstream HTTP server. Both without a key, for load balancers, container
 * health checks and Kubernetes probes. `/readyz` answers 503 with the same body when not ready, so an operator sees
 * which part holds it back.
 */
export function healthRoutes<E extends Env>(app: Hono<E>, readiness: ReadinessCheck): void {
  handle(app, healthzRoute, () => ({ status: 'ok' as const }));
  handle(app, readyzRoute, async (c) => {
    const report = await readiness({ signal: AbortSignal.timeout(3_000) });
    const body: z.input<typeof ReadinessSchema> = {
      status: report.ready ? 'ready' : 'not_ready',
      ...report,
      components: [...report.components],
    };
    return c.json(body, report.ready ? 200 : 503);
  });
}

/**
 * Names a check's outcome without internals (/readyz answers anyone): `ok`, or `unreachable (<error code>)`. A check
 * that outlives the request's signal is `unreachable (timeout)` at once: a client retrying against a restarting
 * broker must not hold /readyz past a probe's timeout.
 */
async function check(what: Promise<unknown>, signal: AbortSignal): Promise<string> {
  if (!(await settlesWithin(what, CHECK_MAX_MS, { signal }))) return 'unreachable (timeout)';
  try {
    await what;
    return 'ok';
  } catch (error) {
    return `unreachable (${errorCode(error)})`;
  }
}

/** Longest wait for one dependency check when the caller's signal allows more. */
const CHECK_MAX_MS = 3_000;

/**
 * Readiness of a process from its components and dependencies: ready when `components()` all run, none is
 * degraded, and the database and the log answer within the request's time.
 */
export function processReadiness(
  deps: { readonly db: Db; readonly log: Log },
  components: () => Omit<Readiness, 'checks'> = () => ({ ready: true, state: 'running', components: [] }),
): ReadinessCheck {
  // The dependency checks are shared: /readyz answers anyone, and each check is a round trip to the database and
  // the broker. One round is in flight at a time (a check that timed out may still be retrying inside its client),
  // and its answer serves for a second after it settled. Component states are read fresh every time.
  let cached:
    { settledAt: number | undefined; readonly checks: Promise<{ database: string; log: string }> } | undefined;
  return async ({ signal }) => {
    if (cached === undefined || (cached.settledAt !== undefined && Date.now() - cached.settledAt > CHECKS_TTL_MS)) {
      const round: NonNullable<typeof cached> = {
        settledAt: undefined,
        checks: Promise.all([
          check(deps.db.query('SELECT 1', [], { signal }), signal),
          check(deps.log.topics({ signal }), signal),
        ]).then(([database, log]) => {
          round.settledAt = Date.now();
          return { database, log };
        }),
      };
      cached = round;
    }
    const checks = await cached.checks;
    const own = components();
    return { ...own, ready: own.ready && checks.database === 'ok' && checks.log === 'ok', checks };
  };
}

const CHECKS_TTL_MS = 1_000;

/** The readiness of a server used on its own (tests, benchmarks): the database and the log answer. */
export function pingReadiness(db: Db, log: Log): ReadinessCheck {
  return processReadiness({ db, log });
}
