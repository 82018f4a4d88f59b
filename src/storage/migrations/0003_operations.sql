-- Consumer offsets stored in the same transaction as a consumer's output (exactly-once topics): the next offset
-- to read per group, topic and partition (Kafka's convention: last processed + 1).
CREATE TABLE consumer_offsets (
  group_id    text        NOT NULL,
  topic       text        NOT NULL,
  partition   integer     NOT NULL CHECK (partition >= 0),
  next_offset bigint      NOT NULL CHECK (next_offset >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);

-- Dead letters archived for inspection and replay (the embedded archive and the admin UI's DLQ browser).
CREATE TABLE dead_letters (
  id               text        PRIMARY KEY,
  topic            text        NOT NULL,
  stage            text        NOT NULL CHECK (stage IN ('ingestion', 'processing', 'storage')),
  reason           text        NOT NULL,
  message          text        NOT NULL DEFAULT '',
  retryable        boolean     NOT NULL DEFAULT false,
  source_topic     text,
  source_partition integer,
  source_offset    bigint,
  attempts         integer     NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  payload          text        NOT NULL,
  payload_encoding text        NOT NULL CHECK (payload_encoding IN ('utf8', 'json', 'base64')),
  -- The whole envelope (contracts DeadLetter) as received, for replay.
  envelope         jsonb       NOT NULL,
  replays          integer     NOT NULL DEFAULT 0,
  replayed_at      timestamptz
);
CREATE INDEX dead_letters_browse ON dead_letters (topic, created_at DESC);
CREATE INDEX dead_letters_reason ON dead_letters (reason, created_at DESC);

-- Every scheduler job run: what it fetched, how it went, how long it took.
CREATE TABLE job_runs (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job          text        NOT NULL,
  window_start timestamptz,
  window_end   timestamptz,
  status       text        NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  documents    integer     NOT NULL DEFAULT 0,
  points       bigint      NOT NULL DEFAULT 0,
  errors       integer     NOT NULL DEFAULT 0,
  duration_ms  integer,
  error        text,
  details      jsonb
);
CREATE INDEX job_runs_recent ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_started ON job_runs (started_at DESC);

-- Leases for leader election: take or renew with
--   UPDATE leases SET holder = $1, expires_at = now() + $2 WHERE name = $3 AND (expires_at < now() OR holder = $1)
--   RETURNING …
-- after an INSERT … ON CONFLICT DO NOTHING that makes sure the row exists.
CREATE TABLE leases (
  name        text        PRIMARY KEY,
  holder      text        NOT NULL,
  expires_at  timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  renewed_at  timestamptz NOT NULL DEFAULT now()
);

-- Token buckets shared by every worker of a deployment (one per upstream token), and upstream bans.
CREATE TABLE rate_limit_buckets (
  key          text             PRIMARY KEY,
  tokens       double precision NOT NULL,
  capacity     double precision NOT NULL CHECK (capacity > 0),
  refill_per_s double precision NOT NULL CHECK (refill_per_s > 0),
  updated_at   timestamptz      NOT NULL DEFAULT now(),
  banned_until timestamptz
);

-- Backfill progress, one row per request-sized chunk (its id says document type, zone and period), so that an
-- interrupted backfill resumes without fetching finished chunks again.
CREATE TABLE backfill_chunks (
  chunk_id    text        PRIMARY KEY,
  backfill_id text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  points      bigint      NOT NULL DEFAULT 0,
  attempts    integer     NOT NULL DEFAULT 0,
  error       text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX backfill_chunks_progress ON backfill_chunks (backfill_id, status);

-- API keys, stored only as salted hashes. zones NULL means every zone.
CREATE TABLE api_keys (
  id                    text        PRIMARY KEY,
  name                  text        NOT NULL,
  role                  text        NOT NULL CHECK (role IN ('reader', 'operator', 'admin')),
  zones                 text[],
  salt                  text        NOT NULL,
  hash                  text        NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  revoked_at            timestamptz,
  rate_limit_per_minute integer     CHECK (rate_limit_per_minute > 0),
  request_count         bigint      NOT NULL DEFAULT 0,
  last_used_at          timestamptz
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
