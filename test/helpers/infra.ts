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
