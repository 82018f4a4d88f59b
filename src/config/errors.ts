import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const CONFIG_ERROR_CODES = ['config.invalid'] as const satisfies readonly ErrorCode[];
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/** One or more environment variables have wrong values. The message names every variable, never a secret value. */
export class ConfigError extends GridstreamError<ConfigErrorCode> {
  readonly problems: readonly { readonly variable: string; readonly message: string }[];

  constructor(problems: readonly { variable: string; message: string }[]) {
    super(
      'config.invalid',
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
      {
        retryable: false,
        details: { variables: problems.map((p) => p.variable) },
      },
    );
    this.problems = problems;
  }
}
