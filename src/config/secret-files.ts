import { readFileSync } from 'node:fs';
import type { Variable } from './variable.ts';

/** Reads a whole file as UTF-8 text (the loader's only file access; tests may pass their own). */
export type ReadTextFile = (path: string) => string;

export const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8');

/** The name of the variable that gives `name`'s value through a file: `DATABASE_URL` → `DATABASE_URL_FILE`. */
export const fileVariableOf = (name: string): string => `${name}_FILE`;

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/**
 * Container platforms mount secrets as files: for every secret variable `NAME`, `NAME_FILE` may name a file whose
 * content (one trailing newline dropped) is the value. Returns the environment with those values filled in, and a
 * problem for each secret given both ways or whose file cannot be read or is empty. Problems name variables and paths, never a
 * value.
 */
export function withSecretFiles(
  env: Readonly<Record<string, string | undefined>>,
  secrets: readonly Variable<unknown>[],
  readFile: ReadTextFile,
): { env: Record<string, string | undefined>; problems: { variable: string; message: string }[] } {
  const out: Record<string, string | undefined> = { ...env };
  const problems: { variable: string; message: string }[] = [];
  for (const v of secrets) {
    const fileVariable = fileVariableOf(v.name);
    const path = env[fileVariable];
    if (!given(path)) continue;
    if (given(env[v.name])) {
      problems.push({
        variable: fileVariable,
        message: `${v.name} and ${fileVariable} are both set; give the secret one way only`,
      });
      continue;
    }
    try {
      const value = readFile(path.trim()).replace(/\r?\n$/, '');
      // An empty mount must not read as "unset": DATABASE_URL would fall back to the embedded database and an
      // empty admin key would revoke the configured one.
      if (value.trim() === '')
        problems.push({ variable: fileVariable, message: `${JSON.stringify(path.trim())} is empty` });
      else out[v.name] = value;
    } catch (error) {
      const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error';
      problems.push({ variable: fileVariable, message: `cannot read ${JSON.stringify(path.trim())} (${code})` });
    }
  }
  return { env: out, problems };
}
