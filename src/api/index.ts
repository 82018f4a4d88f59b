export { ApiServer, type ApiServerOptions } from './api-server.ts';
export { createApiApp, API_ROUTES, type ApiAppDeps } from './app.ts';
export { defineRoute, handle, queryOf, type RouteContract, type RouteAccess } from './route.ts';
export { healthRoutes, processReadiness, pingReadiness, type ReadinessCheck } from './health.ts';
export { httpServer, PortInUseError, type HttpServer, type HttpServerOptions } from './http-server.ts';
export { ApiError, API_ERROR_CODES, type ApiErrorCode, problem } from './errors.ts';
export {
  ROLES as API_ROLES,
  type ApiRole,
  type ApiKeyRecord,
  type Principal,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  ensureAdminKey,
  KeyVerifier,
  roleAtLeast,
  ENV_ADMIN_KEY_ID,
  keyChannel,
  type EnsuredAdminKey,
} from './api-keys.ts';
export {
  Authenticator,
  AuthThrottle,
  presentedKey,
  clientAddress,
  resolveClientAddress,
  type AuthenticatorOptions,
  type AuthThrottleOptions,
} from './authenticate.ts';
export {
  type ItemScope,
  PLATFORM_WIDE,
  mayAccess,
  requireAccess,
  accessible,
  requireGrantable,
} from './access-scope.ts';
export { LiveFeed, type SlotEvent } from './live-feed.ts';
export { openApiDocument } from './openapi.ts';
export {
  searchWindows,
  savingOf,
  ceilToSlot,
  floorToSlot,
  type IntensitySlot,
  type WindowSearch,
  type ScoredWindow,
  type WindowSearchResult,
} from './best-window.ts';
export {
  type IntensityForecast,
  type ClockReading,
  type CarbonAwarePorts,
  MAX_WINDOW_ZONES,
  MAX_WINDOW_RANGE_DAYS,
  MAX_WINDOW_TOP,
} from './routes/carbon-aware.ts';
export { ConnectorsSchema, ClockSchema, type ConnectorLive } from './schemas.ts';
export { type Clock, type ClockMode, type DataClock, CLOCK_BASIS, liveClock, replayClock, clockBody } from './clock.ts';
export { dashboardFiles } from './dashboard-files.ts';
