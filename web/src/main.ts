import { AdminPage } from './admin/admin-page.ts';
import { OpenAlertCount } from './alert-count.ts';
import { AlertsPage } from './alerts-page.ts';
import type { ApiProblem } from './api-client.ts';
import { ApiClient } from './api-client.ts';
import { field, record, str } from './decode.ts';
import { h, replace } from './dom.ts';
import { forgetKey, storeKey, storedKey, takeKeyFromFragment } from './key-store.ts';
import { LiveHub } from './live-hub.ts';
import { MapPage } from './map-page.ts';
import { GroupPage, MeterPage } from './meter-pages.ts';
import { MetersPage } from './meters-page.ts';
import type { Page, PageContext, Role } from './page-context.ts';
import { anonymousReadAllowed, signInView } from './sign-in.ts';
import { ZonePage } from './zone-page.ts';

/**
 * The dashboard's entry: takes the key (sign-in form, or a `#key=` link, also pasted into an open tab), or goes on
 * without one where the server lets anyone read, then runs the pages — the zone page at `/`, the meter pages under
 * `/meters` and `/groups`, the map at `/map`, the alerts at `/alerts`, and the operator pages under `/admin` — with one live stream shared by all, and client-side navigation.
 */
class App {
  readonly #root: HTMLElement;
  readonly #live = new LiveHub();
  readonly #alertCount = new OpenAlertCount(this.#live);
  readonly #main: HTMLElement;
  readonly #nav: HTMLElement;
  readonly #notices: HTMLElement;
  readonly #adminLink: HTMLElement;
  #client: ApiClient | undefined;
  #page: { path: string; page: Page } | undefined;
  #role: Promise<Role> | undefined;

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#main = h('main', { attrs: { id: 'main', tabindex: -1 } });
    this.#notices = h('div', { class: 'notices', attrs: { 'aria-live': 'polite' } });
    this.#adminLink = h('li', { attrs: { hidden: true } }, [
      h('a', { attrs: { href: '/admin', 'data-nav': true }, text: 'Operations' }),
    ]);
    this.#nav = h('nav', { class: 'nav', attrs: { 'aria-label': 'Main' } }, [
      h('ul', {}, [
        h('li', {}, [h('a', { attrs: { href: '/', 'data-nav': true }, text: 'Dashboard' })]),
        h('li', {}, [h('a', { attrs: { href: '/map', 'data-nav': true }, text: 'Map' })]),
        h('li', {}, [h('a', { attrs: { href: '/meters', 'data-nav': true }, text: 'Meters' })]),
        h('li', {}, [h('a', { attrs: { href: '/alerts', 'data-nav': true } }, ['Alerts', this.#alertCount.el])]),
        this.#adminLink,
      ]),
    ]);
    document.addEventListener('click', (event) => {
      this.#onClick(event);
    });
    window.addEventListener('popstate', () => {
      this.#route();
    });
    // Pasting the printed `/#key=…` link into a tab already at `/` changes only the fragment: no reload.
    window.addEventListener('hashchange', () => {
      const key = takeKeyFromFragment();
      if (key === null) return;
      storeKey(key);
      if (this.#client?.key !== key) this.#signedIn(key);
    });
  }

  start(): void {
    const fromLink = takeKeyFromFragment();
    if (fromLink !== null) storeKey(fromLink);
    const key = storedKey();
    if (key === null) void this.#withoutKey({ form: false });
    else this.#signedIn(key);
  }

  /**
   * No key: straight in as an anonymous reader where the server allows it, else the sign-in form. `form` shows the
   * form in any case (after signing out, or a refused key: `reason`), with a way on without a key where allowed.
   */
  async #withoutKey(options: { readonly form: boolean; readonly reason?: string }): Promise<void> {
    this.#leave();
    const anonymous = await anonymousReadAllowed();
    // A key may have come meanwhile (a pasted link).
    if (this.#client !== undefined) return;
    if (anonymous && !options.form) this.#signedIn(null);
    else this.#showSignIn(options.reason, anonymous);
  }

  /** Stops the page and the stream of the current key (or of the anonymous reader). */
  #leave(): void {
    this.#page?.page.destroy();
    this.#page = undefined;
    this.#live.stop();
    this.#alertCount.stop();
    this.#client = undefined;
    this.#role = undefined;
    delete document.documentElement.dataset['role'];
  }

  #showSignIn(reason: string | undefined, anonymous: boolean): void {
    this.#leave();
    document.title = 'Sign in · gridstream';
    replace(this.#root, [
      h('header', { class: 'topbar' }, [brand()]),
      h('main', { attrs: { id: 'main' } }, [
        signInView({
          ...(reason === undefined ? {} : { reason }),
          makeClient: (key) => new ApiClient(key),
          onSignedIn: (key) => {
            storeKey(key);
            this.#signedIn(key);
          },
          ...(anonymous
            ? {
                onAnonymous: () => {
                  this.#signedIn(null);
                },
              }
            : {}),
        }),
      ]),
    ]);
  }

  #signOut(reason?: string): void {
    forgetKey();
    void this.#withoutKey({ form: true, ...(reason === undefined ? {} : { reason }) });
  }

  /** Runs the pages with `key`, or anonymously (`null`: a server with public read). */
  #signedIn(key: string | null): void {
    this.#leave();
    const onUnauthorized = (problem: ApiProblem): void => {
      if (this.#client?.key !== key) return;
      this.#signOut(key === null ? `A key is needed: ${problem.detail}` : `The key was refused: ${problem.detail}`);
    };
    this.#client = new ApiClient(key, {
      onUnauthorized,
      onRateLimited: (problem, seconds) => {
        this.#notify(`Rate limited (${problem.detail}); retrying in ${seconds} s.`, 'error');
      },
    });
    this.#adminLink.hidden = true;
    replace(this.#root, [
      h('a', { class: 'skip-link', attrs: { href: '#main' }, text: 'Skip to content' }),
      h('header', { class: 'topbar' }, [
        brand(),
        this.#nav,
        h('div', { class: 'topbar-end' }, [
          this.#live.badge,
          h('button', {
            class: 'button button-secondary button-small',
            attrs: { type: 'button' },
            text: key === null ? 'Sign in' : 'Sign out',
            on: {
              click: () => {
                if (key === null) this.#showSignIn(undefined, true);
                else this.#signOut();
              },
            },
          }),
        ]),
      ]),
      this.#notices,
      this.#main,
    ]);
    this.#live.start(key, onUnauthorized);
    this.#alertCount.start(this.#client);
    this.#route();
    this.#showIngestionMode();
    // Probe the role once the first screen has had its requests.
    setTimeout(() => {
      this.#probeRole().then(
        (role) => {
          this.#adminLink.hidden = role === 'reader';
          document.documentElement.dataset['role'] = role;
        },
        () => undefined,
      );
    }, 1500);
  }

  #context(): PageContext {
    const client = this.#client;
    if (client === undefined) throw new Error('not signed in');
    return {
      client,
      live: this.#live,
      role: () => this.#probeRole(),
      notify: (message, kind) => {
        this.#notify(message, kind);
      },
      navigate: (path) => {
        this.#navigate(path);
      },
      alertsChanged: () => {
        this.#alertCount.refresh();
      },
    };
  }

  /** The key's role, as the API states it (`GET /api/v1/me`). */
  #probeRole(): Promise<Role> {
    const client = this.#client;
    if (client === undefined) return Promise.reject(new Error('not signed in'));
    this.#role ??= client.get('/api/v1/me', {}, (value, at) => {
      const role = field(record(value, at), 'role', str, at);
      if (role !== 'reader' && role !== 'operator' && role !== 'admin')
        throw new Error(`${at}.role: unknown role ${role}`);
      return role;
    });
    const probe = this.#role;
    probe.catch(() => {
      if (this.#role === probe) this.#role = undefined;
    });
    return probe;
  }

  /** Says plainly, for as long as it lasts, that the data is an offline replay of bundled documents. */
  #showIngestionMode(): void {
    const client = this.#client;
    if (client === undefined) return;
    client
      .get('/api/v1/status', {}, (value, at) => field(record(value, at), 'ingestion', str, at))
      .then(
        (mode) => {
          document.documentElement.dataset['ingestion'] = mode;
          if (mode !== 'offline-replay') return;
          this.#live.markReplay();
          this.#notices.before(
            h('div', { class: 'notice notice-info replay-banner', attrs: { role: 'status' } }, [
              h('span', {
                text: 'Offline replay: no ENTSO-E token is configured, so gridstream replays the real ENTSO-E documents bundled with it. Values and timestamps are those of the documents (2016–2026), not live data.',
              }),
            ]),
          );
        },
        () => undefined,
      );
  }

  #route(): void {
    if (this.#client === undefined) return;
    const path = window.location.pathname.replace(/\/+$/, '') || '/';
    const params = new URLSearchParams(window.location.search);
    const current = this.#page;
    if (current !== undefined && current.path === path && current.page.applyParams !== undefined) {
      current.page.applyParams(params);
      return;
    }
    const focus = current !== undefined;
    current?.page.destroy();
    const ctx = this.#context();
    let page: Page;
    if (path === '/' || path === '/index.html') page = new ZonePage(ctx, params);
    else if (path === '/admin' || path.startsWith('/admin/')) page = new AdminPage(ctx, path, params);
    else if (path === '/map') page = new MapPage(ctx, params);
    else if (path === '/meters') page = new MetersPage(ctx, params);
    else if (path === '/alerts') page = new AlertsPage(ctx, params);
    else if (path.startsWith('/meters/')) page = new MeterPage(ctx, path, params);
    else if (path.startsWith('/groups/')) page = new GroupPage(ctx, path, params);
    else page = notFound(path);
    this.#page = { path, page };
    replace(this.#main, [page.el]);
    for (const a of this.#nav.querySelectorAll('a')) {
      const href = a.getAttribute('href') ?? '';
      // A group's page belongs to the meters.
      const active =
        href === '/' ? path === '/' : path.startsWith(href) || (href === '/meters' && path.startsWith('/groups/'));
      if (active) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (focus) this.#main.focus({ preventScroll: false });
  }

  #navigate(path: string): void {
    if (`${window.location.pathname}${window.location.search}` !== path) window.history.pushState(null, '', path);
    this.#route();
  }

  #onClick(event: MouseEvent): void {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const target = event.target instanceof Element ? event.target.closest('a[data-nav]') : null;
    if (!(target instanceof HTMLAnchorElement)) return;
    const url = new URL(target.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    this.#navigate(`${url.pathname}${url.search}`);
  }

  #notify(message: string, kind: 'info' | 'error' = 'info'): void {
    const note = h('div', { class: `notice notice-${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' } }, [
      h('span', { text: message }),
      h('button', {
        class: 'notice-close',
        attrs: { type: 'button', 'aria-label': 'Dismiss' },
        text: '×',
        on: {
          click: () => {
            note.remove();
          },
        },
      }),
    ]);
    this.#notices.append(note);
    while (this.#notices.childElementCount > 3) this.#notices.firstElementChild?.remove();
    setTimeout(() => {
      note.remove();
    }, 8000);
  }
}

function brand(): HTMLElement {
  return h('a', { class: 'brand', attrs: { href: '/', 'data-nav': true, 'aria-label': 'gridstream home' } }, [
    h('span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' }, text: '⚡' }),
    'gridstream',
  ]);
}

function notFound(path: string): Page {
  return {
    el: h('div', { class: 'not-found' }, [
      h('h1', { text: 'Page not found' }),
      h('p', {}, [
        `There is no page at ${path}. `,
        h('a', { attrs: { href: '/', 'data-nav': true }, text: 'Go to the dashboard' }),
      ]),
    ]),
    destroy: () => undefined,
  };
}

const root = document.getElementById('app');
if (root !== null) new App(root).start();
