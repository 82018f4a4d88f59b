import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { PortInUseError, healthRoutes, httpServer, processReadiness } from '../../src/api/index.ts';
import { Lifecycle } from '../../src/common/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { Supervisor } from '../../src/runtime/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { tempDir } from '../helpers/services.ts';

describe('/readyz from component states', () => {
  let embedded: Awaited<ReturnType<typeof embeddedInfra>>;
  let infra: Infrastructure;
  before(async () => {
    embedded = await embeddedInfra();
    infra = embedded.infra;
  });
  after(async () => {
    await embedded.remove();
  });

  it('is 503 until every component runs, while one is degraded, and after one failed; 200 otherwise', async () => {
    const broker = new Lifecycle('process-entsoe');
    const store = new Lifecycle('store-grid');
    const supervisor = new Supervisor(silentLogger()).add(store, broker);
    const app = new Hono();
    healthRoutes(
      app,
      processReadiness(infra, () => supervisor.readiness()),
    );
    const readyz = async () => {
      const r = await app.request('/readyz');
      return {
        status: r.status,
        body: (await r.json()) as {
          status: string;
          components: { name: string; state: string; degraded: string | null }[];
          checks: Record<string, string>;
        },
      };
    };

    const idle = await readyz();
    assert.equal(idle.status, 503, 'not started yet');
    assert.equal(idle.body.status, 'not_ready');
    await supervisor.start();
    const running = await readyz();
    assert.equal(running.status, 200);
    assert.deepEqual(running.body.checks, { database: 'ok', log: 'ok' });
    assert.deepEqual(
      running.body.components.map((c) => `${c.name}:${c.state}`),
      ['store-grid:running', 'process-entsoe:running'],
    );

    broker.degrade('kafka.broker_unavailable: no broker reachable at 127.0.0.1:9');
    const degraded = await readyz();
    assert.equal(degraded.status, 503);
    assert.match(
      degraded.body.components.find((c) => c.name === 'process-entsoe')?.degraded ?? '',
      /broker_unavailable/,
    );
    broker.recover();
    assert.equal((await readyz()).status, 200);
    assert.equal((await app.request('/healthz')).status, 200, 'liveness does not depend on readiness');

    broker.fail(new Error('the log was damaged'));
    await supervisor.done;
    const failed = await readyz();
    assert.equal(failed.status, 503);
    assert.equal(supervisor.state, 'failed');
    assert.deepEqual(
      failed.body.components.map((c) => `${c.name}:${c.state}`),
      ['store-grid:stopped', 'process-entsoe:failed'],
      'the supervisor stopped the others after the failure',
    );
  });

  it('is 503 naming the database when it does not answer', async () => {
    const app = new Hono();
    const closed = { ...infra, db: { ...infra.db, query: () => Promise.reject(new Error('connection refused')) } };
    healthRoutes(app, processReadiness(closed));
    const r = await app.request('/readyz');
    assert.equal(r.status, 503);
    const body = (await r.json()) as { checks: Record<string, string> };
    assert.match(body.checks['database'] ?? '', /^unreachable \(internal.error\)$/);
    assert.equal(body.checks['log'], 'ok');
  });

  it('is 503 at once naming the log when the log check hangs (a client retrying against a restarting broker)', async () => {
    const app = new Hono();
    const hanging = { ...infra, log: { ...infra.log, topics: () => new Promise<never>(() => undefined) } };
    healthRoutes(app, processReadiness(hanging));
    const r = await app.request('/readyz');
    assert.equal(r.status, 503);
    const body = (await r.json()) as { checks: Record<string, string> };
    assert.equal(body.checks['log'], 'unreachable (timeout)');
    assert.equal(body.checks['database'], 'ok');
  });
});

describe('ports', () => {
  it('a taken port fails at start naming the variable to change, with no stack trace', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const server = httpServer({
        name: 'ingest',
        app: new Hono(),
        host: '127.0.0.1',
        port,
        portVariable: 'GRIDSTREAM_INGEST_PORT',
        logger: silentLogger(),
      });
      await assert.rejects(server.start(), (e: unknown) => {
        assert.ok(e instanceof PortInUseError);
        assert.match(e.message, new RegExp(`port ${port} on 127.0.0.1 is already in use: set GRIDSTREAM_INGEST_PORT`));
        return true;
      });
      assert.equal(server.state, 'failed');

      const dir = await tempDir();
      try {
        const started = await gridstream(['start'], {
          env: {
            GRIDSTREAM_DATA_DIR: join(dir.path, 'data'),
            GRIDSTREAM_PORT: String(port),
            GRIDSTREAM_INGEST_PORT: '0',
            GRIDSTREAM_LOG_LEVEL: 'error',
            GRIDSTREAM_LOG_FORMAT: 'json',
          },
        });
        assert.equal(started.code, 1);
        assert.match(
          started.stderr,
          new RegExp(`could not start: http.port_in_use: port ${port} .* set GRIDSTREAM_PORT`),
        );
        assert.doesNotMatch(started.stderr, / {4}at /, 'no stack trace');
      } finally {
        await dir.remove();
      }
    } finally {
      taken.close();
    }
  });
});
