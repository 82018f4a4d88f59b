import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { freePort } from '../helpers/services.ts';
import {
  RUN_LIMITS,
  buildImages,
  containersAvailable,
  podman,
  podmanOk,
  statusOf,
  waitFor,
} from '../helpers/podman.ts';

/**
 * The Dockerfile, built and run: scripts/containers.sh builds it on a local Node 24 base (debootstrap, no registry),
 * then the image's default command (`gridstream start`, everything embedded) runs as a non-root user with its API
 * port published on 127.0.0.1; /readyz, the dashboard and the HEALTHCHECK answer from the host, and `podman stop`
 * (SIGTERM, then SIGKILL after the grace) finds it exits by itself with 0, well before the grace runs out.
 */

const KEY = 'gs_container_test_key_Qm7Vx2Lp9Rt4Wn8Zk3Hc6';
/** podman stop's grace: SIGKILL after it. gridstream's own grace is shorter, so a SIGKILL means a hang. */
const STOP_GRACE_S = 60;

const ConfigSchema = z.object({
  User: z.string(),
  Cmd: z.array(z.string()),
  Env: z.array(z.string()),
  StopSignal: z.string().optional(),
});
const StateSchema = z.object({ Running: z.boolean(), ExitCode: z.number(), OOMKilled: z.boolean() });

async function state(name: string): Promise<z.infer<typeof StateSchema>> {
  return StateSchema.parse(JSON.parse(await podmanOk(['inspect', '--format', '{{json .State}}', name])));
}

async function logs(name: string): Promise<string> {
  const r = await podman(['logs', name]);
  return (r.stdout + r.stderr).slice(-8000);
}

describe('container image (Dockerfile, built and run with podman)', () => {
  it(
    'runs `gridstream start` as non-root: /readyz, dashboard and HEALTHCHECK answer; SIGTERM stops it cleanly',
    { timeout: 1_200_000 },
    async (t) => {
      if (!(await containersAvailable(t))) return;
      const tags = await buildImages('image');
      const image = tags['image'];
      assert.ok(image !== undefined, JSON.stringify(tags));

      const [inspected] = z
        .array(z.object({ Config: ConfigSchema, Healthcheck: z.object({ Test: z.array(z.string()) }) }))
        .parse(JSON.parse(await podmanOk(['image', 'inspect', image])));
      assert.ok(inspected !== undefined);
      const { Config: config, Healthcheck: healthcheck } = inspected;
      assert.equal(config.User, 'node');
      assert.deepEqual(config.Cmd, ['gridstream', 'start']);
      assert.ok(config.Env.includes('GRIDSTREAM_DATA_DIR=/data'), config.Env.join(' '));
      assert.ok(healthcheck.Test.join(' ').includes('/readyz'), JSON.stringify(healthcheck));
      assert.equal(config.StopSignal, 'SIGTERM');
      assert.ok(!config.Env.some((e) => /CA_CERTS|npm_config/i.test(e)), 'no build-time settings left in the image');

      const port = await freePort();
      const name = `gridstream-test-${process.pid}-${Date.now().toString(36)}`;
      t.after(async () => {
        await podman(['rm', '-f', '-v', name]);
      });
      await podmanOk([
        'run',
        '-d',
        '--name',
        name,
        ...RUN_LIMITS,
        // The HEALTHCHECK is run on demand below: podman's own timer needs systemd, which these machines lack.
        '--health-interval=disable',
        '-e',
        `GRIDSTREAM_ADMIN_KEY=${KEY}`,
        '-e',
        'GRIDSTREAM_SHUTDOWN_GRACE_MS=15000',
        '-e',
        'GRIDSTREAM_REPLAY_INTERVAL_MS=600000',
        '-p',
        `127.0.0.1:${port}:8080`,
        image,
      ]);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        '/readyz to answer 200',
        async () => {
          const s = await state(name);
          if (!s.Running) assert.fail(`the container exited (${s.ExitCode}) while starting:\n${await logs(name)}`);
          return (await statusOf(`${base}/readyz`)) === 200 ? true : undefined;
        },
        300_000,
      ).catch(async (error: unknown) => {
        throw new Error(`${String(error)}\n${await logs(name)}`);
      });

      // The dashboard and its bundle (built in the image's build stage) from the host.
      const page = await fetch(`${base}/`);
      const html = await page.text();
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
      assert.ok(assets.length >= 2, html.slice(0, 2000));
      for (const asset of assets) assert.equal(await statusOf(`${base}${asset}`), 200, asset);
      assert.equal(await statusOf(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${KEY}` } }), 200);

      // The image's HEALTHCHECK, the process tree and the user.
      // A probe, like Docker's (which retries 3 times): on a loaded machine one probe can time out.
      let health: { code: number | null; stdout: string; stderr: string } | undefined;
      await waitFor(
        'the HEALTHCHECK to pass',
        async () => {
          health = await podman(['healthcheck', 'run', name]);
          return health.code === 0 ? true : undefined;
        },
        120_000,
        3000,
      ).catch(async (error: unknown) => {
        const log = await podman(['inspect', '--format', '{{json .State.Health}}', name]);
        throw new Error(`${String(error)}: ${health?.stdout ?? ''}${health?.stderr ?? ''}\n${log.stdout}`);
      });
      const inside = await podmanOk([
        'exec',
        name,
        'sh',
        '-c',
        'id -u; tr "\\0" " " </proc/1/cmdline; echo; node --version; ls /data',
      ]);
      const [uid, pid1, nodeVersion, ...data] = inside.trim().split('\n');
      assert.equal(uid, '1000', inside);
      assert.match(pid1 ?? '', /^node \S*gridstream start/, 'gridstream is PID 1, so SIGTERM reaches it');
      assert.match(nodeVersion ?? '', /^v24\./);
      assert.doesNotMatch(
        await podmanOk([
          'exec',
          name,
          'sh',
          '-c',
          'ls -d /app/node_modules/node /app/node_modules/esbuild 2>/dev/null || true',
        ]),
        /node_modules/,
        'dev dependencies are pruned',
      );
      assert.ok(data.length > 0, `the embedded state is in /data: ${inside}`);

      // SIGTERM (podman stop), SIGKILL only after the grace: it must exit by itself, with 0.
      await podmanOk(['stop', '-t', String(STOP_GRACE_S), name]);
      const stopped = await state(name);
      const tail = await logs(name);
      assert.equal(stopped.Running, false);
      assert.equal(stopped.ExitCode, 0, `exit code ${stopped.ExitCode} (137 = SIGKILL after the grace):\n${tail}`);
      assert.match(tail, /"msg":"stopping"[^\n]*SIGTERM|SIGTERM[^\n]*"msg":"stopping"/);
      assert.match(tail, /"msg":"stopped"/);
    },
  );
});
