import { z } from 'zod';

/**
 * One declaration per environment variable: its name, how its text is read, its default, and what it means. The
 * loader reads exactly these, `gridstream --help` lists them, and a test checks the README's table against them.
 */
export interface Variable<T> {
  readonly name: string;
  /** Reads the (trimmed, non-empty) text. */
  readonly schema: z.ZodType<T>;
  /** The value when the variable is unset or empty. */
  readonly fallback: T;
  /** The default as documented (`8080`, `embedded PGlite`, `generated`). */
  readonly shown: string;
  readonly description: string;
  /** Never echoed, not even in an error about its own value. */
  readonly secret?: boolean;
}

export const variable = <T>(spec: Variable<T>): Variable<T> => spec;

/** Whole milliseconds (a duration setting). */
export const milliseconds = z.coerce.number({ message: 'expected milliseconds' }).int('expected whole milliseconds');
