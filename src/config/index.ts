export {
  loadConfig,
  CONFIG_VARIABLES,
  LOG_LEVELS,
  LOG_FORMATS,
  VARIABLES,
  SECRET_FILE_VARIABLES,
  configTableMarkdown,
  type LogFormat,
  type Config,
  type Env,
  type LogLevel,
} from './config.ts';
export { configSecrets } from './config-secrets.ts';
export { ConfigError, CONFIG_ERROR_CODES, type ConfigErrorCode } from './errors.ts';
export { Secret } from './secret.ts';
export { type MeterSettings, type UnknownMeterPolicy, type LateDataPolicy } from './meter-variables.ts';
export {
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  type TransportSettings,
} from './transport-variables.ts';
export { type AlertSettings } from './alert-variables.ts';
export { type GapSettings } from './gap-variables.ts';
export { type Variable } from './variable.ts';
