export {
  DLQ_TOPIC_NAMES,
  type DlqEntry,
  type DlqFilter,
  type Refetcher,
  type ReplayResult,
  parseFilter,
  matches,
  assertDlqTopic,
  listDeadLetters,
  summarizeDeadLetters,
  showDeadLetter,
  replayDeadLetters,
} from './dead-letter-ops.ts';
export { recordReplay, replayCounts } from './ledger.ts';
