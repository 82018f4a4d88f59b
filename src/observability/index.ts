export { createLogger, silentLogger, redactUrl, type Logger, type LoggerOptions } from './logger.ts';
