-- Self-healing completeness: gaps (ranges of expected slots missing) found against the expected-publication model,
-- each with its state — pending (found, not asked for yet), backfilling (asked for, waiting for its data or its next
-- try), filled, source_has_none (asked for `tries` times and never published) — and the targeted requests made for
-- them, which also count against the hourly request budget. Written by the scheduler's gap healer, read by the API.
CREATE TABLE IF NOT EXISTS completeness_gaps (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source          text        NOT NULL CHECK (length(source) BETWEEN 1 AND 40),
  metric          text        NOT NULL CHECK (length(metric) BETWEEN 1 AND 60),
  zone            text        NOT NULL CHECK (length(zone) BETWEEN 1 AND 40),
  resolution      text        NOT NULL CHECK (resolution IN ('PT15M', 'PT60M')),
  gap_start       timestamptz NOT NULL,
  gap_end         timestamptz NOT NULL CHECK (gap_end > gap_start),
  state           text        NOT NULL CHECK (state IN ('pending', 'backfilling', 'filled', 'source_has_none')),
  -- Requests the source answered (with data or "no matching data") while the gap stayed open.
  tries           integer     NOT NULL DEFAULT 0,
  -- Requests that failed (HTTP errors, bans, timeouts): retried with backoff, never counted as "source has none".
  failures        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_attempt_at timestamptz,
  last_outcome    text,
  detected_at     timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  closed_at       timestamptz
);
CREATE INDEX IF NOT EXISTS completeness_gaps_series ON completeness_gaps (source, metric, zone, gap_start);
CREATE INDEX IF NOT EXISTS completeness_gaps_due ON completeness_gaps (next_attempt_at) WHERE state IN ('pending', 'backfilling');
CREATE INDEX IF NOT EXISTS completeness_gaps_zone ON completeness_gaps (zone, gap_start);

CREATE TABLE IF NOT EXISTS completeness_gap_requests (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  gap_id       bigint      NOT NULL,
  requested_at timestamptz NOT NULL,
  range_start  timestamptz NOT NULL,
  range_end    timestamptz NOT NULL,
  outcome      text        NOT NULL CHECK (outcome IN ('data', 'no-data', 'failed')),
  points       integer     NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS completeness_gap_requests_at ON completeness_gap_requests (requested_at);
