-- Alerts: detectors on meters and grid signals (the `alerts` role), one row per alert with its lifecycle, the
-- detectors' per-subject run state (hysteresis and minimum duration in event time), an outbox of transitions
-- (produced to the `alerts` topic and matched against webhook rules), and signed webhook deliveries.

-- One alert: a key (detector + subject) has at most one alert that is not resolved. A signal that flaps within
-- the detector's hysteresis stays the same alert (`occurrences` counts the returns).
CREATE TABLE alerts (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 400),
  detector        text        NOT NULL CHECK (length(detector) BETWEEN 1 AND 60),
  subject         text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
  reason          text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 80),
  severity        text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  state           text        NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  zone            text,
  group_id        text,
  meter_id        text,
  message         text        NOT NULL,
  evidence        jsonb       NOT NULL,
  -- Event time: the start of the first and the end of the last window in which the signal was active.
  first_seen      timestamptz NOT NULL,
  last_seen       timestamptz NOT NULL,
  occurrences     integer     NOT NULL DEFAULT 1,
  opened_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at     timestamptz,
  -- `detector` (the signal cleared) or the name of the API key that resolved it.
  resolved_by     text
);
CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (key) WHERE state <> 'resolved';
CREATE INDEX alerts_state ON alerts (state, updated_at);
CREATE INDEX alerts_updated ON alerts (updated_at);
CREATE INDEX alerts_zone ON alerts (zone, updated_at);
CREATE INDEX alerts_group ON alerts (group_id, updated_at);

-- The run state of one key: when its current active run started (NULL: not active), when the signal last went
-- quiet after being active, the last window evaluated, and the evidence of the last active window. Rows of keys
-- that are quiet and have no unresolved alert are deleted, so the table holds only what is in play.
CREATE TABLE alert_signals (
  key          text        PRIMARY KEY,
  detector     text        NOT NULL,
  active_since timestamptz,
  active_until timestamptz,
  quiet_since  timestamptz,
  last_at      timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Transitions of alerts, in order: the outbox the role produces to the `alerts` topic (at least once, keyed by the
-- alert key, with the event id to deduplicate) and from which it queues webhook deliveries.
CREATE TABLE alert_events (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id   bigint      NOT NULL REFERENCES alerts (id),
  transition text        NOT NULL CHECK (transition IN ('opened', 'escalated', 'acknowledged', 'resolved')),
  at         timestamptz NOT NULL DEFAULT now(),
  payload    jsonb       NOT NULL,
  published  boolean     NOT NULL DEFAULT false
);
CREATE INDEX alert_events_unpublished ON alert_events (id) WHERE NOT published;
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- Where each detector has got to (event time or a processing-time cursor), one row per detector.
CREATE TABLE alert_cursors (
  detector   text        PRIMARY KEY,
  position   timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Grid slots the grid detectors have to look at: written by statement triggers on grid_observations in the
-- writer's transaction (as settlement_input_changes), taken by the alerts role.
CREATE TABLE alert_grid_changes (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone      text        NOT NULL,
  metric    text        NOT NULL,
  slot_from timestamptz NOT NULL,
  slot_to   timestamptz NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION gridstream_alert_grid_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO alert_grid_changes (zone, metric, slot_from, slot_to)
  SELECT n.zone, n.metric, min(n.slot_start), max(n.slot_start) + interval '15 minutes'
  FROM new_rows n
  WHERE n.metric IN ('generation_actual', 'generation_forecast', 'load_actual', 'load_forecast_day_ahead',
      'wind_solar_forecast_day_ahead', 'price_day_ahead', 'carbon_intensity_production',
      'carbon_intensity_consumption')
  GROUP BY n.zone, n.metric;
  RETURN NULL;
END
$$;
CREATE TRIGGER grid_observations_alerts_insert
  AFTER INSERT ON grid_observations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_alert_grid_changed();
CREATE TRIGGER grid_observations_alerts_update
  AFTER UPDATE ON grid_observations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gridstream_alert_grid_changed();

-- Webhooks. An admin keeps an allowlist of origins (`https://hooks.example.com:443`); a rule's URL must be on it
-- when the rule is made and again at every delivery, so nothing is ever sent to an arbitrary address.
CREATE TABLE webhook_allowlist (
  origin   text        PRIMARY KEY CHECK (length(origin) BETWEEN 1 AND 300),
  added_by text        NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);

-- A rule: which alert transitions go to which URL, signed with which shared secret (never returned by the API).
CREATE TABLE webhook_rules (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  url          text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  secret       text        NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
  min_severity text        NOT NULL DEFAULT 'warning' CHECK (min_severity IN ('info', 'warning', 'critical')),
  -- NULL: every detector, zone, group.
  detectors    text[],
  zones        text[],
  groups       text[],
  enabled      boolean     NOT NULL DEFAULT true,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- One delivery of one event to one rule: retried with backoff until delivered, dead after the last attempt.
CREATE TABLE webhook_deliveries (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id      bigint      NOT NULL REFERENCES webhook_rules (id) ON DELETE CASCADE,
  event_id     bigint      NOT NULL REFERENCES alert_events (id),
  state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts     integer     NOT NULL DEFAULT 0,
  next_at      timestamptz NOT NULL DEFAULT now(),
  last_status  integer,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (rule_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';

-- The validation-failure detector reads validated days by when they were computed.
CREATE INDEX meter_validated_computed ON meter_validated (computed_at);
