/**
 * Child process for the crash tests. argv[2]: JSON
 *   { url, dataDir, schema, mode: 'observations' | 'meters', hangAfterCopy?: number, perPartition?, lag?, filter? }
 * Prints `ready` once the database is open. With `hangAfterCopy: n`, the n-th COPY of the process completes and
 * then the process prints `copied` and hangs inside its transaction, for the parent to kill -9.
 */
import { silentLogger } from '../../../src/observability/index.ts';
import type { Db, DbTransaction } from '../../../src/storage/index.ts';
import {
  ensureMeterPartitions,
  loadOffsets,
  lockOffsets,
  openDb,
  saveOffsets,
  writeMeterData,
  writeObservations,
} from '../../../src/storage/index.ts';
import { METER_GROUP, METER_TOPIC, meterInput, meterLog } from '../meter-log.ts';
import { crashBatch } from '../crash-batch.ts';

interface Args {
  url: string | null;
  dataDir: string;
  schema: string;
  mode: 'observations' | 'meters';
  variant?: 'fresh' | 'corrections';
  hangAfterCopy?: number;
  perPartition?: number;
  lag?: number;
  /** Leave out records below the stored offsets, as the meters role does (false: write them again). */
  filter?: boolean;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const raw = await openDb({ url: args.url, dataDir: args.dataDir, schema: args.schema, logger: silentLogger() });

let copies = 0;
const hangAfter = args.hangAfterCopy ?? Number.POSITIVE_INFINITY;
async function afterCopy(): Promise<void> {
  if (++copies < hangAfter) return;
  process.stdout.write('copied\n');
  await new Promise(() => undefined); // never resolves: the transaction stays open until the kill
}
function instrument(tx: DbTransaction): DbTransaction {
  return {
    query: (sql, params, o) => tx.query(sql, params, o),
    exec: (sql, o) => tx.exec(sql, o),
    copyRows: async (table, columns, rows, o) => {
      const n = await tx.copyRows(table, columns, rows, o);
      await afterCopy();
      return n;
    },
    copyText: async (table, columns, pieces, o) => {
      const n = await tx.copyText(table, columns, pieces, o);
      await afterCopy();
      return n;
    },
  };
}
const db: Db = { ...raw, transaction: (fn, o) => raw.transaction((tx) => fn(instrument(tx)), o) };
process.stdout.write('ready\n');

if (args.mode === 'observations') {
  const result = await writeObservations(db, crashBatch(args.variant ?? 'fresh'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  // The meters role's write path: seek to the offsets stored with the output, minus `lag` (so that redeliveries
  // happen), and store each batch with its next offsets in one transaction until the log is consumed.
  const log = meterLog(args.perPartition ?? 200);
  const stored = await loadOffsets(db, METER_GROUP, METER_TOPIC);
  let batches = 0;
  const position = log.map((_, p) =>
    Math.max(0, (stored.find((s) => s.partition === p)?.offset ?? 0) - (args.lag ?? 0)),
  );
  for (;;) {
    const batch = log.flatMap((records, p) => records.slice(position[p], (position[p] ?? 0) + 5));
    if (batch.length === 0) break;
    await ensureMeterPartitions(db, meterInput(batch));
    const partitions = [...new Set(batch.map((r) => r.partition))].map((p) => ({ topic: METER_TOPIC, partition: p }));
    await db.transaction(async (tx) => {
      const next = await lockOffsets(tx, METER_GROUP, partitions);
      const fresh =
        args.filter === false
          ? batch
          : batch.filter((r) => r.offset >= (next.get(`${METER_TOPIC}\u0000${r.partition}`) ?? 0));
      await writeMeterData(tx, meterInput(fresh));
      await saveOffsets(
        tx,
        METER_GROUP,
        partitions.map((p) => ({
          ...p,
          offset: Math.max(...batch.filter((r) => r.partition === p.partition).map((r) => r.offset)) + 1,
        })),
      );
    });
    for (const r of batch) position[r.partition] = r.offset + 1;
    process.stdout.write(`batch ${++batches}\n`);
  }
  process.stdout.write('done\n');
}
await raw.close();
