import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeadLetter, RawEntsoeDocument } from '../../../src/contracts/index.ts';
import { MemoryPublisher } from '../../../src/contracts/index.ts';
import { entsoeRequest, parseEntsoeDocument } from '../../../src/connectors/entsoe/index.ts';
import { observationsFromEntsoe } from '../../../src/processing/index.ts';
import { loadReference } from '../../../src/reference/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger, fakeEntsoeIngestor } from '../../helpers/fake-entsoe.ts';
import { entsoeFixtureText } from '../../helpers/fixtures.ts';

const reference = loadReference();

/** The real FI generation document as an upstream that echoes the request would send it: token in mRID and text. */
const ECHOING_DOCUMENT = entsoeFixtureText('A75_FI_PT60M_A01_2023-05-08.xml')
  .replace(/<mRID>[^<]+<\/mRID>/, `<mRID>${TEST_TOKEN}</mRID>`)
  .replace('<type>A75</type>', `<!-- request: securityToken=${TEST_TOKEN}&documentType=A75 --><type>A75</type>`);
/** The real "bad request" acknowledgement, its reason quoting the token. */
const ECHOING_ACK = entsoeFixtureText('ACK_999_bad-request_2023-08-08.xml').replace(
  'Bad request message from API',
  `Bad request message from API: securityToken ${TEST_TOKEN} is not allowed this query`,
);

describe('a token the upstream echoes in its answer is never stored', () => {
  let fake: FakeEntsoe;
  const capture = captureLogger();
  before(async () => {
    fake = await FakeEntsoe.start({ respond: () => ECHOING_DOCUMENT });
  });
  after(() => fake.close());

  const ingestor = (raw: MemoryPublisher<RawEntsoeDocument>, dlq: MemoryPublisher<DeadLetter>) =>
    fakeEntsoeIngestor(fake.url, capture.logger, raw, dlq);
  const request = () =>
    entsoeRequest(
      'A75',
      'FI',
      { start: Date.parse('2023-05-07T22:00Z'), end: Date.parse('2023-05-08T22:00Z') },
      reference,
    );

  it('data documents: not in the raw record, its id, the document id of the observations, the logs', async (t) => {
    const raw = new MemoryPublisher<RawEntsoeDocument>();
    const dlq = new MemoryPublisher<DeadLetter>();
    const report = await ingestor(raw, dlq).ingest(request());
    assert.equal(report.documents, 1);
    const stored = JSON.stringify(raw.values);
    t.diagnostic(`occurrences of the token in raw.entsoe: ${stored.split(TEST_TOKEN).length - 1}`);
    assert.ok(stored.includes('[redacted]'), 'the echo is replaced');
    assert.equal(stored.split(TEST_TOKEN).length - 1, 0, 'occurrences of the token in raw.entsoe');
    const doc = raw.values[0]!;
    const result = observationsFromEntsoe(parseEntsoeDocument(doc.body), {
      reference,
      fallbackDocumentId: doc.fileName ?? doc.id,
    });
    assert.ok(result.chunks.length > 0);
    for (const c of result.chunks) assert.ok(!c.documentId.includes(TEST_TOKEN), c.documentId);
    assert.ok(!capture.lines.join('\n').includes(TEST_TOKEN));
  });

  it('acknowledgements that quote the token: not in the dead letter, the error or the logs', async (t) => {
    fake.fail({ status: 400, body: ECHOING_ACK, contentType: 'text/xml' }, { times: 10 });
    const raw = new MemoryPublisher<RawEntsoeDocument>();
    const dlq = new MemoryPublisher<DeadLetter>();
    const report = await ingestor(raw, dlq).ingest(request());
    fake.heal();
    assert.equal(report.deadLetters.length, 1);
    const letters = JSON.stringify(dlq.values);
    t.diagnostic(`occurrences of the token in dlq-ingestion: ${letters.split(TEST_TOKEN).length - 1}`);
    t.diagnostic(`occurrences in the logs: ${capture.lines.join('\n').split(TEST_TOKEN).length - 1}`);
    assert.match(letters, /Bad request message from API/);
    assert.equal(letters.split(TEST_TOKEN).length - 1, 0, 'occurrences of the token in dlq-ingestion');
    assert.ok(!capture.lines.join('\n').includes(TEST_TOKEN));
  });
});
