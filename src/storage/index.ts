/**
 * Storage: PostgreSQL and PGlite behind one Db port, SQL migrations, the idempotent grid observation sink with
 * revisions, the meter data (intervals, register reads, device readings) with revisions, day rows and group
 * aggregates recomputed from stored intervals, the event-time engine's state, queries for the API, and export.
 */
export {
  type Db,
  type DbKind,
  DB_KINDS,
  type DbTransaction,
  type Queryable,
  type QueryResult,
  type DbCallOptions,
  type CopyValue,
  type DbSubscription,
  type DbNotificationHandlers,
} from './db.ts';
export { openDb, describeDatabase, type OpenDbOptions } from './open-db.ts';
export { StorageError, STORAGE_ERROR_CODES, type StorageErrorCode, isDataError, sqlStateOf } from './errors.ts';
export { migrate, loadMigrations, type Migration, type MigrateResult } from './migrate.ts';
export {
  writeObservations,
  writeObservationsIn,
  type WriteObservationsResult,
  type WriteObservationsOptions,
} from './write-observations.ts';
export {
  OBSERVATION_REJECT_REASONS,
  type ObservationReject,
  type ObservationRejectReason,
} from './observation-rows.ts';
export {
  createObservationStore,
  rejectionsByChunk,
  storageDeadLetter,
  type ObservationStore,
  type ChunkRejection,
} from './observation-store.ts';
export { loadOffsets, saveOffsets, lockOffsets, offsetKey, type StoredOffset } from './offsets.ts';
export {
  ensureMeterPartitions,
  writeMeterData,
  type LogPosition,
  type EnergyQuantity,
  type RegisterQuantity,
  type IntervalInput,
  type RegisterReadInput,
  type DeviceReadingInput,
  type MeterDataInput,
  type MeterWriteCounts,
  type MeterWriteResult,
  type ChangedInterval,
  type RegisterResetSpan,
} from './meter-data.ts';
export { DirectCopy } from './meter-upsert.ts';
export {
  enqueueMeterWork,
  takeMeterWork,
  finishMeterWork,
  deferMeterWork,
  countMeterWork,
  queueSilentDays,
  METER_WORK_JOBS,
  type MeterWorkJob,
  type MeterWorkItem,
} from './meter-work.ts';
export {
  emitMeterDays,
  emitGroupWindows,
  type MeterDayWindow,
  type GroupWindow,
  type EmitResult,
  meterWindowKey,
} from './meter-windows.ts';
export {
  saveWatermarks,
  loadWatermarks,
  saveJobWatermark,
  lockJobWatermark,
  loadJobWatermark,
  markPending,
  takeDuePending,
  countPending,
  type PartitionWatermark,
  type StoredPartitionWatermark,
  type PendingWindow,
} from './stream-state.ts';
export { ensurePartitions, ensurePartitionsAhead, PARTITIONED_TABLES, type PartitionedTable } from './partitions.ts';
export * from './queries/index.ts';
export {
  EXPORT_FORMATS,
  type ExportFormat,
  EXPORT_COLUMNS,
  EXPORT_CSV_HEADER,
  exportCsvLine,
  exportJsonLine,
  writeParquet,
  METER_EXPORT_COLUMNS,
  METER_EXPORT_CSV_HEADER,
  meterCsvLine,
  meterJsonLine,
  writeMeterParquet,
  SETTLEMENT_EXPORT_COLUMNS,
  SETTLEMENT_EXPORT_CSV_HEADER,
  settlementCsvLine,
  settlementJsonLine,
  writeSettlementParquet,
} from './export-format.ts';
export { refreshRollups, ROLLUP_TABLES, type RefreshResult } from './rollups.ts';
export { rollupRefresher } from './rollup-refresher.ts';
export {
  dropExpiredPartitions,
  partitionMaintainer,
  RAW_METER_TABLES,
  type DroppedPartition,
  type PartitionMaintainerOptions,
} from './partition-maintainer.ts';
export { storeRole, STORE_GROUP, type StoredListener, type StoreRoleDeps } from './store-role.ts';
