/**
 * Completeness that heals itself: gaps (ranges of expected slots missing) found against the alerts' expected-publication
 * model, their states in the database, and the gap healer that asks the source for exactly those ranges through a
 * port the runtime hands over (the scheduler's ENTSO-E ingestor), within a request budget.
 */
export {
  GAP_STATES,
  GAP_OUTCOMES,
  type GapState,
  type GapOutcome,
  type Gap,
  type GapSeries,
  type GapFilter,
  listGaps,
  gapSummary,
} from './gap-store.ts';
export {
  type Range,
  type Reconciliation,
  dueWindow,
  missingRanges,
  reconcile,
  subtract,
  stepOf,
} from './gap-detect.ts';
export { GAP_ITEMS, gapRequest, healable } from './gap-requests.ts';
export {
  gapHealer,
  expectedByRules,
  DEFAULT_GAP_HEALING,
  type GapHealer,
  type GapHealerOptions,
  type GapHealingSettings,
  type GapIngest,
  type GapPassReport,
} from './gap-healer.ts';
