/**
 * Alerts: detectors on meters and grid signals, the expected-publication model, the alert lifecycle and its
 * outbox to the `alerts` topic, signed webhooks, and the `alerts` role.
 */
export { type Signal, type Timing, type RunState, type OpenAlert, alertKey, advance } from './lifecycle.ts';
