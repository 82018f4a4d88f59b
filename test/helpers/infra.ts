import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { openInfrastructure } from '../../src/runtime/index.ts';
import { tempDir } from './services.ts';

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
