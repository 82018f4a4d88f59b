-- The meter registry: one row per meter and validity. A meter exchange closes one row (valid_to) and opens the
-- next (valid_from); NULL bounds are open (since ever / until further notice). Validities of one meter_id never
-- overlap: the trigger below serialises writers of a meter id with a transaction-scoped advisory lock and refuses
-- an overlapping row with SQLSTATE 23P01 (exclusion_violation), on PostgreSQL and PGlite alike (an exclusion
-- constraint on text would need btree_gist, which PGlite does not load by default).
CREATE TABLE meters (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  meter_id               text    NOT NULL CHECK (length(meter_id) BETWEEN 1 AND 100),
  zone                   text    NOT NULL CHECK (length(zone) BETWEEN 1 AND 40),
  -- Feeder, substation or portfolio: the unit of access control and of aggregation.
  group_id               text    NOT NULL CHECK (length(group_id) BETWEEN 1 AND 100),
  time_zone              text    NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
  register_type          text    NOT NULL CHECK (register_type IN ('import', 'export', 'net')),
  interval               text    NOT NULL DEFAULT 'PT15M' CHECK (interval IN ('PT5M', 'PT15M', 'PT30M', 'PT60M')),
  annual_consumption_kwh numeric NOT NULL CHECK (annual_consumption_kwh >= 0),
  profile                text    NOT NULL
    CHECK (profile IN ('H0', 'G0', 'G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'L0', 'L1', 'L2')),
  lat                    double precision CHECK (lat BETWEEN -90 AND 90),
  lon                    double precision CHECK (lon BETWEEN -180 AND 180),
  valid_from             timestamptz,
  valid_to               timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from),
  CHECK ((lat IS NULL) = (lon IS NULL))
);
-- A row is identified by (meter_id, valid_from); NULLS NOT DISTINCT makes "since ever" unique too.
CREATE UNIQUE INDEX meters_validity ON meters (meter_id, valid_from) NULLS NOT DISTINCT;
CREATE INDEX meters_group ON meters (group_id, meter_id);
CREATE INDEX meters_zone ON meters (zone, meter_id);

CREATE FUNCTION gridstream_meters_no_overlap() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('gridstream.meter:' || current_schema() || '.' || NEW.meter_id));
  IF EXISTS (
    SELECT 1 FROM meters m
    WHERE m.meter_id = NEW.meter_id
      AND m.id <> NEW.id
      AND tstzrange(m.valid_from, m.valid_to, '[)') && tstzrange(NEW.valid_from, NEW.valid_to, '[)')
  ) THEN
    RAISE EXCEPTION 'validity of meter % overlaps another of its validities', NEW.meter_id
      USING ERRCODE = '23P01';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER meters_no_overlap BEFORE INSERT OR UPDATE OF meter_id, valid_from, valid_to ON meters
  FOR EACH ROW EXECUTE FUNCTION gridstream_meters_no_overlap();
