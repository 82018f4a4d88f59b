export {
  loadConfig,
  configSecrets,
  CONFIG_VARIABLES,
  LOG_LEVELS,
  type Config,
  type Env,
  type LogLevel,
} from './config.ts';
export { ConfigError, CONFIG_ERROR_CODES, type ConfigErrorCode } from './errors.ts';
export { Secret } from './secret.ts';
