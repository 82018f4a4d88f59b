-- The offline replay (no ENTSOE_TOKEN) publishes the bundled ENTSO-E documents to raw.entsoe. Once a document is in
-- the log its values are stored, so publishing it again only grows the log (about 1.3 MB per pass over the bundle,
-- all topics together) without changing a row. The replay records here what it has published, by content hash, so
-- that a restart skips it too; a new or edited file has a new hash and is published.
CREATE TABLE replayed_documents (
  content_hash text        PRIMARY KEY CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  file_name    text        NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);
