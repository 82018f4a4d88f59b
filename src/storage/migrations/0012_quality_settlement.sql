-- Issue #14: validation, estimation and editing (VEE) of meter intervals, and settlement of energy × price × carbon.
--
-- Both are event-time results of a meter's LOCAL DAY, recomputed from stored inputs: the `quality` role validates a
-- day once the meters role has compacted it (its meter_days row was written or changed), the `settle` role prices a
-- validated day. The work between them is a queue of meter days (meter_work) written in the same transaction as
-- what made the work necessary; a worker takes items with SKIP LOCKED, recomputes, writes and deletes them in one
-- transaction, so a crash at any point repeats a recomputation (a no-op) and never loses or doubles one.

-- Meter days some role must (re)compute. `due_at`: not before (a settlement waiting for prices); `since`: first
-- queued (the wait for prices counts from here).
CREATE TABLE meter_work (
  job        text        NOT NULL CHECK (job IN ('quality', 'settle')),
  meter_id   text        NOT NULL,
  quantity   text        NOT NULL CHECK (quantity IN ('energy_import', 'energy_export')),
  local_day  date        NOT NULL,
  time_zone  text        NOT NULL,
  day_start  timestamptz NOT NULL,
  day_end    timestamptz NOT NULL CHECK (day_end > day_start),
  due_at     timestamptz NOT NULL DEFAULT now(),
  since      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, meter_id, quantity, local_day)
);
CREATE INDEX meter_work_due ON meter_work (job, due_at);

-- The validated series: one row per meter, quantity and interval of a validated local day. `value` is what
-- settlement uses (NULL: missing), `quality` and `method` say what set it, `raw` keeps the measured value as
-- stored in meter_intervals (NULL: none arrived), `rules` the ids of the validation rules the raw value failed,
-- `details` per rule what was compared (limit, median, run length...).
CREATE TABLE meter_validated (
  meter_id    text        NOT NULL,
  quantity    text        NOT NULL,
  ts          timestamptz NOT NULL,
  interval_s  integer     NOT NULL,
  local_day   date        NOT NULL,
  value       numeric,
  quality     text        NOT NULL CHECK (quality IN ('measured', 'estimated', 'substituted', 'missing')),
  method      text        NOT NULL CHECK (method IN ('measured', 'linear', 'history', 'profile', 'edit',
                'edit_override', 'none')),
  raw         numeric,
  rules       text[]      NOT NULL DEFAULT '{}',
  details     jsonb,
  group_id    text,
  revision    integer     NOT NULL DEFAULT 0,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (meter_id, quantity, ts),
  CHECK ((value IS NULL) = (quality = 'missing'))
);
CREATE INDEX meter_validated_group ON meter_validated (group_id, quantity, ts);

CREATE TABLE meter_validated_revisions (
  meter_id    text        NOT NULL,
  quantity    text        NOT NULL,
  ts          timestamptz NOT NULL,
  value       numeric,
  quality     text        NOT NULL,
  method      text        NOT NULL,
  raw         numeric,
  rules       text[]      NOT NULL,
  revision    integer     NOT NULL,
  computed_at timestamptz NOT NULL,
  replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_validated_revisions_key ON meter_validated_revisions (meter_id, quantity, ts);

-- Operators' edits of interval values, append only (the audit trail): the latest row per interval is in force;
-- one with value NULL withdraws the edit before it. `override`: the edit beats measured values too.
CREATE TABLE meter_interval_edits (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  meter_id  text        NOT NULL,
  quantity  text        NOT NULL CHECK (quantity IN ('energy_import', 'energy_export')),
  ts        timestamptz NOT NULL,
  value     numeric,
  override  boolean     NOT NULL DEFAULT false,
  reason    text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  principal text        NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_interval_edits_key ON meter_interval_edits (meter_id, quantity, ts, id);

-- Settlement per meter, quantity and 15-minute settlement period: energy (kWh), the day-ahead price of the meter's
-- bidding zone (sequence 1) and cost, the zone's consumption-based carbon intensity (lifecycle and direct) and
-- emissions. Exact numerics, never rounded here. `status` is 'pending' while the price, an intensity or the energy
-- is missing; a later arrival or correction restates the row (the old one goes to meter_settlement_revisions).
CREATE TABLE meter_settlement (
  meter_id              text        NOT NULL,
  quantity              text        NOT NULL,
  period                timestamptz NOT NULL,
  local_day             date        NOT NULL,
  time_zone             text        NOT NULL,
  group_id              text,
  bidding_zone          text,
  energy_kwh            numeric,
  quality               text        NOT NULL,
  price                 numeric,
  price_unit            text,
  currency              text,
  cost                  numeric,
  intensity_lifecycle   numeric,
  intensity_direct      numeric,
  emissions_lifecycle_g numeric,
  emissions_direct_g    numeric,
  status                text        NOT NULL CHECK (status IN ('final', 'pending')),
  revision              integer     NOT NULL DEFAULT 0,
  computed_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (meter_id, quantity, period)
);
CREATE INDEX meter_settlement_group ON meter_settlement (group_id, quantity, period);
CREATE INDEX meter_settlement_zone ON meter_settlement (bidding_zone, period);

CREATE TABLE meter_settlement_revisions (
  meter_id              text        NOT NULL,
  quantity              text        NOT NULL,
  period                timestamptz NOT NULL,
  energy_kwh            numeric,
  quality               text        NOT NULL,
  price                 numeric,
  cost                  numeric,
  intensity_lifecycle   numeric,
  intensity_direct      numeric,
  emissions_lifecycle_g numeric,
  emissions_direct_g    numeric,
  status                text        NOT NULL,
  revision              integer     NOT NULL,
  computed_at           timestamptz NOT NULL,
  replaced_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_settlement_revisions_key ON meter_settlement_revisions (meter_id, quantity, period);

-- Prices and carbon intensities that arrived, changed or were deleted, per zone and span of slots: the settle role
-- re-prices the settled days they touch. Written by statement triggers on grid_observations in the writer's
-- transaction, so no change is missed whatever wrote it (the store role's upsert, a backfill, an operator's fix).
-- The settle role turns them into queued days under an exclusive advisory lock that its settling transactions take
-- shared, so that a day being settled while a price arrives is seen settled (and re-priced) or sees the price.
CREATE TABLE settlement_input_changes (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone      text        NOT NULL,
  slot_from timestamptz NOT NULL,
  slot_to   timestamptz NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION gridstream_settlement_inputs_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO settlement_input_changes (zone, slot_from, slot_to)
  SELECT n.zone, min(n.slot_start), max(n.slot_start) + interval '15 minutes'
  FROM new_rows n
  WHERE (n.metric = 'price_day_ahead' AND n.qualifier = 'sequence=1')
     OR n.metric = 'carbon_intensity_consumption'
  GROUP BY n.zone;
  RETURN NULL;
END
$$;
CREATE TRIGGER grid_observations_settlement_insert
  AFTER INSERT ON grid_observations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_settlement_inputs_changed();
CREATE TRIGGER grid_observations_settlement_update
  AFTER UPDATE ON grid_observations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_settlement_inputs_changed();
-- A deleted price (an operator removing a wrong one) re-prices the days that used it too: they become pending. (The
-- old rows are named new_rows so that one function serves the three triggers.)
CREATE TRIGGER grid_observations_settlement_delete
  AFTER DELETE ON grid_observations
  REFERENCING OLD TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_settlement_inputs_changed();
