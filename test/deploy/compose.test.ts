import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ROLES } from '../../src/runtime/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { freePort, tempDir } from '../helpers/services.ts';
import type { Run } from '../helpers/podman.ts';
import {
  PODMAN_FLAGS,
  RUN_LIMITS,
  buildImages,
  containersAvailable,
  podman,
  podmanOk,
  run,
  waitFor,
} from '../helpers/podman.ts';

/**
 * deploy/compose.yaml brought up by podman-compose, as an operator would: Kafka (KRaft, from the Maven Central
 * jars), PostgreSQL (Debian's package, its password a compose secret), every gridstream role in its own
 * container (store, meters and process with two replicas) and Prometheus. Every role's HEALTHCHECK (its /readyz)
 * passes; meters registered through the API get readings through the ingest gateway, which come back through the
 * REST API once the meters role has stored them; Prometheus scrapes every replica of every role; SIGTERM stops every
 * gridstream container with exit code 0; `down -v` leaves no container, volume or network behind.
 */

const STREAM_ROLES_WITH_REPLICAS = ['store', 'meters', 'process'];
const DAY = '2026-11-22';
const METERS = ['compose-m1', 'compose-m2', 'compose-m3'];
/** Four quarter hours per meter, value = meter number + quarter / 4. */
const READINGS = METERS.flatMap((meterId, m) =>
  [0, 1, 2, 3].map((q) => ({
    deviceId: meterId,
    kind: 'smart_meter',
    ts: `${DAY}T10:${String(q * 15).padStart(2, '0')}:00Z`,
    quantity: 'energy_import',
    value: m + 1 + q / 4,
    unit: 'kWh',
  })),
);

const ContainerSchema = z.object({
  Names: z.array(z.string()),
  Labels: z.record(z.string(), z.string()).nullable(),
});
const StateSchema = z.object({ Running: z.boolean(), ExitCode: z.number() });
const TargetsSchema = z.object({
  data: z.object({
    activeTargets: z.array(z.object({ labels: z.record(z.string(), z.string()), health: z.string() })),
  }),
});
const ReadingsSchema = z.object({ points: z.array(z.object({ ts: z.string(), value: z.string().nullable() })) });

describe('compose stack (deploy/compose.yaml, podman-compose)', () => {
  it(
    'every role ready; readings in through ingest, back through the API; Prometheus scrapes all; clean stop',
    { timeout: 1_500_000 },
    async (t) => {
      if (!(await containersAvailable(t, { compose: true }))) return;
      const image = (await buildImages('image'))['image'];
      const services = await buildImages('services');
      assert.ok(image !== undefined);

      const secrets = await tempDir('gridstream-compose-');
      t.after(() => secrets.remove());
      const made = await run('bash', [join(ROOT, 'scripts', 'containers.sh'), 'secrets', secrets.path]);
      assert.equal(made.code, 0, made.stderr);
      const key = /^GRIDSTREAM_ADMIN_KEY=(.+)$/m.exec(
        await readFile(join(secrets.path, 'gridstream.env'), 'utf8'),
      )?.[1];
      assert.ok(key !== undefined);

      const [apiPort, ingestPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];
      const project = `gstest${process.pid}${Date.now().toString(36)}`;
      const env = {
        GRIDSTREAM_IMAGE: image,
        STACK_KAFKA_IMAGE: services['kafka'] ?? '',
        STACK_POSTGRES_IMAGE: services['postgres'] ?? '',
        STACK_PROMETHEUS_IMAGE: services['prometheus'] ?? '',
        STACK_SECRETS_DIR: secrets.path,
        STACK_API_PORT: String(apiPort),
        STACK_INGEST_PORT: String(ingestPort),
        STACK_PROMETHEUS_PORT: String(prometheusPort),
      };
      const compose = (args: readonly string[]): Promise<Run> =>
        run(
          'podman-compose',
          [
            '-p',
            project,
            '--podman-args',
            PODMAN_FLAGS.join(' '),
            '--podman-run-args',
            RUN_LIMITS.join(' '),
            '-f',
            join(ROOT, 'deploy', 'compose.yaml'),
            ...args,
          ],
          { env },
        );
      const containers = async (): Promise<{ name: string; service: string }[]> =>
        z
          .array(ContainerSchema)
          .parse(
            JSON.parse(
              await podmanOk([
                'ps',
                '-a',
                '--format',
                'json',
                '--filter',
                `label=io.podman.compose.project=${project}`,
              ]),
            ),
          )
          .map((c) => ({ name: c.Names[0] ?? '', service: c.Labels?.['com.docker.compose.service'] ?? '' }));
      const logsOf = async (name: string): Promise<string> => {
        const r = await podman(['logs', '--tail', '40', name]);
        return `--- ${name}\n${(r.stdout + r.stderr).slice(-4000)}`;
      };
      t.after(async () => {
        // Whatever the test left (it fails before `down`): containers, then volumes and network of the project.
        const left = await containers().catch(() => []);
        if (left.length > 0) await podman(['rm', '-f', '-v', '-t', '5', ...left.map((c) => c.name)]);
        const volumes = (await podman(['volume', 'ls', '-q'])).stdout
          .split('\n')
          .filter((v) => v.startsWith(`${project}_`));
        if (volumes.length > 0) await podman(['volume', 'rm', '-f', ...volumes]);
        await podman(['network', 'rm', '-f', `${project}_default`]);
      });

      // Services first, then the roles (they would also get there through `restart: on-failure`, only slower).
      const infra = await compose(['up', '-d', 'kafka', 'postgres', 'prometheus']);
      assert.equal(infra.code, 0, infra.stderr.slice(-4000));
      for (const service of ['kafka', 'postgres']) {
        const name = `${project}_${service}_1`;
        await waitFor(
          `${service} to pass its healthcheck`,
          async () => ((await podman(['healthcheck', 'run', name])).code === 0 ? true : undefined),
          180_000,
        ).catch(async (error: unknown) => {
          throw new Error(`${String(error)}\n${await logsOf(name)}`);
        });
      }
      const roles = await compose(['up', '-d', ...ROLES]);
      assert.equal(roles.code, 0, roles.stderr.slice(-4000));

      const running = (await containers()).filter((c) => (ROLES as readonly string[]).includes(c.service));
      for (const role of ROLES)
        assert.ok(
          running.some((c) => c.service === role),
          `no container for role ${role}`,
        );
      for (const role of STREAM_ROLES_WITH_REPLICAS)
        assert.ok(running.filter((c) => c.service === role).length >= 2, `${role} has replicas`);

      // Every role's HEALTHCHECK: its /readyz (API port, or GRIDSTREAM_METRICS_PORT) answers 200.
      const started = Date.now();
      await waitFor(
        'every role container to pass its healthcheck (/readyz)',
        async () => {
          const results = await Promise.all(
            running.map(async (c) => (await podman(['healthcheck', 'run', c.name])).code),
          );
          return results.every((code) => code === 0) ? true : undefined;
        },
        420_000,
        2000,
      ).catch(async (error: unknown) => {
        throw new Error(`${String(error)}\n${(await Promise.all(running.map((c) => logsOf(c.name)))).join('\n')}`);
      });
      t.diagnostic(`${running.length} role containers ready ${Math.round((Date.now() - started) / 1000)} s after up`);

      // Meters registered through the API, readings posted to the ingest gateway, read back through the API.
      const api = `http://127.0.0.1:${apiPort}`;
      const auth = { authorization: `Bearer ${key}` };
      for (const [i, meterId] of METERS.entries()) {
        const r = await fetch(`${api}/api/v1/admin/meters`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            meter_id: meterId,
            zone: 'DE_LU',
            group: `compose-feeder-${i % 2}`,
            register_type: 'import',
            annual_consumption_kwh: '3500',
            profile: 'H0',
          }),
        });
        assert.equal(r.status, 201, await r.text());
      }
      const posted = await fetch(`http://127.0.0.1:${ingestPort}/ingest/meters`, {
        method: 'POST',
        headers: auth,
        body: READINGS.map((r) => JSON.stringify(r)).join('\n'),
      });
      const answer = z.object({ accepted: z.number(), rejected: z.number() }).parse(await posted.json());
      assert.equal(posted.status, 200);
      assert.deepEqual(answer, { ...answer, accepted: READINGS.length, rejected: 0 });
      for (const [m, meterId] of METERS.entries()) {
        const want = [0, 1, 2, 3].map((q) => [
          `${DAY}T10:${String(q * 15).padStart(2, '0')}:00Z`,
          String(m + 1 + q / 4),
        ]);
        const url = `${api}/api/v1/meters/${meterId}/readings?from=${DAY}T10:00:00Z&to=${DAY}T11:00:00Z&resolution=PT15M`;
        const got = await waitFor(
          `the readings of ${meterId} through the API`,
          async () => {
            const res = await fetch(url, { headers: auth });
            assert.equal(res.status, 200);
            const points = ReadingsSchema.parse(await res.json()).points.filter((p) => p.value !== null);
            return points.length === want.length ? points : undefined;
          },
          180_000,
        );
        assert.deepEqual(
          got.map((p) => [p.ts.replace('.000Z', 'Z'), String(Number(p.value))]),
          want,
          `readings of ${meterId}`,
        );
      }

      // Prometheus: one job per role, a target per replica, every one up.
      const expected = new Map<string, number>();
      for (const c of running) expected.set(c.service, (expected.get(c.service) ?? 0) + 1);
      await waitFor(
        "Prometheus to scrape every role's replicas",
        async () => {
          const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets?state=active`).catch(
            () => undefined,
          );
          if (res?.status !== 200) return undefined;
          const targets = TargetsSchema.parse(await res.json()).data.activeTargets;
          const up = new Map<string, number>();
          for (const tg of targets)
            if (tg.health === 'up') up.set(tg.labels['job'] ?? '', (up.get(tg.labels['job'] ?? '') ?? 0) + 1);
          return [...expected].every(([role, n]) => up.get(role) === n) ? true : undefined;
        },
        120_000,
      );

      // SIGTERM to every gridstream container at once (SIGKILL only after 60 s): each exits by itself with 0.
      await podmanOk(['stop', '-t', '60', ...running.map((c) => c.name)]);
      for (const c of running) {
        const s = StateSchema.parse(JSON.parse(await podmanOk(['inspect', '--format', '{{json .State}}', c.name])));
        assert.equal(s.Running, false);
        assert.equal(
          s.ExitCode,
          0,
          `${c.name} exited ${s.ExitCode} (137 = killed after the grace)\n${await logsOf(c.name)}`,
        );
      }
      const down = await compose(['down', '-v', '-t', '30']);
      assert.equal(down.code, 0, down.stderr.slice(-4000));
      assert.deepEqual(await containers(), []);
      const volumes = (await podmanOk(['volume', 'ls', '-q'])).split('\n').filter((v) => v.startsWith(`${project}_`));
      assert.deepEqual(volumes, []);
    },
  );
});
