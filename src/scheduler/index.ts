/**
 * The `scheduler` role: cron jobs with lookback windows, one leader at a time through a lease, job-run records,
 * backfills (planning, progress, resumable runs, progress display) and the offline replay of bundled documents.
 * Stores come in two implementations each: in-process (embedded mode, tests) and SQL (the storage module's Db).
 */
export { SchedulerError, SCHEDULER_ERROR_CODES, type SchedulerErrorCode } from './errors.ts';
export { parseCron, nextFire, type CronSchedule } from './cron.ts';
export { lookbackWindow, alignDown, ALIGNMENTS, type Alignment, type Window, type WindowSpec } from './windows.ts';
export { type LeaseStore, type Lease, MemoryLeaseStore } from './lease-store.ts';
export { SqlLeaseStore } from './sql-lease-store.ts';
export { LeaderElector, type LeaderElectorOptions } from './leader.ts';
export {
  type JobRunStore,
  type JobRun,
  type JobRunStart,
  type JobRunEnd,
  type JobRunStatus,
  JOB_RUN_STATUSES,
  MemoryJobRunStore,
} from './job-run-store.ts';
export { SqlJobRunStore } from './sql-job-run-store.ts';
export { Scheduler, type SchedulerOptions, type ScheduledJob, type JobContext, type JobOutcome } from './scheduler.ts';
export {
  CORE_ZONES,
  DEFAULT_ZONES,
  DEFAULT_BORDERS,
  DEFAULT_DOCUMENTS,
  AHEAD_ITEMS,
  DEFAULT_ELECTRICITYMAPS_ZONES,
} from './default-zones.ts';
export {
  SchedulerConfigSchema,
  parseSchedulerConfig,
  type SchedulerConfig,
  type JobConfig,
} from './scheduler-config.ts';
export { scopeRequests, aheadPeriod, jobScope, entsoeJob, entsoeJobs, type FetchScope } from './entsoe-jobs.ts';
export { electricityMapsJob } from './electricitymaps-job.ts';
export {
  OfflineReplayer,
  DEFAULT_REPLAY_DIR,
  type OfflineReplayerOptions,
  type ReplayProgress,
} from './offline-replayer.ts';
export {
  type ReplayedDocumentStore,
  type ReplayedDocument,
  MemoryReplayedDocumentStore,
} from './replayed-document-store.ts';
export { SqlReplayedDocumentStore } from './sql-replayed-document-store.ts';
export {
  planBackfill,
  backfillSplit,
  parseBackfillDate,
  type BackfillPlan,
  type BackfillChunk,
} from './backfill-plan.ts';
export {
  type BackfillProgressStore,
  type ChunkProgress,
  type ChunkUpdate,
  type ChunkStatus,
  CHUNK_STATUSES,
  MemoryBackfillProgressStore,
} from './backfill-progress-store.ts';
export { SqlBackfillProgressStore } from './sql-backfill-progress-store.ts';
export {
  runBackfill,
  type BackfillRunOptions,
  type BackfillProgress,
  type BackfillSummary,
} from './backfill-runner.ts';
export { BackfillDisplay, summaryLines, formatDuration, formatCount, type DisplayStream } from './backfill-display.ts';
export {
  createSchedulerRole,
  type SchedulerRole,
  type SchedulerRoleOptions,
  type ConnectorStatus,
  type ReplayStatus,
} from './scheduler-role.ts';
