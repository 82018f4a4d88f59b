import type { ReadinessCheck } from '../api/index.ts';
import { errorCode } from '../common/index.ts';
import type { QuarantineReport } from '../log/index.ts';
import type { Infrastructure } from './infrastructure.ts';

/**
 * Readiness that also holds while the embedded log has quarantined corruption no operator has acknowledged
 * (`GRIDSTREAM_LOG_ON_CORRUPTION=halt-readiness`, the default): `/readyz` answers 503 with `checks.log` naming the
 * code and the partitions, e.g. `corrupt (log.quarantine_pending): raw.meters/2`. With `continue` the corruption is
 * only logged and counted (`gridstream_log_quarantined_total`).
 */
export function withLogIntegrity(
  check: ReadinessCheck,
  infra: Pick<Infrastructure, 'config' | 'pendingLogCorruption'>,
): ReadinessCheck {
  if (infra.config.logOnCorruption === 'continue') return check;
  return async (options) => {
    const [report, pending] = await Promise.all([
      check(options),
      infra.pendingLogCorruption().catch((error: unknown) => error),
    ]);
    if (!Array.isArray(pending)) {
      return { ...report, ready: false, checks: { ...report.checks, log: `unreachable (${errorCode(pending)})` } };
    }
    if (pending.length === 0) return report;
    const where = [...new Set((pending as QuarantineReport[]).map((p) => `${p.topic}/${p.partition}`))]
      .sort()
      .join(', ');
    return {
      ...report,
      ready: false,
      checks: { ...report.checks, log: `corrupt (log.quarantine_pending): ${where}` },
    };
  };
}
