-- Downsampled reads (a year of daily or hourly values) must not scan hundreds of thousands of rows. Rollups keep,
-- per series, the sum and count of its 15-minute values per UTC hour and per local day of the zone (a day across
-- a DST change holds 92 or 100 slots). They are refreshed asynchronously by the store role from the base table
-- (recomputed, never adjusted by deltas, so corrections and out-of-order writes cannot make them drift), driven by
-- a dirty range per series that the writer widens with every batch that changed a value. A query whose range
-- meets a dirty range reads the base table instead, so results are never stale, only slower for a moment.
ALTER TABLE grid_series ADD COLUMN dirty_from timestamptz;
ALTER TABLE grid_series ADD COLUMN dirty_to timestamptz;
-- Existing series have no rollups yet: the refresher builds them.
UPDATE grid_series SET dirty_from = first_slot, dirty_to = last_slot;
CREATE INDEX grid_series_dirty ON grid_series (updated_at) WHERE dirty_from IS NOT NULL;

CREATE TABLE grid_rollup_hourly (
  zone             text             NOT NULL,
  metric           text             NOT NULL,
  production_type  text             NOT NULL,
  counterpart_zone text             NOT NULL,
  qualifier        text             NOT NULL,
  bucket           timestamptz      NOT NULL,
  unit             text             NOT NULL,
  value_sum        double precision NOT NULL,
  slots            integer          NOT NULL,
  flags            text[],
  PRIMARY KEY (zone, metric, production_type, counterpart_zone, qualifier, bucket)
);

CREATE TABLE grid_rollup_daily (
  zone             text             NOT NULL,
  metric           text             NOT NULL,
  production_type  text             NOT NULL,
  counterpart_zone text             NOT NULL,
  qualifier        text             NOT NULL,
  -- Start of the zone's local calendar day, as an instant.
  bucket           timestamptz      NOT NULL,
  time_zone        text             NOT NULL,
  -- Quarter hours of that local day (92, 96 or 100), computed once here rather than at every read.
  expected_slots   integer          NOT NULL,
  unit             text             NOT NULL,
  value_sum        double precision NOT NULL,
  slots            integer          NOT NULL,
  flags            text[],
  PRIMARY KEY (zone, metric, production_type, counterpart_zone, qualifier, bucket)
);
