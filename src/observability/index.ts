export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.ts';
export { redactUrl, secretScrubber, MIN_SCRUBBED_LENGTH } from './redact.ts';
export { createMetrics, type Metrics } from './metrics.ts';
