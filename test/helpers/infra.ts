import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { openInfrastructure } from '../../src/runtime/index.ts';
import type { TestContext } from 'node:test';
import { openDb } from '../../src/storage/index.ts';
import { tempDir, testDatabaseUrl, uniqueName } from './services.ts';

/**
 * The embedded infrastructure (PGlite and the embedded log) on a fresh temporary data directory. `remove()` closes
 * it (closing twice is harmless) and deletes the directory.
 */
export async function embeddedInfra(): Promise<{ readonly infra: Infrastructure; remove(): Promise<void> }> {
  const dir = await tempDir();
  const infra = await openInfrastructure(
    loadConfig({ GRIDSTREAM_DATA_DIR: dir.path }),
    silentLogger(),
    createMetrics({ defaultMetrics: false }),
  );
  return {
    infra,
    async remove() {
      await infra.close();
      await dir.remove();
    },
  };
}

/**
 * Registers before/after hooks in the calling suite: {@link embeddedInfra} opened before its tests and removed after
 * them. `infra` is read inside the tests (it throws when read outside the suite).
 */
export function useEmbeddedInfra(): { readonly infra: Infrastructure } {
  let opened: Awaited<ReturnType<typeof embeddedInfra>> | undefined;
  before(async () => {
    opened = await embeddedInfra();
  });
  after(async () => {
    await opened?.remove();
  });
  return {
    get infra(): Infrastructure {
      if (opened === undefined) throw new Error('the embedded infrastructure is used outside its suite');
      return opened.infra;
    },
  };
}

/**
 * The embedded log on a fresh temporary directory with the test PostgreSQL server in a schema of its own (dropped
 * when the test ends). Undefined (the test skipped, visibly) when PostgreSQL is not configured outside `npm test`.
 */
export async function postgresInfra(t: TestContext): Promise<Infrastructure | undefined> {
  const url = testDatabaseUrl(t);
  if (url === undefined) return undefined;
  const dir = await tempDir();
  const schema = uniqueName('gs_test').toLowerCase();
  const infra = await openInfrastructure(
    loadConfig({ GRIDSTREAM_DATA_DIR: dir.path, DATABASE_URL: url, GRIDSTREAM_NAMESPACE: schema }),
    silentLogger(),
    createMetrics({ defaultMetrics: false }),
  );
  t.after(async () => {
    await infra.close();
    const admin = await openDb({ url, dataDir: dir.path, logger: silentLogger() });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
    await dir.remove();
  });
  return infra;
}
