-- Shares (renewable_share, fossil_free_share) are fractions 0–1 with unit 'fraction', no longer percent ('%'),
-- like every share the API answers. Stored values, their revisions and the rollups are converted in place; the
-- conversion is a change of unit, not a correction, so the revision trigger does not record it. '%' stays allowed
-- (older log records still carry it; the store converts them before writing).
ALTER TABLE grid_observations DROP CONSTRAINT grid_observations_unit_check;
ALTER TABLE grid_observations ADD CONSTRAINT grid_observations_unit_check CHECK (unit IN ('MW', 'MWh', 'EUR/MWh',
  'GBP/MWh', 'CHF/MWh', 'PLN/MWh', 'CZK/MWh', 'HUF/MWh', 'RON/MWh', 'BGN/MWh', 'DKK/MWh', 'SEK/MWh', 'NOK/MWh',
  'gCO2eq/kWh', 'fraction', '%'));

ALTER TABLE grid_observations DISABLE TRIGGER grid_observations_revisions;
UPDATE grid_observations SET value = value / 100, unit = 'fraction' WHERE unit = '%';
ALTER TABLE grid_observations ENABLE TRIGGER grid_observations_revisions;

UPDATE grid_observation_revisions SET old_value = old_value / 100, old_unit = 'fraction' WHERE old_unit = '%';
UPDATE grid_observation_revisions SET new_value = new_value / 100, new_unit = 'fraction' WHERE new_unit = '%';
UPDATE grid_series SET unit = 'fraction' WHERE unit = '%';
UPDATE grid_rollup_hourly SET value_sum = value_sum / 100, unit = 'fraction' WHERE unit = '%';
UPDATE grid_rollup_daily SET value_sum = value_sum / 100, unit = 'fraction' WHERE unit = '%';
