/**
 * Child process of the kill -9 test (test/quality/kill.test.ts). argv[2]: JSON { url, dataDir, schema }.
 * Opens the infrastructure as `gridstream run meters,quality,settle` does with the embedded log under `dataDir`
 * and PostgreSQL in `schema` (the namespace), runs the meters, quality and settle roles and prints `ready`. The
 * parent kills it with SIGKILL at random moments; SIGTERM stops it gracefully (exit 0).
 */
import { loadConfig } from '../../../src/config/index.ts';
import { createMetrics, silentLogger } from '../../../src/observability/index.ts';
import { openInfrastructure } from '../../../src/runtime/index.ts';
import type { Component } from '../../../src/common/index.ts';
import { metersRole } from '../../../src/meters/index.ts';
import { qualityRole, VeeRules } from '../../../src/quality/index.ts';
import { settleRole } from '../../../src/settlement/index.ts';
import { loadBdewProfiles } from '../../../src/simulator/index.ts';

interface Args {
  readonly url: string;
  readonly dataDir: string;
  readonly schema: string;
}
const BATCH_DAYS = 20;
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const infra = await openInfrastructure(
  loadConfig({ GRIDSTREAM_DATA_DIR: args.dataDir, DATABASE_URL: args.url, GRIDSTREAM_NAMESPACE: args.schema }),
  silentLogger(),
  createMetrics({ defaultMetrics: false }),
);
// As test/helpers/quality.ts runMeterPipeline, with small batches of meter days: many short transactions, so
// that a kill lands between and inside them while the queue holds work.
const components: Component[] = [
  ...metersRole({ ...infra, settings: infra.config.meters }),
  ...qualityRole({
    ...infra,
    rules: new VeeRules(),
    profiles: loadBdewProfiles(),
    clockToleranceMs: infra.config.meters.clockToleranceMs,
    batchDays: BATCH_DAYS,
    idleMs: 50,
  }),
  ...settleRole({ ...infra, waitMs: 0, batchDays: BATCH_DAYS, idleMs: 50 }),
];
for (const c of components) await c.start();
process.once('SIGTERM', () => {
  void (async () => {
    for (const c of [...components].reverse()) await c.stop({ graceMs: 5000 });
    await infra.close();
    process.exit(0);
  })();
});
process.stdout.write('ready\n');
