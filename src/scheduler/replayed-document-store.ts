import type { StoreCallOptions } from '../common/index.ts';

/** A bundled document the offline replay has published to `raw.entsoe`. */
export interface ReplayedDocument {
  /** SHA-256 of the file's bytes, lowercase hex: an edited file is a new document. */
  readonly contentHash: string;
  readonly fileName: string;
}

/**
 * What the offline replay has published, by content hash, so that a pass over the bundle publishes only what the
 * log has not seen: in-process ({@link MemoryReplayedDocumentStore}, tests) or the `replayed_documents` table
 * (`SqlReplayedDocumentStore`), which keeps it across restarts.
 */
export interface ReplayedDocumentStore {
  /** The hashes among `contentHashes` that are recorded as published. */
  published(contentHashes: readonly string[], options?: StoreCallOptions): Promise<ReadonlySet<string>>;
  /** Records a document as published (again: the file name and time are updated). */
  record(document: ReplayedDocument, options?: StoreCallOptions): Promise<void>;
}

/** The in-process {@link ReplayedDocumentStore}: forgets everything when the process ends. */
export class MemoryReplayedDocumentStore implements ReplayedDocumentStore {
  readonly #documents = new Map<string, string>();

  published(contentHashes: readonly string[]): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(contentHashes.filter((h) => this.#documents.has(h))));
  }

  record(document: ReplayedDocument): Promise<void> {
    this.#documents.set(document.contentHash, document.fileName);
    return Promise.resolve();
  }

  /** Recorded documents (tests). */
  get size(): number {
    return this.#documents.size;
  }
}
