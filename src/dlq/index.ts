export {
  DLQ_TOPIC_NAMES,
  type DlqEntry,
  type DlqFilter,
  type DlqScanOptions,
  type Refetcher,
  type ReplayResult,
  parseFilter,
  matches,
  assertDlqTopic,
  listDeadLetters,
  pageDeadLetters,
  scanDeadLetters,
  summarizeDeadLetters,
  showDeadLetter,
  replayDeadLetters,
} from './dead-letter-ops.ts';
export { recordReplay, replayCounts } from './ledger.ts';
export { deadLetterZones } from './dead-letter-zones.ts';
