import { inspect } from 'node:util';

/**
 * A value that must never be printed: API tokens, keys, passwords. `String(secret)`, `JSON.stringify(secret)` and
 * `console.log(secret)` all give `[redacted]`; only {@link Secret.reveal} gives the value, at the point of use.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
