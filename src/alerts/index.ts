/**
 * Alerts: detectors on meters and grid signals, the expected-publication model, the alert lifecycle and its
 * outbox to the `alerts` topic, signed webhooks, and the `alerts` role.
 */
export { type Signal, type Timing, type RunState, type OpenAlert, alertKey, advance } from './lifecycle.ts';
export {
  type AlertRules,
  type DetectorSettings,
  type PublicationOverride,
  AlertRulesError,
  DEFAULT_ALERT_RULES,
  alertRulesOf,
  loadAlertRules,
  deliveryLatencyOf,
} from './settings.ts';
export {
  type AlertScope,
  type AlertFilter,
  alertOfRow,
  applySignals,
  listAlerts,
  countAlerts,
  getAlert,
  operatorTransition,
  openAlertCounts,
  eventsAfter,
  lastEventId,
  reasonOf,
} from './alert-store.ts';
export { type JudgedMeter, type StoredInterval, type MeterWindowInput, meterWindowSignals } from './meter-detectors.ts';
export {
  type SlotValue,
  type SeriesSubject,
  median,
  robustCentre,
  forecastSignals,
  priceSignals,
  carbonSignals,
} from './grid-detectors.ts';
export {
  type PublicationExpectation,
  expectedBy,
  learnPublication,
  idleSignals,
  usualDelay,
  withLastSlots,
} from './publication-model.ts';
export { type AlertsRoleDeps, alertsRole } from './alerts-role.ts';
export { WebhookError, WEBHOOK_ERROR_CODES, type WebhookErrorCode } from './webhook-errors.ts';
export {
  signWebhook,
  verifyWebhook,
  originOf,
  allowlistOrigin,
  WEBHOOK_HEADERS,
  type VerifyWebhookInput,
} from './webhook-sign.ts';
export {
  getWebhookAllowlist,
  setWebhookAllowlist,
  isOriginAllowed,
  createWebhookRule,
  listWebhookRules,
  deleteWebhookRule,
  queueWebhookDeliveries,
  listWebhookDeliveries,
  WebhookRuleInputSchema,
  DELIVERY_STATES,
  type WebhookAllowlistEntry,
  type WebhookRule,
  type WebhookRuleInput,
  type CreatedWebhookRule,
  type DeliveryState,
  type WebhookDelivery,
  type ListDeliveriesOptions,
} from './webhook-store.ts';
export { webhookSender, type WebhookSenderDeps } from './webhook-sender.ts';
