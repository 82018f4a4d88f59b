-- A counter that every statement changing the meter registry moves, in the same transaction: a process that
-- caches registry rows (the meters role looks up every meter of every batch) reloads them once it has moved.
-- Being transactional, the counter never shows a change before the rows it stands for can be read.
CREATE TABLE meter_registry_version (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint  NOT NULL
);
INSERT INTO meter_registry_version (only_row, version) VALUES (true, 0);

CREATE FUNCTION gridstream_meters_bump_version() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE meter_registry_version SET version = version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER meters_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meters
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_meters_bump_version();
