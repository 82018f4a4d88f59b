export { createEmbeddedLog, type EmbeddedLog, type EmbeddedLogOptions } from './embedded-log.ts';
export {
  listQuarantine,
  pendingCorruption,
  acknowledgeQuarantine,
  quarantineDir,
  type QuarantineReport,
} from './quarantine.ts';
export { verifyLogDir, type VerifyReport, type VerifyProblem } from './verify.ts';
