/** Seeded randomness for the bounded fuzz tests: a run is reproducible from its seed. */

export type Random = () => number;

/** `GRIDSTREAM_FUZZ_SEED` replays a failing run (or explores another); `fallback` otherwise. */
export function fuzzSeed(fallback: number): number {
  return Number(process.env['GRIDSTREAM_FUZZ_SEED'] ?? fallback);
}

/** `GRIDSTREAM_FUZZ_CASES` runs more (or fewer) cases; `fallback` otherwise. */
export function fuzzCases(fallback: number): number {
  return Number(process.env['GRIDSTREAM_FUZZ_CASES'] ?? fallback);
}

/** mulberry32: a small, fast, seeded PRNG giving numbers in [0, 1). */
export function prng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number in [0, n). */
export const int = (random: Random, n: number): number => Math.floor(random() * n);

/** One element of `list`, chosen by `random`. */
export const pick = <T>(random: Random, list: readonly T[]): T => list[int(random, list.length)] as T;
