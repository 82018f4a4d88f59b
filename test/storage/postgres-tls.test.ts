import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import { errorCode, isRetryable } from '../../src/common/index.ts';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { createObservationStore, openDb } from '../../src/storage/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { binaryPath } from '../helpers/services.ts';
import type { TestPki } from '../helpers/tls.ts';
import { makeTestPki } from '../helpers/tls.ts';
import { chunk, count } from './helpers.ts';
import type { PrivateCluster } from './private-cluster.ts';
import { PG_BIN, startPrivateCluster } from './private-cluster.ts';

// A password that must never show up in an error (the clusters trust every TLS connection, so any password works).
const PASSWORD = 'pg-tls-pa55word';

/**
 * PostgreSQL over TLS with `sslmode=verify-full`, through what node-postgres reads from the URL itself
 * (`sslrootcert`): two private clusters that accept TLS only, one with a certificate for 127.0.0.1, one whose
 * certificate names another host.
 */
describe('PostgreSQL over TLS (sslmode=verify-full, private clusters)', () => {
  let pki: TestPki | undefined;
  let good: PrivateCluster | undefined;
  let wrongHost: PrivateCluster | undefined;
  const url = (cluster: PrivateCluster, query: string): string =>
    `postgres://postgres:${PASSWORD}@127.0.0.1:${cluster.port}/postgres${query}`;

  before(async () => {
    if (
      (await binaryPath(undefined, [join(PG_BIN, 'initdb')], 'PostgreSQL server', 'apt-get install postgresql')) ===
      undefined
    )
      return;
    pki = await makeTestPki();
    if (pki === undefined) return;
    const p = pki;
    // Both started before either is kept: a failed start must not leave the other running unremoved.
    const started = await Promise.allSettled([
      startPrivateCluster({}, { tls: { cert: p.server.cert, key: p.server.key } }),
      startPrivateCluster({}, { tls: { cert: p.wrongHost.cert, key: p.wrongHost.key } }),
    ]);
    [good, wrongHost] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  });
  after(async () => {
    await Promise.all([good?.remove(), wrongHost?.remove()]);
    await pki?.remove();
  });

  /** The clusters and certificates, or a failure (CI) / skip (ad hoc) when the binaries are missing. */
  async function setup(t: TestContext) {
    if (
      (await binaryPath(t, [join(PG_BIN, 'initdb')], 'PostgreSQL server', 'apt-get install postgresql')) === undefined
    )
      return undefined;
    if ((await binaryPath(t, ['/usr/bin/openssl'], 'openssl', 'apt-get install openssl')) === undefined)
      return undefined;
    assert.ok(pki !== undefined && good !== undefined && wrongHost !== undefined, 'the clusters started');
    return { pki, good, wrongHost };
  }

  it('gridstream migrates and writes through verify-full with the CA, the URL read from DATABASE_URL_FILE', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const urlFile = join(s.pki.dir, 'database-url');
    await writeFile(urlFile, `${url(s.good, `?sslmode=verify-full&sslrootcert=${s.pki.caFile}`)}\n`);
    const env = { DATABASE_URL_FILE: urlFile };
    const migrated = await gridstream(['migrate', '--schema', 'gs_tls'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /PostgreSQL at 127\.0\.0\.1:\d+\/postgres, schema gs_tls: now at version \d+/);

    const config = loadConfig(env);
    const db = await openDb({
      url: config.databaseUrl,
      dataDir: '/nonexistent',
      schema: 'gs_tls',
      logger: silentLogger(),
    });
    t.after(() => db.close());
    const written = await createObservationStore(db).write([
      chunk({ start: '2025-01-01T00:00:00Z', points: 96, value: (i) => i }),
    ]);
    assert.equal(written.rejected.length, 0);
    assert.equal(await count(db, 'grid_observations'), 96);
    // The session really is encrypted (and pg_hba.conf refuses plaintext anyway: see below).
    const { rows } = await db.query<{ ssl: boolean; version: string }>(
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    const session = rows[0];
    assert.ok(session !== undefined);
    assert.equal(session.ssl, true);
    assert.match(session.version, /^TLSv1\.[23]$/);
  });

  it('a CA that did not sign the server certificate: db.tls_failed, not retryable, no password', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const env = { DATABASE_URL: url(s.good, `?sslmode=verify-full&sslrootcert=${s.pki.otherCaFile}`) };
    const migrated = await gridstream(['migrate'], { env });
    assert.equal(migrated.code, 1);
    assert.match(
      migrated.stderr,
      /db\.tls_failed: .*certificate is not trusted.*\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    assert.doesNotMatch(migrated.stderr, /try again/);
    assert.ok(!migrated.stderr.includes(PASSWORD));

    const db = await openDb({ url: env.DATABASE_URL, dataDir: '/nonexistent', logger: silentLogger() });
    t.after(() => db.close());
    const error = await db.query('SELECT 1').then(
      () => assert.fail('connected with an untrusted certificate'),
      (e: unknown) => e,
    );
    assert.equal(errorCode(error), 'db.tls_failed');
    assert.equal(isRetryable(error), false);
    assert.ok(!String(error).includes(PASSWORD));
  });

  it('a certificate that does not name the host: db.tls_failed naming the mismatch', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const migrated = await gridstream(['migrate'], {
      env: { DATABASE_URL: url(s.wrongHost, `?sslmode=verify-full&sslrootcert=${s.pki.caFile}`) },
    });
    assert.equal(migrated.code, 1);
    assert.match(migrated.stderr, /db\.tls_failed: .*does not name the host.*ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.ok(!migrated.stderr.includes(PASSWORD));
  });

  it('without TLS the server refuses the connection; a missing CA file is a config error', async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const plain = await gridstream(['migrate'], { env: { DATABASE_URL: url(s.good, '') } });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /no encryption/);
    assert.throws(
      () => loadConfig({ DATABASE_URL: url(s.good, `?sslmode=verify-full&sslrootcert=${s.pki.dir}/nope.pem`) }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /DATABASE_URL: cannot read its sslrootcert ".*nope\.pem" \(ENOENT\)/.test(e.message) &&
        !e.message.includes(PASSWORD),
    );
  });
});
