-- Quality flags are part of what a value says: Electricity Maps turning an estimated value into a measured one, or a
-- slot becoming complete, can leave the number as it was and change only its flags. Until now such a write was taken
-- for an identical replay and dropped, so a stored value kept saying "estimated" for good. The sink now updates the
-- row when its flags change, and the revision trigger keeps the previous flags (old_flags) like any other change.
-- (CREATE OR REPLACE needs the whole body; only the WHERE clause differs from 0005.)
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
  WHERE o.value IS DISTINCT FROM n.value OR o.unit IS DISTINCT FROM n.unit OR o.flags IS DISTINCT FROM n.flags;
  RETURN NULL;
END
$$;
