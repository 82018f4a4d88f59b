/**
 * The windows one process has marked pending in transactions that committed, so that it does not mark them again
 * with every batch (the meter days of 10⁵ meters are touched by every batch of a day).
 *
 * Sound only under the job's watermark lock (see `lockJobWatermark` in src/storage): a window is emitted, and its
 * pending mark removed, only by a transaction holding that lock once the watermark reached the window's end, and
 * the watermark never moves back. So while the holder of the lock reads a watermark below a window's end, a mark
 * this process committed for it is still there. Windows the watermark has passed are always marked again (they
 * are late: a restatement).
 */
export class PendingMarks {
  readonly #max: number;
  /** Window id → its end (UTC epoch ms). */
  readonly #marks = new Map<string, number>();

  /** @param max ids held at most: past it, the passed ones are dropped, and all of them if that is not enough */
  constructor(max = 1_000_000) {
    this.#max = max;
  }

  /** Whether `id`, ending at `endMs`, is certainly pending, the watermark (read under the lock) being `watermarkMs`. */
  has(id: string, endMs: number, watermarkMs: number | undefined): boolean {
    return (watermarkMs === undefined || endMs > watermarkMs) && this.#marks.get(id) === endMs;
  }

  /** Records marks of a transaction that committed. */
  add(marks: Iterable<{ readonly id: string; readonly endMs: number }>, watermarkMs: number | undefined): void {
    for (const m of marks) this.#marks.set(m.id, m.endMs);
    if (this.#marks.size <= this.#max) return;
    if (watermarkMs !== undefined) for (const [id, end] of this.#marks) if (end <= watermarkMs) this.#marks.delete(id);
    if (this.#marks.size > this.#max) this.#marks.clear();
  }

  /** Forgets everything (after a failed transaction nothing is lost: a window not remembered is marked again). */
  clear(): void {
    this.#marks.clear();
  }

  get size(): number {
    return this.#marks.size;
  }
}
