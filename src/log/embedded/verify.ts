import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LogError, ioError, throwLogErrorIfAborted } from '../errors.ts';
import { hasErrno } from './fs-util.ts';
import { listQuarantine } from './quarantine.ts';
import type { QuarantineReport } from './quarantine.ts';
import { FrameCursor, describeFrameProblem, findNextFrame, isCompleteFrame, loadHoles } from './segment-scan.ts';

/** One problem `verifyLogDir` found. */
export interface VerifyProblem {
  readonly topic: string;
  readonly partition: number;
  readonly segment: string;
  /** `corruption`: a bad frame not yet quarantined; `torn-tail`: an incomplete last frame of the active segment. */
  readonly kind: 'corruption' | 'torn-tail';
  readonly byteStart: number;
  readonly byteEnd: number;
  /** The last valid offset before the damage (`null` at the start of the segment). */
  readonly afterOffset: number | null;
  readonly reason: string;
}

/** What `gridstream log verify` reports. */
export interface VerifyReport {
  readonly topics: number;
  readonly partitions: number;
  readonly segments: number;
  readonly records: number;
  readonly bytes: number;
  /** Bytes skipped because they are already in the quarantine. */
  readonly quarantinedBytes: number;
  readonly problems: readonly VerifyProblem[];
  /** Quarantine reports of corruption that no operator has acknowledged. */
  readonly pending: readonly QuarantineReport[];
}

/**
 * Checks every segment of the embedded log in `logDir` without opening the log (no lock: it may run beside the
 * process that owns it, and changes nothing): every frame's length, magic byte and CRC, offsets increasing within a
 * segment and across segments. Ranges already quarantined are skipped. The last frame of a partition's active
 * segment may be an append in progress, so an incomplete frame there is reported as a torn tail, not as corruption.
 */
export async function verifyLogDir(
  logDir: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<VerifyReport> {
  const topicsDir = join(logDir, 'topics');
  const problems: VerifyProblem[] = [];
  let topics = 0;
  let partitions = 0;
  let segments = 0;
  let records = 0;
  let bytes = 0;
  let quarantinedBytes = 0;
  for (const topic of (await list(topicsDir)).sort()) {
    const names = await list(join(topicsDir, topic));
    if (!names.includes('topic.json')) continue;
    topics++;
    for (const p of names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
      partitions++;
      const dir = join(topicsDir, topic, p);
      const files = (await list(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort();
      let last = -1;
      for (const [i, name] of files.entries()) {
        segments++;
        const base = Number(name.slice(0, 20));
        const where = { topic, partition: Number(p), segment: name };
        if (base <= last) {
          problems.push({
            ...where,
            kind: 'corruption',
            byteStart: 0,
            byteEnd: 0,
            afterOffset: last,
            reason: `segment base offset ${base} is not above the previous segment's last offset ${last}`,
          });
        }
        last = Math.max(last, base - 1);
        throwLogErrorIfAborted(options.signal, 'verify');
        const result = await verifySegment(join(dir, name), last, i === files.length - 1, options.signal);
        records += result.records;
        bytes += result.bytes;
        quarantinedBytes += result.quarantinedBytes;
        last = result.last;
        for (const problem of result.problems) problems.push({ ...where, ...problem });
      }
    }
  }
  const pending = (await listQuarantine(logDir)).filter((r) => r.kind === 'corruption' && r.acknowledgedAt === null);
  return { topics, partitions, segments, records, bytes, quarantinedBytes, problems, pending };
}

async function verifySegment(
  path: string,
  after: number,
  active: boolean,
  signal: AbortSignal | undefined,
): Promise<{
  records: number;
  bytes: number;
  quarantinedBytes: number;
  last: number;
  problems: Omit<VerifyProblem, 'topic' | 'partition' | 'segment'>[];
}> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw ioError(`could not open ${path}`, error);
  }
  try {
    const holes = await loadHoles(path);
    const size = (await handle.stat()).size;
    const cursor = new FrameCursor(handle);
    const problems: Omit<VerifyProblem, 'topic' | 'partition' | 'segment'>[] = [];
    let records = 0;
    let quarantinedBytes = 0;
    let last = after;
    let pos = 0;
    while (pos < size) {
      const hole = holes.find((h) => h.start <= pos && pos < h.end);
      if (hole !== undefined) {
        quarantinedBytes += hole.end - pos;
        pos = hole.end;
        continue;
      }
      const limit = Math.min(size, holes.find((h) => h.start > pos)?.start ?? size);
      const { check } = cursor.peek(pos, limit, true) ?? (await cursor.inspect(pos, limit, true));
      if (check.kind === 'frame' && check.offset > last) {
        if (++records % 65_536 === 0) throwLogErrorIfAborted(signal, 'verify');
        last = check.offset;
        pos += check.size;
        continue;
      }
      const found = await findNextFrame(handle, pos + 1, limit, last);
      const end = found?.pos ?? limit;
      const torn = active && found === undefined && limit === size && !isCompleteFrame(check);
      problems.push({
        kind: torn ? 'torn-tail' : 'corruption',
        byteStart: pos,
        byteEnd: end,
        afterOffset: last < 0 ? null : last,
        reason: describeFrameProblem(check, last),
      });
      pos = end;
    }
    return { records, bytes: size, quarantinedBytes, last, problems };
  } catch (error) {
    throw error instanceof LogError ? error : ioError(`could not verify ${path}`, error);
  } finally {
    await handle.close();
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (hasErrno(error, 'ENOENT') || hasErrno(error, 'ENOTDIR')) return [];
    throw ioError(`could not list ${dir}`, error);
  }
}
