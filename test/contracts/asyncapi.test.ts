import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { ALL_TOPICS, asyncApiDocument } from '../../src/contracts/index.ts';

describe('AsyncAPI document', () => {
  it('is valid AsyncAPI 3 according to the official parser, with a channel per topic', async () => {
    const doc = asyncApiDocument(ALL_TOPICS, '0.1.0');
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    // Severity 0 is Error in @stoplight/types; the parser re-exports a different copy of that enum than the one
    // typing `severity`, so no enum member compares cleanly.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(
      errors.map((e) => `${e.code}: ${e.message} at ${e.path.join('.')}`),
      [],
    );
    assert.ok(document);
    const addresses = document
      .channels()
      .all()
      .map((c) => c.address());
    assert.deepEqual(addresses.sort(), ALL_TOPICS.map((t) => t.name).sort());
  });
  it('describes each topic with its schema, partitions and dead-letter routing', () => {
    const doc = asyncApiDocument(ALL_TOPICS, '0.1.0') as {
      channels: Record<string, { description: string; bindings: { kafka: { partitions: number } } }>;
    };
    assert.equal(doc.channels['gridObservations']?.bindings.kafka.partitions, 6);
    assert.match(doc.channels['rawEntsoe']?.description ?? '', /dlq-ingestion/);
    assert.match(doc.channels['rawMeters']?.description ?? '', /exactly once/);
  });
});
