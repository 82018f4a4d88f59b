import { Secret } from '../config/index.ts';

/**
 * Secret values shorter than this are not searched for in free text: replacing every "abc" would also erase
 * unrelated words and, worse, tell a reader where the secret was. URL passwords of any length are still caught by
 * their position in the URL ({@link redactUrl}).
 */
export const MIN_SCRUBBED_LENGTH = 4;

const CREDENTIAL_PARAMS = /([?&](?:securityToken|token|api_?key|auth-token|access_token)=)[^&#\s"'<>]*/gi;
// scheme://user:password@ — the user is kept (it says which account), the password goes, whatever its length.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#@]+@/gi;

/**
 * Replaces credentials in URLs, wherever they are in the text: the values of credential query parameters
 * (`?securityToken=abc` → `?securityToken=[redacted]`) and passwords in the user info
 * (`postgres://gs:pw@db/x` → `postgres://gs:[redacted]@db/x`).
 */
export function redactUrl(url: string | URL): string {
  const text = typeof url === 'string' ? url : url.href;
  return text.replace(CREDENTIAL_PARAMS, '$1[redacted]').replace(URL_PASSWORD, '$1[redacted]@');
}

/**
 * A function that replaces every given secret value in a text with `[redacted]`, longest first (a URL before the
 * password inside it). Values shorter than {@link MIN_SCRUBBED_LENGTH} are left to the pattern-based redaction.
 */
export function secretScrubber(secrets: readonly (Secret | string | null | undefined)[]): (text: string) => string {
  const values = [
    ...new Set(
      secrets.map((s) => (s instanceof Secret ? s.reveal() : (s ?? ''))).filter((s) => s.length >= MIN_SCRUBBED_LENGTH),
    ),
  ].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.replaceAll(v, '[redacted]');
    return out;
  };
}
