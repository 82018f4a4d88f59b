import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * gridstream's Prometheus metrics behind a small interface: components record what happened; only this file knows
 * prom-client. One instance per process (`createMetrics()`), exposed on `/metrics` by the api role.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Records taken in by a stage from a topic (or a source such as `entsoe-api`). */
  recordsIn(stage: string, topic: string, count: number): void;
  recordsOut(stage: string, topic: string, count: number): void;
  recordsRejected(stage: string, topic: string, reason: string, count: number): void;
  batchSeconds(stage: string, seconds: number): void;
  retries(stage: string, code: string): void;
  /** Consumer lag (records behind the high watermark) per group, topic and partition. */
  consumerLag(group: string, topic: string, partition: number, lag: number): void;
  /** How far behind real time the newest slot of a zone is (event-time watermark delay), in seconds. */
  watermarkDelay(stage: string, zone: string, seconds: number): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  upstreamRequest(source: string, status: string): void;
  limiterWait(source: string, seconds: number): void;
  /** Observations written by the store: inserted, updated (a revision), unchanged. */
  observationsStored(outcome: 'inserted' | 'updated' | 'unchanged', count: number): void;
  /** A presented API key refused (unknown, wrong, revoked or malformed) on a server (`api`, `ingest`). */
  authFailure(server: string): void;
  /** A request refused with 429 because its client address failed authentication too often. */
  authThrottled(server: string): void;
  /** Damaged bytes of the embedded log moved to its quarantine: `corruption` or `torn-tail`. */
  logQuarantined(topic: string, kind: string): void;
  /** An event-time job's watermark lag: now minus its watermark, in seconds. */
  streamWatermarkLag(job: string, seconds: number): void;
  /** Input after its window was emitted: `restated` (within the allowed lateness or by policy), `dead-lettered`, `dropped`. */
  streamLate(job: string, outcome: 'restated' | 'dead-lettered' | 'dropped', count: number): void;
  /** Event times clamped to receipt plus the clock tolerance (a device clock ahead). */
  streamClamped(job: string, count: number): void;
  /** Window results emitted, per kind (`meter_day`, `group_day`, `group_month`) and outcome (`written`, `unchanged`, `restated`). */
  streamWindows(job: string, kind: string, outcome: 'written' | 'unchanged' | 'restated', count: number): void;
  /** Meter values stored: per what (`interval`, `register`, `device`) and outcome (`inserted`, `updated`, `unchanged`, `kept`). */
  meterValuesStored(what: string, outcome: string, count: number): void;
  /** Validation failures stored, per rule id (a failure counts once, when it first appears on an interval). */
  veeRuleFailures(rule: string, count: number): void;
  /** Validated values written (new or changed), per quality and method. */
  veeValues(quality: string, method: string, count: number): void;
  /** Settlement rows written (new or changed): `final`, `pending`, and of those `restated`. */
  settlementRows(status: string, count: number): void;
  /** Alerts not resolved, per detector, severity and state (`open`, `acknowledged`): replaces every earlier count. */
  alertsOpen(counts: readonly { detector: string; severity: string; state: string; count: number }[]): void;
  /** Alert transitions (`opened`, `escalated`, `acknowledged`, `resolved`), per detector. */
  alertTransitions(detector: string, transition: string, count: number): void;
  /** Webhook delivery attempts: `delivered`, `failed` (to be retried), `dead` (last attempt failed), `refused` (not on the allowlist). */
  webhookDeliveries(outcome: string, count: number): void;
  /** A write the log or the database refused because its disk is full (`log.disk_full`, `db.disk_full`). */
  diskFull(system: 'log' | 'db'): void;
}

export function createMetrics(options: { readonly defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'gridstream_process_' });
    // prom-client names these gauges like counters (`…_total`), which Prometheus's own linter rejects; the per-type
    // gauges without the suffix (`…_active_handles{type=…}`) carry the same information.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      registry.removeSingleMetric(`gridstream_process_${name}`);
    }
  }
  const recordsIn = new Counter({
    name: 'gridstream_records_in_total',
    help: 'Records taken in, per stage and topic',
    labelNames: ['stage', 'topic'],
    registers: [registry],
  });
  const recordsOut = new Counter({
    name: 'gridstream_records_out_total',
    help: 'Records produced, per stage and topic',
    labelNames: ['stage', 'topic'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'gridstream_records_rejected_total',
    help: 'Records dead-lettered, per stage, topic and reason',
    labelNames: ['stage', 'topic', 'reason'],
    registers: [registry],
  });
  const batch = new Histogram({
    name: 'gridstream_batch_duration_seconds',
    help: 'Time to handle one consumed batch, per stage',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'gridstream_retries_total',
    help: 'Batches retried after a retryable failure, per stage and error code',
    labelNames: ['stage', 'code'],
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'gridstream_consumer_lag',
    help: 'Records between the committed offset and the high watermark',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
  });
  const watermark = new Gauge({
    name: 'gridstream_watermark_delay_seconds',
    help: 'Now minus the end of the newest slot seen, per stage and zone',
    labelNames: ['stage', 'zone'],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'gridstream_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const upstream = new Counter({
    name: 'gridstream_upstream_requests_total',
    help: 'Requests to upstream services by source and status',
    labelNames: ['source', 'status'],
    registers: [registry],
  });
  const limiter = new Histogram({
    name: 'gridstream_limiter_wait_seconds',
    help: 'Time requests waited for the upstream rate limiter',
    labelNames: ['source'],
    buckets: [0, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 600],
    registers: [registry],
  });
  const stored = new Counter({
    name: 'gridstream_observations_stored_total',
    help: 'Observations written: inserted, updated (with a revision) or unchanged (exact duplicate)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'gridstream_auth_failures_total',
    help: 'Presented API keys refused (unknown, wrong, revoked or malformed), per server',
    labelNames: ['server'],
    registers: [registry],
  });
  const authThrottled = new Counter({
    name: 'gridstream_auth_throttled_total',
    help: 'Requests answered 429 because their address failed authentication too often, per server',
    labelNames: ['server'],
    registers: [registry],
  });
  const quarantined = new Counter({
    name: 'gridstream_log_quarantined_total',
    help: 'Ranges of damaged bytes the embedded log moved to its quarantine (corruption holds up readiness until acknowledged)',
    labelNames: ['topic', 'kind'],
    registers: [registry],
  });
  const streamLag = new Gauge({
    name: 'gridstream_stream_watermark_lag_seconds',
    help: "Now minus an event-time job's watermark, per job",
    labelNames: ['job'],
    registers: [registry],
  });
  const streamLate = new Counter({
    name: 'gridstream_stream_late_total',
    help: 'Input that arrived after its window was emitted, per job and outcome (restated, dead-lettered, dropped)',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const streamClamped = new Counter({
    name: 'gridstream_stream_clamped_total',
    help: 'Event times clamped to receipt plus the clock tolerance, per job',
    labelNames: ['job'],
    registers: [registry],
  });
  const streamWindows = new Counter({
    name: 'gridstream_stream_windows_total',
    help: 'Window results emitted, per job, kind and outcome (written, unchanged, restated)',
    labelNames: ['job', 'kind', 'outcome'],
    registers: [registry],
  });
  const veeFailures = new Counter({
    name: 'gridstream_vee_rule_failures_total',
    help: 'Validation rule failures stored on meter intervals, per rule id',
    labelNames: ['rule'],
    registers: [registry],
  });
  const veeValues = new Counter({
    name: 'gridstream_vee_values_total',
    help: 'Validated meter values written (new or changed), per quality and method',
    labelNames: ['quality', 'method'],
    registers: [registry],
  });
  const settlementRows = new Counter({
    name: 'gridstream_settlement_rows_total',
    help: 'Settlement rows written (new or changed): final, pending, and restated',
    labelNames: ['status'],
    registers: [registry],
  });
  const alertsOpen = new Gauge({
    name: 'gridstream_alerts_open',
    help: 'Alerts not resolved, per detector, severity and state (open, acknowledged)',
    labelNames: ['detector', 'severity', 'state'],
    registers: [registry],
  });
  const alertTransitions = new Counter({
    name: 'gridstream_alert_transitions_total',
    help: 'Alert transitions (opened, escalated, acknowledged, resolved), per detector',
    labelNames: ['detector', 'transition'],
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'gridstream_webhook_deliveries_total',
    help: 'Webhook delivery attempts, per outcome (delivered, failed, dead, refused)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const meterValues = new Counter({
    name: 'gridstream_meter_values_stored_total',
    help: 'Meter values stored, per what (interval, register, device) and outcome (inserted, updated, unchanged, kept)',
    labelNames: ['what', 'outcome'],
    registers: [registry],
  });
  const diskFull = new Counter({
    name: 'gridstream_disk_full_errors_total',
    help: 'Writes refused because the disk of the log or the database is full (retried until there is space), per system',
    labelNames: ['system'],
    registers: [registry],
  });
  return {
    registry,
    diskFull: (system) => {
      diskFull.inc({ system });
    },
    streamWatermarkLag: (job, seconds) => {
      streamLag.set({ job }, seconds);
    },
    streamLate: (job, outcome, count) => {
      streamLate.inc({ job, outcome }, count);
    },
    streamClamped: (job, count) => {
      streamClamped.inc({ job }, count);
    },
    streamWindows: (job, kind, outcome, count) => {
      streamWindows.inc({ job, kind, outcome }, count);
    },
    meterValuesStored: (what, outcome, count) => {
      meterValues.inc({ what, outcome }, count);
    },
    veeRuleFailures: (rule, count) => {
      veeFailures.inc({ rule }, count);
    },
    veeValues: (quality, method, count) => {
      veeValues.inc({ quality, method }, count);
    },
    alertsOpen: (counts) => {
      alertsOpen.reset();
      for (const c of counts) alertsOpen.set({ detector: c.detector, severity: c.severity, state: c.state }, c.count);
    },
    alertTransitions: (detector, transition, count) => {
      if (count > 0) alertTransitions.inc({ detector, transition }, count);
    },
    webhookDeliveries: (outcome, count) => {
      if (count > 0) webhookDeliveries.inc({ outcome }, count);
    },
    settlementRows: (status, count) => {
      if (count > 0) settlementRows.inc({ status }, count);
    },
    recordsIn: (stage, topic, count) => {
      recordsIn.inc({ stage, topic }, count);
    },
    recordsOut: (stage, topic, count) => {
      recordsOut.inc({ stage, topic }, count);
    },
    recordsRejected: (stage, topic, reason, count) => {
      rejected.inc({ stage, topic, reason }, count);
    },
    batchSeconds: (stage, seconds) => {
      batch.observe({ stage }, seconds);
    },
    retries: (stage, code) => {
      retries.inc({ stage, code });
    },
    consumerLag: (group, topic, partition, value) => {
      lag.set({ group, topic, partition: String(partition) }, value);
    },
    watermarkDelay: (stage, zone, seconds) => {
      watermark.set({ stage, zone }, seconds);
    },
    httpRequest: (method, route, status, seconds) => {
      http.observe({ method, route, status: String(status) }, seconds);
    },
    upstreamRequest: (source, status) => {
      upstream.inc({ source, status });
    },
    limiterWait: (source, seconds) => {
      limiter.observe({ source }, seconds);
    },
    observationsStored: (outcome, count) => {
      stored.inc({ outcome }, count);
    },
    authFailure: (server) => {
      authFailures.inc({ server });
    },
    authThrottled: (server) => {
      authThrottled.inc({ server });
    },
    logQuarantined: (topic, kind) => {
      quarantined.inc({ topic, kind });
    },
  };
}
