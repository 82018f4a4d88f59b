/**
 * Start-up wiring: opens the infrastructure (log, database, reference data), builds the components of the roles a
 * process runs on it, and supervises them on the one lifecycle. Role logic lives in its own module (processing,
 * storage, scheduler, ingest, api); this module only puts it together.
 */
export { startRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';
export { openInfrastructure, type Infrastructure } from './infrastructure.ts';
export { Supervisor } from './supervisor.ts';
export { ROLES, ROLE_DESCRIPTIONS, parseRoles, type Role } from './roles.ts';
export { RuntimeError, RUNTIME_ERROR_CODES, type RuntimeErrorCode } from './errors.ts';
export { apiComponent, CONSUMER_GROUPS, DASHBOARD_DIR } from './api-component.ts';
export { buildSchedulerRole } from './scheduler-component.ts';
export { topicPublisher, deadLetterSink } from './publishers.ts';
export { openBackfillRuntime, type BackfillRuntime, type BackfillRuntimeFactory } from './backfill-runtime.ts';
export { metricsMonitor } from './metrics-monitor.ts';
export { metricsServer } from './metrics-server.ts';
export {
  controlServer,
  controlSocketPath,
  clientEnv,
  forwardedEnv,
  instanceMismatch,
  CONTROL_PROTOCOL_VERSION,
  ControlRequestSchema,
  ControlFrameSchema,
  type ControlRequest,
  type ControlFrame,
  type ControlHandler,
} from './control-socket.ts';
export { simulatedFleet, fleetRegistryRow } from './simulated-fleet.ts';
