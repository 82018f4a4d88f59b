/**
 * Child process for the concurrent-migration test: waits until the start time it is given (so that several
 * children start together), migrates, and prints the result as JSON.
 * argv[2]: JSON { url, dataDir, schema, startAt }
 */
import { silentLogger } from '../../../src/observability/index.ts';
import { migrate, openDb } from '../../../src/storage/index.ts';

const { url, dataDir, schema, startAt } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string | null;
  dataDir: string;
  schema: string;
  startAt: number;
};
const db = await openDb({ url, dataDir, schema, logger: silentLogger() });
await db.query('SELECT 1'); // connect before the start line, so that connection setup does not stagger the race
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
const result = await migrate(db);
await db.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
