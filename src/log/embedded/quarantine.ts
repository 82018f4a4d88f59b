import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LogError, ioError } from '../errors.ts';
import { hasErrno, syncDir, writeFileAtomic } from './fs-util.ts';

/**
 * Damaged bytes found in a segment, moved out of the readable log into `<log dir>/quarantine/`: `<id>.bin` holds
 * the bytes exactly as they were, `<id>.json` this report. `corruption` (a bad frame with valid frames after it,
 * or a complete frame failing its CRC) holds up readiness until an operator acknowledges it; `torn-tail` (an
 * incomplete last frame left by a crash, never acknowledged to a producer) is kept for inspection only.
 */
export const QuarantineReportSchema = z.object({
  id: z.string(),
  kind: z.enum(['corruption', 'torn-tail']),
  topic: z.string(),
  partition: z.number().int(),
  /** Segment file (name only) and the byte range of the damage in it. */
  segment: z.string(),
  byteStart: z.number().int(),
  byteEnd: z.number().int(),
  /** Offsets of the records lost with the damage, inclusive; `null` when none can be named. */
  offsetFrom: z.number().int().nullable(),
  offsetTo: z.number().int().nullable(),
  reason: z.string(),
  /** When found: at `open` of the log, or at `read` (CRC checked on every read). */
  foundAt: z.enum(['open', 'read']),
  detectedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
});
export type QuarantineReport = z.infer<typeof QuarantineReportSchema>;

/** The quarantine directory of an embedded log directory. */
export function quarantineDir(logDir: string): string {
  return join(logDir, 'quarantine');
}

/** A stable id: the same damage found twice (a crash before its repair was recorded) keeps one report. */
export function quarantineId(topic: string, partition: number, segment: string, byteStart: number): string {
  return `${topic}-${partition}-${segment.replace(/\.log$/, '')}-${byteStart}`;
}

/** Writes the damaged bytes, then the report (each atomically, fsynced). */
export async function writeQuarantine(logDir: string, report: QuarantineReport, bytes: Uint8Array): Promise<void> {
  const dir = quarantineDir(logDir);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw ioError(`could not create ${dir}`, error);
  });
  await syncDir(logDir).catch(() => undefined);
  await writeFileAtomic(join(dir, `${report.id}.bin`), bytes);
  await writeFileAtomic(join(dir, `${report.id}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

/** Every report in the quarantine of `logDir`, oldest first (none when there is no quarantine directory). */
export async function listQuarantine(logDir: string): Promise<QuarantineReport[]> {
  const dir = quarantineDir(logDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return [];
    throw ioError(`could not list ${dir}`, error);
  }
  const reports: QuarantineReport[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    try {
      reports.push(QuarantineReportSchema.parse(JSON.parse(await readFile(join(dir, name), 'utf8'))));
    } catch (error) {
      throw ioError(`could not read the quarantine report ${join(dir, name)}`, error);
    }
  }
  return reports.sort((a, b) => a.detectedAt.localeCompare(b.detectedAt) || a.id.localeCompare(b.id));
}

/** Reports of corruption no operator has acknowledged yet: while there are any, the process is not ready. */
export async function pendingCorruption(logDir: string): Promise<QuarantineReport[]> {
  return (await listQuarantine(logDir)).filter((r) => r.kind === 'corruption' && r.acknowledgedAt === null);
}

/**
 * Marks reports acknowledged (all pending ones when `ids` is empty); returns the ids acknowledged. Works on the
 * files alone, so it may run while a process holds the log: that process sees it at its next readiness check.
 */
export async function acknowledgeQuarantine(
  logDir: string,
  ids: readonly string[],
  now = new Date(),
): Promise<string[]> {
  const reports = await listQuarantine(logDir);
  const unknown = ids.filter((id) => !reports.some((r) => r.id === id));
  if (unknown.length > 0)
    throw new LogError('log.invalid_argument', `no quarantine report ${unknown.join(', ')}`, { details: { unknown } });
  const acknowledged: string[] = [];
  for (const r of reports) {
    if (r.acknowledgedAt !== null || (ids.length > 0 && !ids.includes(r.id))) continue;
    const updated: QuarantineReport = { ...r, acknowledgedAt: now.toISOString() };
    await writeFileAtomic(join(quarantineDir(logDir), `${r.id}.json`), `${JSON.stringify(updated, null, 2)}\n`);
    acknowledged.push(r.id);
  }
  return acknowledged;
}
