/** Where the dashboard keeps the API key: localStorage, filled from the sign-in form or a `#key=` link. */

const STORAGE_KEY = 'gridstream.apiKey';

export function storedKey(): string | null {
  try {
    const key = window.localStorage.getItem(STORAGE_KEY);
    return key === null || key.trim() === '' ? null : key;
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, key);
  } catch {
    // storage disabled (private mode): the key lives for this page only
  }
}

export function forgetKey(): void {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/**
 * Takes a key from the address (`/#key=<key>`, as printed at start-up), and removes it from the address bar and
 * the history entry so that it is not bookmarked, shared or shown.
 */
export function takeKeyFromFragment(): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith('#')) return null;
  const params = new URLSearchParams(hash.slice(1));
  const key = params.get('key');
  if (key === null) return null;
  params.delete('key');
  const rest = params.toString();
  window.history.replaceState(
    window.history.state,
    '',
    `${window.location.pathname}${window.location.search}${rest === '' ? '' : `#${rest}`}`,
  );
  return key.trim() === '' ? null : key.trim();
}
