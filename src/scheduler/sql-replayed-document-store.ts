import type { SqlClient, StoreCallOptions } from '../common/index.ts';
import { sqlOptions } from '../common/index.ts';
import type { ReplayedDocument, ReplayedDocumentStore } from './replayed-document-store.ts';

/*
 * Table (storage migration 0007_replayed_documents.sql):
 *   replayed_documents (content_hash text PK, file_name text, published_at timestamptz)
 */

const PUBLISHED = 'SELECT content_hash FROM replayed_documents WHERE content_hash = ANY($1::text[])';

const RECORD = `INSERT INTO replayed_documents (content_hash, file_name, published_at)
VALUES ($1, $2, clock_timestamp())
ON CONFLICT (content_hash) DO UPDATE SET file_name = EXCLUDED.file_name, published_at = EXCLUDED.published_at`;

/** The PostgreSQL {@link ReplayedDocumentStore} on the `replayed_documents` table (PGlite in embedded mode). */
export class SqlReplayedDocumentStore implements ReplayedDocumentStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async published(contentHashes: readonly string[], options: StoreCallOptions = {}): Promise<ReadonlySet<string>> {
    if (contentHashes.length === 0) return new Set();
    const result = await this.#db.query<{ content_hash: string }>(
      PUBLISHED,
      [contentHashes],
      sqlOptions(options.signal),
    );
    return new Set(result.rows.map((r) => r.content_hash));
  }

  async record(document: ReplayedDocument, options: StoreCallOptions = {}): Promise<void> {
    await this.#db.query(RECORD, [document.contentHash, document.fileName], sqlOptions(options.signal));
  }
}
