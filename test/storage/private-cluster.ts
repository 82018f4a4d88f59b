import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { access, chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** util-linux's runuser lives in /usr/sbin, which a minimal PATH (CI) may not include. */
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server binaries. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of its own (initdb in a temp dir, another port), for tests that stop and restart the
 * server: the machine's shared server on 5432 is used by other suites and must never be restarted. initdb and
 * postgres refuse to run as root, so as root they run as the `postgres` system user.
 */
export interface PrivateCluster {
  readonly url: string;
  readonly port: number;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its directory. */
  remove(): Promise<void>;
}

/** True when the PostgreSQL server binaries are installed. */
export async function havePgBinaries(): Promise<boolean> {
  try {
    await access(join(PG_BIN, 'initdb'));
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** TLS of a private cluster: the server's certificate and key (PEM). */
export interface PrivateClusterTls {
  readonly cert: string;
  readonly key: string;
  /** Refuse every TCP connection without TLS (`hostssl` only in pg_hba.conf). @default true */
  readonly only?: boolean;
}

/**
 * Creates and starts a private cluster. `settings` are extra `postgres -c` settings; `extra.parentDir` is where its
 * directory (data, socket, log) is made (default: the system's temp dir), e.g. a small tmpfs to fill up;
 * `extra.tls` turns on `ssl` with the given certificate and key (written into the cluster's directory, owned by
 * the server's user, mode 0600).
 */
export async function startPrivateCluster(
  settings: Record<string, string> = {},
  extra: { readonly parentDir?: string; readonly tls?: PrivateClusterTls } = {},
): Promise<PrivateCluster> {
  const dir = await mkdtemp(join(extra.parentDir ?? tmpdir(), 'gridstream-pg-'));
  const asRoot = process.getuid?.() === 0;
  const user = async (file: string, args: string[]): Promise<void> => {
    if (asRoot) await run(RUNUSER, ['-u', 'postgres', '--', file, ...args], { cwd: '/' });
    else await run(file, args);
  };
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await user(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const tlsSettings: Record<string, string> = {};
  if (extra.tls !== undefined) {
    const owner = asRoot
      ? {
          uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
          gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
        }
      : undefined;
    for (const [name, text] of [
      ['server.pem', extra.tls.cert],
      ['server.key', extra.tls.key],
    ] as const) {
      await writeFile(join(dir, name), text, { mode: 0o600 });
      await chmod(join(dir, name), 0o600);
      if (owner !== undefined) await chown(join(dir, name), owner.uid, owner.gid);
    }
    Object.assign(tlsSettings, {
      ssl: 'on',
      ssl_cert_file: join(dir, 'server.pem'),
      ssl_key_file: join(dir, 'server.key'),
    });
    if (extra.tls.only !== false) {
      // TCP only with TLS: a plaintext client is refused by pg_hba.conf, so a working connection proves TLS.
      const hba = [
        'local all all trust',
        'hostssl all all 127.0.0.1/32 trust',
        'hostnossl all all 0.0.0.0/0 reject',
        '',
      ];
      await writeFile(join(data, 'pg_hba.conf'), hba.join('\n'));
      if (owner !== undefined) await chown(join(data, 'pg_hba.conf'), owner.uid, owner.gid);
    }
  }
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    `-c listen_addresses=127.0.0.1`,
    `-c fsync=off`,
    ...Object.entries({ ...tlsSettings, ...settings }).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await user(join(PG_BIN, 'pg_ctl'), [
        '-D',
        data,
        '-o',
        options,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
    },
    async stop(mode = 'fast') {
      await user(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']).catch(() => undefined);
    },
    async remove() {
      await cluster.stop('immediate');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
