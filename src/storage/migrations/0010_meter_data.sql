-- The meter half's storage (issue #13): stored intervals, register reads, device readings, per-meter day rows,
-- group aggregates, the event-time engine's state, and the audit log of meter reads.
--
-- meter_readings (double precision values, one table for every device kind) and meter_aggregates (counts and
-- sums added per record, which a retried duplicate or a correction would count twice) were never written by a
-- role: they are replaced by the tables below, whose values are exact decimals and whose window results are
-- recomputed from the stored intervals they cover.
DROP TABLE meter_readings;
DROP TABLE meter_aggregates;
DELETE FROM storage_partitioning WHERE parent IN ('meter_readings', 'meter_aggregates');
-- How long raw partitions are kept (NULL: forever, the default); dropped by the scheduler when set.
ALTER TABLE storage_partitioning ADD COLUMN retention interval CHECK (retention IS NULL OR retention > interval '0');

INSERT INTO storage_partitioning (parent, step, ahead) VALUES
  ('meter_intervals', 'day', '7 days'),
  ('meter_register_reads', 'month', '2 months'),
  ('device_readings', 'day', '7 days');

-- One row per (meter, quantity, interval start): the deduplicated interval energy, queryable as soon as stored.
-- The narrow hot table; its values are also compacted into meter_days once the event-time watermark passes the
-- meter's local day end. Which value wins for one key: the latest recorded_at when readings carry it, otherwise the
-- last received in log order (src/readings); the value it replaces goes to meter_interval_revisions.
CREATE TABLE meter_intervals (
  meter_id      text        NOT NULL CHECK (length(meter_id) BETWEEN 1 AND 100),
  quantity      text        NOT NULL CHECK (quantity IN ('energy_import', 'energy_export')),
  ts            timestamptz NOT NULL, -- interval start, UTC
  interval_s    integer     NOT NULL CHECK (interval_s BETWEEN 60 AND 86400),
  value         numeric     NOT NULL,
  quality       text        NOT NULL DEFAULT 'measured' CHECK (quality IN ('measured', 'estimated', 'substituted')),
  -- 'split': part of a register delta spread over several intervals in proportion to time; 'rollover': the
  -- counter wrapped at its capacity; 'reset': the counter went back (reset or exchange), no energy counted.
  flags         text[]      NOT NULL DEFAULT '{}',
  source        text        NOT NULL CHECK (source IN ('interval', 'register')),
  group_id      text        CHECK (length(group_id) BETWEEN 1 AND 100), -- the registry's group at ts (NULL: none)
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL DEFAULT now(),
  -- Where the reading that set this value sits in the log (for register-derived intervals: the later read).
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  PRIMARY KEY (meter_id, quantity, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX meter_intervals_ts ON meter_intervals USING brin (ts);
CREATE INDEX meter_intervals_group ON meter_intervals (group_id, quantity, ts);

CREATE TABLE meter_interval_revisions (
  meter_id      text        NOT NULL,
  quantity      text        NOT NULL,
  ts            timestamptz NOT NULL,
  value         numeric     NOT NULL,
  quality       text        NOT NULL,
  flags         text[]      NOT NULL,
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL,
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  replaced_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_interval_revisions_key ON meter_interval_revisions (meter_id, quantity, ts);

-- Cumulative counters as read (register_import / register_export): the intervals derived from them by difference
-- are recomputed from these rows whenever a read arrives, late ones included.
CREATE TABLE meter_register_reads (
  meter_id      text        NOT NULL CHECK (length(meter_id) BETWEEN 1 AND 100),
  quantity      text        NOT NULL CHECK (quantity IN ('register_import', 'register_export')),
  ts            timestamptz NOT NULL,
  value         numeric     NOT NULL,
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL DEFAULT now(),
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  PRIMARY KEY (meter_id, quantity, ts)
) PARTITION BY RANGE (ts);

-- Register reads that lost to another read of the same instant (or were replaced by one): nothing is lost.
CREATE TABLE meter_register_read_revisions (
  meter_id      text        NOT NULL,
  quantity      text        NOT NULL,
  ts            timestamptz NOT NULL,
  value         numeric     NOT NULL,
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL,
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  replaced_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_register_read_revisions_key ON meter_register_read_revisions (meter_id, quantity, ts);

-- Instant values (power, voltage, frequency) of any device, and every reading of SCADA and PMU devices: stored per
-- device and quantity, without windows and without the meter registry.
CREATE TABLE device_readings (
  device_id     text        NOT NULL CHECK (length(device_id) BETWEEN 1 AND 100),
  kind          text        NOT NULL CHECK (kind IN ('smart_meter', 'scada', 'pmu')),
  quantity      text        NOT NULL CHECK (length(quantity) BETWEEN 1 AND 60),
  ts            timestamptz NOT NULL,
  value         numeric     NOT NULL,
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL DEFAULT now(),
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  PRIMARY KEY (device_id, quantity, ts)
) PARTITION BY RANGE (ts);

-- Device readings that lost to another reading of the same (device, quantity, ts), or were replaced by one.
CREATE TABLE device_reading_revisions (
  device_id     text        NOT NULL,
  quantity      text        NOT NULL,
  ts            timestamptz NOT NULL,
  kind          text        NOT NULL,
  value         numeric     NOT NULL,
  recorded_at   timestamptz,
  received_at   timestamptz NOT NULL,
  log_topic     text        NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL,
  replaced_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_reading_revisions_key ON device_reading_revisions (device_id, quantity, ts);

-- One row per meter, quantity and LOCAL day (92, 96 or 100 quarters on DST days): the day's interval values in
-- order (NULL where missing) with their quality, and the day sum. Written when the watermark passes the day's end;
-- a later change within the allowed lateness restates it (the old row goes to meter_day_revisions).
CREATE TABLE meter_days (
  meter_id    text        NOT NULL,
  quantity    text        NOT NULL,
  local_day   date        NOT NULL,
  time_zone   text        NOT NULL,
  day_start   timestamptz NOT NULL,
  day_end     timestamptz NOT NULL CHECK (day_end > day_start),
  interval_s  integer     NOT NULL,
  "values"    numeric[]   NOT NULL,
  quality     text[]      NOT NULL, -- measured | estimated | substituted | missing, one per slot
  sum         numeric     NOT NULL,
  count       integer     NOT NULL, -- slots with a value
  expected    integer     NOT NULL, -- slots of the day at this interval
  group_id    text,
  restated    boolean     NOT NULL DEFAULT false,
  revision    integer     NOT NULL DEFAULT 0,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (meter_id, quantity, local_day)
);
CREATE INDEX meter_days_group ON meter_days (group_id, quantity, local_day);

CREATE TABLE meter_day_revisions (
  meter_id    text        NOT NULL,
  quantity    text        NOT NULL,
  local_day   date        NOT NULL,
  "values"    numeric[]   NOT NULL,
  quality     text[]      NOT NULL,
  sum         numeric     NOT NULL,
  count       integer     NOT NULL,
  revision    integer     NOT NULL,
  computed_at timestamptz NOT NULL,
  replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_day_revisions_key ON meter_day_revisions (meter_id, quantity, local_day);

-- Group aggregates (sum, count, min and max of the group's interval values) per window. PT15M and PT1H windows
-- are UTC-aligned; P1D and P1M follow the group's time zone. Emitted when the watermark passes the window end,
-- recomputed from meter_intervals (never added to); a restatement keeps the old row in group_aggregate_revisions.
CREATE TABLE group_aggregates (
  group_id     text        NOT NULL,
  quantity     text        NOT NULL,
  resolution   text        NOT NULL CHECK (resolution IN ('PT15M', 'PT1H', 'P1D', 'P1M')),
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL CHECK (window_end > window_start),
  time_zone    text        NOT NULL,
  count        bigint      NOT NULL CHECK (count >= 0),
  sum          numeric     NOT NULL,
  min          numeric,
  max          numeric,
  restated     boolean     NOT NULL DEFAULT false,
  revision     integer     NOT NULL DEFAULT 0,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, quantity, resolution, window_start)
);

CREATE TABLE group_aggregate_revisions (
  group_id     text        NOT NULL,
  quantity     text        NOT NULL,
  resolution   text        NOT NULL,
  window_start timestamptz NOT NULL,
  count        bigint      NOT NULL,
  sum          numeric     NOT NULL,
  min          numeric,
  max          numeric,
  revision     integer     NOT NULL,
  computed_at  timestamptz NOT NULL,
  replaced_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_aggregate_revisions_key ON group_aggregate_revisions (group_id, quantity, resolution, window_start);

-- The event-time engine's state, written in the same transaction as the outputs and the input offsets, so that a
-- restart rebuilds it from here and the log. Per job and input partition: the greatest (clamped) event time seen.
CREATE TABLE stream_watermarks (
  job          text        NOT NULL,
  topic        text        NOT NULL,
  partition    integer     NOT NULL,
  max_event_ts timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, topic, partition)
);

-- Per job: its combined watermark (the minimum over its non-idle partitions of max_event_ts minus the bound), as
-- of its last batch or tick. Window results whose end is at or before it are final; later ones are provisional.
CREATE TABLE stream_jobs (
  job        text        PRIMARY KEY,
  watermark  timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Windows with input the job has not emitted yet (or must emit again: a late change within the allowed lateness).
-- `key` names what the window is of (a meter and quantity, a group and quantity); `restate` marks a window
-- emitted before.
CREATE TABLE stream_pending_windows (
  job          text        NOT NULL,
  kind         text        NOT NULL,
  key          text        NOT NULL,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  time_zone    text        NOT NULL,
  restate      boolean     NOT NULL DEFAULT false,
  since        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, kind, key, window_start)
);
CREATE INDEX stream_pending_windows_due ON stream_pending_windows (job, window_end);

-- Who read which meter's data, for which range, through which path (API, CLI, export). Meter data is personal
-- data: admins query this table (GET /api/v1/admin/audit/meter-reads).
CREATE TABLE meter_read_audit (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  principal  text        NOT NULL, -- 'key:<id>' or 'cli:<os user>'
  path       text        NOT NULL CHECK (path IN ('api', 'cli', 'export')),
  meter_id   text        NOT NULL,
  from_ts    timestamptz,
  to_ts      timestamptz,
  detail     text
);
CREATE INDEX meter_read_audit_meter ON meter_read_audit (meter_id, at);
CREATE INDEX meter_read_audit_at ON meter_read_audit (at);

-- Register meters: the largest value the counter shows; past it the counter wraps (a rollover, not a reset).
ALTER TABLE meters ADD COLUMN register_capacity_kwh numeric CHECK (register_capacity_kwh > 0);

-- Meters of the embedded demo fleet (`gridstream start` without servers): labelled as simulated in the API and UI.
ALTER TABLE meters ADD COLUMN simulated boolean NOT NULL DEFAULT false;

-- API keys limited to meter groups (NULL: every group), the second dimension of access next to zones.
ALTER TABLE api_keys ADD COLUMN groups text[];

SELECT gridstream_ensure_partitions_ahead();
