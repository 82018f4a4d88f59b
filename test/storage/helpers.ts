import { mkdtempSync, rmSync } from 'node:fs';
import { COMMANDS, runCli } from '../../src/cli/index.ts';
import { sink } from '../helpers/cli.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { Db, DbKind } from '../../src/storage/index.ts';
import { migrate, openDb } from '../../src/storage/index.ts';
import { testDatabaseUrl, uniqueName } from '../helpers/services.ts';

/** Both Db implementations: every contract test runs once per entry. */
export const DB_KINDS: readonly DbKind[] = ['postgres', 'pglite'];

let pgliteRoot: string | undefined;

/**
 * One PGlite directory per test process, removed at exit: creating one costs an initdb (seconds), reopening it
 * well under one; tests separate themselves by schema, like on PostgreSQL.
 */
export function sharedPgliteDir(): string {
  if (pgliteRoot === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'gridstream-pglite-'));
    pgliteRoot = dir;
    process.on('exit', () => {
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return pgliteRoot;
}

/** Where a test database lives, enough for a child process to open the same one. */
export interface TestDbLocation {
  readonly kind: DbKind;
  readonly url: string | null;
  readonly dataDir: string;
  readonly schema: string;
}

export interface TestDb extends TestDbLocation {
  db: Db;
  /** Closes and opens the database again (PGlite: a new instance on the same directory). */
  reopen(): Promise<Db>;
}

/**
 * A migrated database in a fresh schema, dropped (PostgreSQL) and closed when the test ends. Returns undefined
 * (the test is skipped, visibly) when PostgreSQL is wanted and not configured outside `npm test`.
 */
export async function openTestDb(
  t: TestContext,
  kind: DbKind,
  options: { readonly migrate?: boolean } = {},
): Promise<TestDb | undefined> {
  const url = kind === 'postgres' ? (testDatabaseUrl(t) ?? undefined) : null;
  if (url === undefined) return undefined;
  const schema = uniqueName('gs_test').toLowerCase();
  const dataDir = sharedPgliteDir();
  const open = (): Promise<Db> => openDb({ url, dataDir, schema, logger: silentLogger() });
  const handle: TestDb = {
    kind,
    url,
    dataDir,
    schema,
    db: await open(),
    async reopen() {
      await handle.db.close();
      handle.db = await open();
      return handle.db;
    },
  };
  t.after(async () => {
    try {
      await handle.db.close();
      // PGlite schemas go with the directory at exit; reopening it here would cost more than the drop saves.
      if (url === null) return;
      const admin = await openDb({ url, dataDir, logger: silentLogger() });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    } catch {
      // best effort: a test that killed the database already reported its own failure
    }
  });
  if (options.migrate !== false) await migrate(handle.db);
  return handle;
}

/** A chunk of `points` consecutive quarter hours starting at `start`, values from `value(i)`. */
export function chunk(
  fields: Partial<Omit<GridSeriesChunk, 'points'>> & { start: string; points: number; value?: (i: number) => number },
): GridSeriesChunk {
  const start = Date.parse(fields.start);
  const value = fields.value ?? ((i: number) => i);
  return {
    zone: fields.zone ?? 'FI',
    metric: fields.metric ?? 'generation_actual',
    productionType: fields.productionType ?? 'B16',
    counterpartZone: fields.counterpartZone ?? '',
    qualifier: fields.qualifier ?? '',
    unit: fields.unit ?? 'MW',
    source: fields.source ?? 'entsoe',
    documentId: fields.documentId ?? 'doc-1',
    revision: fields.revision ?? 1,
    ...(fields.issuedAt === undefined ? {} : { issuedAt: fields.issuedAt }),
    ...(fields.attributes === undefined ? {} : { attributes: fields.attributes }),
    points: Array.from({ length: fields.points }, (_, i) => ({
      t: new Date(start + i * 900_000).toISOString().replace('.000Z', 'Z'),
      v: value(i),
    })),
  };
}

/** The whole observation table in key order, without the timestamps that differ between runs. */
export async function dumpObservations(db: Db): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT zone, metric, production_type, counterpart_zone, qualifier, slot_start, value, unit, source, document_id,
       revision, issued_at, flags, first_seen, last_updated
     FROM grid_observations ORDER BY zone, metric, production_type, counterpart_zone, qualifier, slot_start`,
  );
  return rows.map((r) => JSON.stringify(r));
}

/** Row count of a table. */
export async function count(db: Db, table: string, where = 'true'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table} WHERE ${where}`);
  return rows[0]?.n ?? -1;
}

/**
 * Runs `gridstream <argv>` in-process against a test database (its schema via --schema), in `cwd`. PGlite admits
 * one opener: the command opens the directory, so the test lets go of it meanwhile.
 */
export async function gridstreamOn(
  h: TestDb,
  cwd: string,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const env = {
    GRIDSTREAM_LOG_LEVEL: 'silent',
    GRIDSTREAM_DATA_DIR: h.dataDir,
    ...(h.url === null ? {} : { DATABASE_URL: h.url }),
  };
  if (h.kind === 'pglite') await h.db.close();
  const withSchema = argv.includes('--help') ? argv : [...argv, '--schema', h.schema];
  const code = await runCli(withSchema, COMMANDS, {
    env,
    stdout: out.stream,
    stderr: err.stream,
    signal: new AbortController().signal,
    cwd,
  });
  if (h.kind === 'pglite') await h.reopen();
  return { code, stdout: out.text(), stderr: err.text() };
}
