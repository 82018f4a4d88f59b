import type { SqlClient, StoreCallOptions } from '../common/index.ts';
import { sqlOptions, toMs } from '../common/index.ts';
import type { JobRun, JobRunEnd, JobRunStart, JobRunStatus, JobRunStore } from './job-run-store.ts';

/*
 * Table (storage migration 0003_operations.sql):
 *   job_runs (id bigint identity PK, job, window_start, window_end, status, started_at, finished_at, documents,
 *             points, errors, duration_ms, error, details jsonb)
 */

const COLUMNS = `id::text AS id, job, window_start, window_end, status, started_at, finished_at, documents, points,
  errors, duration_ms, error, details`;

const START = `INSERT INTO job_runs (job, window_start, window_end, status, started_at, details)
VALUES ($1, $2::timestamptz, $3::timestamptz, 'running', clock_timestamp(), $4::jsonb)
RETURNING ${COLUMNS}`;

const FINISH = `UPDATE job_runs
SET status = $2, documents = $3, points = $4, errors = $5, error = $6, finished_at = clock_timestamp(),
    duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM (clock_timestamp() - started_at)) * 1000)::int),
    details = coalesce(details, '{}'::jsonb) || $7::jsonb
WHERE id = $1::bigint
RETURNING ${COLUMNS}`;

const LIST = `SELECT ${COLUMNS} FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, id DESC LIMIT $2`;

interface JobRunRow {
  id: string;
  job: string;
  window_start: Date | null;
  window_end: Date | null;
  status: JobRunStatus;
  started_at: Date;
  finished_at: Date | null;
  documents: number;
  points: number | string;
  errors: number;
  duration_ms: number | null;
  error: string | null;
  details: Record<string, unknown> | null;
}

function toRun(row: JobRunRow | undefined): JobRun {
  if (row === undefined) throw new Error('job run not found');
  return {
    id: row.id,
    job: row.job,
    windowStart: toMs(row.window_start),
    windowEnd: toMs(row.window_end),
    status: row.status,
    startedAt: toMs(row.started_at) ?? 0,
    finishedAt: toMs(row.finished_at),
    documents: row.documents,
    points: Number(row.points),
    errors: row.errors,
    durationMs: row.duration_ms,
    error: row.error,
    details: row.details ?? {},
  };
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The PostgreSQL {@link JobRunStore} on the `job_runs` table (the API reads the same table). */
export class SqlJobRunStore implements JobRunStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async start(run: JobRunStart, options: StoreCallOptions = {}): Promise<JobRun> {
    const params = [run.job, iso(run.windowStart), iso(run.windowEnd), JSON.stringify(run.details ?? {})];
    const result = await this.#db.query<JobRunRow>(START, params, sqlOptions(options.signal));
    return toRun(result.rows[0]);
  }

  async finish(id: string, end: JobRunEnd, options: StoreCallOptions = {}): Promise<JobRun> {
    const params = [
      id,
      end.status,
      end.documents,
      end.points,
      end.errors,
      end.error?.slice(0, 4000) ?? null,
      JSON.stringify(end.details ?? {}),
    ];
    const result = await this.#db.query<JobRunRow>(FINISH, params, sqlOptions(options.signal));
    return toRun(result.rows[0]);
  }

  async list(
    query: { readonly job?: string; readonly limit?: number } = {},
    options: StoreCallOptions = {},
  ): Promise<JobRun[]> {
    const result = await this.#db.query<JobRunRow>(
      LIST,
      [query.job ?? null, query.limit ?? 50],
      sqlOptions(options.signal),
    );
    return result.rows.map((r) => toRun(r));
  }
}
