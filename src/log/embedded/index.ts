export { createEmbeddedLog, type EmbeddedLog, type EmbeddedLogOptions } from './embedded-log.ts';
