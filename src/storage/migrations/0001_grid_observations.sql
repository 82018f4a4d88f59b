-- Grid observations: one row per series and 15-minute slot. The primary key is the canonical observation key
-- (ARCHITECTURE.md "Contracts"); the database enforces it, so a replayed batch can never duplicate a value.
-- Checks run for every copied row, so they are cheap ones: regular-expression checks on the five key columns
-- made a 100 000-row COPY 2.3 times slower (measured), so the key syntax is validated by the writer
-- (observation-rows.ts) and the database checks lengths, units, finiteness and the quarter-hour grid.
CREATE TABLE grid_observations (
  zone             text             NOT NULL CHECK (octet_length(zone) BETWEEN 1 AND 40),
  metric           text             NOT NULL CHECK (octet_length(metric) BETWEEN 1 AND 60),
  production_type  text             NOT NULL DEFAULT '' CHECK (octet_length(production_type) <= 40),
  counterpart_zone text             NOT NULL DEFAULT '' CHECK (octet_length(counterpart_zone) <= 40),
  qualifier        text             NOT NULL DEFAULT '' CHECK (octet_length(qualifier) <= 800),
  slot_start       timestamptz      NOT NULL CHECK (date_bin('15 minutes', slot_start, timestamptz 'epoch') = slot_start),
  value            double precision NOT NULL CHECK (value > '-Infinity' AND value < 'Infinity'),
  unit             text             NOT NULL CHECK (unit IN ('MW', 'MWh', 'EUR/MWh', 'GBP/MWh', 'CHF/MWh', 'PLN/MWh',
                     'CZK/MWh', 'HUF/MWh', 'RON/MWh', 'BGN/MWh', 'DKK/MWh', 'SEK/MWh', 'NOK/MWh', 'gCO2eq/kWh', '%')),
  source           text             NOT NULL CHECK (octet_length(source) BETWEEN 1 AND 40),
  document_id      text             NOT NULL DEFAULT '' CHECK (octet_length(document_id) <= 800),
  revision         integer          NOT NULL DEFAULT 0 CHECK (revision >= 0),
  -- Quality flags; NULL when there are none (most rows), which costs nothing on disk.
  flags            text[],
  first_seen       timestamptz      NOT NULL DEFAULT now(),
  -- When the value last changed (a replay of an identical value does not touch the row).
  last_updated     timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (zone, metric, production_type, counterpart_zone, qualifier, slot_start)
);

-- Every change of an existing value keeps the previous one: what it was, since when, when it changed and which
-- document changed it. Together with first_seen this reconstructs the value known at any past moment (as-of).
CREATE TABLE grid_observation_revisions (
  id                bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone              text             NOT NULL,
  metric            text             NOT NULL,
  production_type   text             NOT NULL,
  counterpart_zone  text             NOT NULL,
  qualifier         text             NOT NULL,
  slot_start        timestamptz      NOT NULL,
  old_value         double precision NOT NULL,
  old_unit          text             NOT NULL,
  old_source        text             NOT NULL,
  old_document_id   text             NOT NULL,
  old_revision      integer          NOT NULL,
  old_flags         text[],
  -- When the old value had been stored (its last_updated).
  old_since         timestamptz      NOT NULL,
  new_value         double precision NOT NULL,
  new_unit          text             NOT NULL,
  changed_at        timestamptz      NOT NULL,
  -- The document that changed it.
  document_id       text             NOT NULL,
  revision          integer          NOT NULL
);
CREATE INDEX grid_observation_revisions_key
  ON grid_observation_revisions (zone, metric, production_type, counterpart_zone, qualifier, slot_start, changed_at);
CREATE INDEX grid_observation_revisions_changed_at ON grid_observation_revisions (changed_at);

-- A statement-level trigger with transition tables rather than a row trigger: one set-based insert per
-- statement, nothing at all for statements that only insert, and every UPDATE is covered (the sink's upsert and
-- an operator's manual fix alike).
--
-- enable_nestloop is off for it because PL/pgSQL caches the plan of the first call, made when the transition
-- tables were tiny (a statement that inserted only): a nested loop join then costs O(n²) on a batch of
-- corrections (measured: 17 s for 10 000 updated rows, against 30 ms with a hash or merge join).
CREATE FUNCTION grid_observations_keep_revisions() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off AS $$
BEGIN
  INSERT INTO grid_observation_revisions (zone, metric, production_type, counterpart_zone, qualifier, slot_start,
    old_value, old_unit, old_source, old_document_id, old_revision, old_flags, old_since, new_value, new_unit,
    changed_at, document_id, revision)
  SELECT o.zone, o.metric, o.production_type, o.counterpart_zone, o.qualifier, o.slot_start,
    o.value, o.unit, o.source, o.document_id, o.revision, o.flags, o.last_updated, n.value, n.unit,
    n.last_updated, n.document_id, n.revision
  FROM old_rows o
  JOIN new_rows n USING (zone, metric, production_type, counterpart_zone, qualifier, slot_start)
  WHERE o.value IS DISTINCT FROM n.value OR o.unit IS DISTINCT FROM n.unit;
  RETURN NULL;
END
$$;
CREATE TRIGGER grid_observations_revisions
  AFTER UPDATE ON grid_observations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grid_observations_keep_revisions();

-- One row per series: its unit and the slot range it covers. Maintained by the writer (a few rows per batch).
-- Queries start here and then read each series by its full key prefix, which keeps them on the primary key's
-- index without a second index on the big table (a second index would slow every insert).
CREATE TABLE grid_series (
  zone             text        NOT NULL,
  metric           text        NOT NULL,
  production_type  text        NOT NULL,
  counterpart_zone text        NOT NULL,
  qualifier        text        NOT NULL,
  unit             text        NOT NULL,
  source           text        NOT NULL,
  first_slot       timestamptz NOT NULL,
  last_slot        timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone, metric, production_type, counterpart_zone, qualifier)
);
CREATE INDEX grid_series_metric ON grid_series (metric, zone);
