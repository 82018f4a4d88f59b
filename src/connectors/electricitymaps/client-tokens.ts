import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { Secret } from '../../config/index.ts';
import { ElectricityMapsError } from './client-errors.ts';

/**
 * The tokens file (`ELECTRICITYMAPS_TOKENS_FILE`): a JSON object mapping Electricity Maps zone keys to tokens,
 * with `"*"` as the token for every other zone. Free tokens cover one zone each, so a deployment following four
 * zones on free plans needs four tokens:
 *
 *   { "DE": "token-for-germany", "FR": "token-for-france", "*": "commercial-token-for-the-rest" }
 */
const TokensFileSchema = z.record(
  z.string().regex(/^(\*|[A-Z]{2}(-[A-Z0-9-]+)?)$/, 'expected a zone key such as DE or IT-NO, or *'),
  z.string().min(8, 'expected a token of at least 8 characters').regex(/^\S+$/, 'must not contain spaces'),
);

/** Which token to use for which zone: one per zone, a default, or both. */
export class ElectricityMapsTokens {
  readonly #byZone: ReadonlyMap<string, Secret>;
  readonly #fallback: Secret | null;

  constructor(byZone: ReadonlyMap<string, Secret>, fallback: Secret | null) {
    this.#byZone = byZone;
    this.#fallback = fallback;
  }

  /** One token for every zone (`ELECTRICITYMAPS_TOKEN`). */
  static single(token: Secret | null): ElectricityMapsTokens {
    return new ElectricityMapsTokens(new Map(), token);
  }

  /**
   * Reads a tokens file's JSON. A single `ELECTRICITYMAPS_TOKEN` (`fallback`) serves zones the file does not name
   * unless the file has its own `"*"`. Error messages name entries, never their values.
   * @throws ElectricityMapsError `invalid_tokens`
   */
  static parse(json: unknown, fallback: Secret | null = null): ElectricityMapsTokens {
    const result = TokensFileSchema.safeParse(json);
    if (!result.success) {
      const where = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ElectricityMapsError(
        'electricitymaps.invalid_tokens',
        `invalid Electricity Maps tokens file: ${where}`,
      );
    }
    const byZone = new Map<string, Secret>();
    let star: Secret | null = null;
    for (const [zone, token] of Object.entries(result.data)) {
      if (zone === '*') star = new Secret(token);
      else byZone.set(zone, new Secret(token));
    }
    return new ElectricityMapsTokens(byZone, star ?? fallback);
  }

  /** Reads and parses a tokens file. @throws ElectricityMapsError `invalid_tokens` */
  static async fromFile(path: string, fallback: Secret | null = null): Promise<ElectricityMapsTokens> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A JSON syntax error message quotes the file's text, which holds tokens: never pass it on.
      throw new ElectricityMapsError(
        'electricitymaps.invalid_tokens',
        `cannot read the Electricity Maps tokens file ${path}: ${code ?? 'not valid JSON'}`,
      );
    }
    return ElectricityMapsTokens.parse(json, fallback);
  }

  /** The token for `zone`, or `null` when none is configured. */
  tokenFor(zone: string): Secret | null {
    return this.#byZone.get(zone) ?? this.#fallback;
  }

  /** Every configured token value (for scrubbing). */
  all(): Secret[] {
    return [...this.#byZone.values(), ...(this.#fallback === null ? [] : [this.#fallback])];
  }
}
