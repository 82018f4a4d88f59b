/**
 * Validation, estimation and editing (VEE) of meter intervals: the rules and their settings per load profile class
 * or group, the pure validation and estimation of a meter day, the `quality` role and its SQL, operators' edits.
 */
export {
  RULE_IDS,
  type RuleId,
  RULE_ACTIONS,
  type RuleAction,
  VeeSettingsSchema,
  type VeeSettings,
  DEFAULT_VEE_SETTINGS,
  VeeRuleFileSchema,
  type VeeRuleFile,
  VeeRules,
} from './rules.ts';
export { loadVeeRules } from './rule-file.ts';
export {
  VEE_QUALITIES,
  type VeeQuality,
  VEE_METHODS,
  type VeeMethod,
  ESTIMATE_SCALE,
  validateDay,
  estimateDay,
  historyNeeded,
  profileEnergy,
  type VeeDayInput,
  type VeeSlotResult,
  type SlotValidation,
  type RuleFailure,
  type MeasuredValue,
  type VeeEdit,
  type RegisterSpan,
} from './vee.ts';
export { qualityRole, type QualityRoleDeps } from './quality-role.ts';
export { insertEdit, writeValidated, loadDayInputs, type ValidatedRow } from './quality-store.ts';
export { QualityError, QUALITY_ERROR_CODES, type QualityErrorCode } from './errors.ts';
