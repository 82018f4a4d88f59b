import type { ApiClient } from './api-client.ts';
import type { LiveHub } from './live-hub.ts';

/** What the key may do, found by probing the admin endpoints (the API has no "who am I"). */
export const ROLES = ['reader', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What every page gets from the app shell. */
export interface PageContext {
  readonly client: ApiClient;
  readonly live: LiveHub;
  /** The key's role, once probed. */
  readonly role: () => Promise<Role>;
  /** A message in the notice area (`error` is announced assertively). */
  readonly notify: (message: string, kind?: 'info' | 'error') => void;
  /** Client-side navigation to a dashboard path. */
  readonly navigate: (path: string) => void;
  /** The page changed an alert: the navigation's count of open alerts is refreshed. */
  readonly alertsChanged?: () => void;
}

/** A page the router shows; `applyParams` follows back/forward within the same page. */
export interface Page {
  readonly el: HTMLElement;
  destroy(): void;
  applyParams?(params: URLSearchParams): void;
}
