-- The latest time the source issued (or re-issued unchanged) each value: the ENTSO-E document's createdDateTime, else
-- when it was fetched. Revisions
-- used to be ordered only within one document (its revision number), so replaying an old document after a newer
-- one (a dead letter, a rewound consumer) put the old value back. The upsert now refuses to replace a value with
-- one issued earlier; NULL (unknown, and derived series such as carbon intensity) never blocks an update and never
-- erases a known issue time.
-- Nullable without a default: adding it rewrites nothing, and rows without one cost nothing on disk.
ALTER TABLE grid_observations ADD COLUMN issued_at timestamptz;
ALTER TABLE grid_observation_revisions ADD COLUMN old_issued_at timestamptz;
ALTER TABLE grid_observation_revisions ADD COLUMN issued_at timestamptz;

CREATE OR REPLACE FUNCTION grid_observations_keep_revisions() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off AS $$
BEGIN
  INSERT INTO grid_observation_revisions (zone, metric, production_type, counterpart_zone, qualifier, slot_start,
    old_value, old_unit, old_source, old_document_id, old_revision, old_flags, old_since, old_issued_at, new_value,
    new_unit, changed_at, document_id, revision, issued_at)
  SELECT o.zone, o.metric, o.production_type, o.counterpart_zone, o.qualifier, o.slot_start,
    o.value, o.unit, o.source, o.document_id, o.revision, o.flags, o.last_updated, o.issued_at, n.value, n.unit,
    n.last_updated, n.document_id, n.revision, n.issued_at
  FROM old_rows o
  JOIN new_rows n USING (zone, metric, production_type, counterpart_zone, qualifier, slot_start)
  WHERE o.value IS DISTINCT FROM n.value OR o.unit IS DISTINCT FROM n.unit;
  RETURN NULL;
END
$$;
