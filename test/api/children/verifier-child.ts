/**
 * Child process for the revocation test. argv[2]: JSON { url, schema, key }. Verifies `key` every 20 ms with its
 * own KeyVerifier (default freshness) on its own connection and prints one line per change: `accepted <ms>` or
 * `refused <ms>` (Date.now()), and `listening <bool>` once the first check is done. Runs until killed.
 */
import { KeyVerifier } from '../../../src/api/index.ts';
import { silentLogger } from '../../../src/observability/index.ts';
import { openDb } from '../../../src/storage/index.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { url: string; schema: string; key: string };
const db = await openDb({ url: args.url, dataDir: '/nonexistent', schema: args.schema, logger: silentLogger() });
const verifier = new KeyVerifier(db);
let last: string | undefined;
let told = false;
for (;;) {
  const state = (await verifier.verify(args.key)) === undefined ? 'refused' : 'accepted';
  if (state !== last) process.stdout.write(`${state} ${Date.now()}\n`);
  last = state;
  if (!told) {
    told = true;
    const listening = (verifier as { listening?: () => Promise<boolean> }).listening;
    process.stdout.write(`listening ${listening === undefined ? 'false' : String(await listening.call(verifier))}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
