import { h } from '../dom.ts';
import type { Page, PageContext, Role } from '../page-context.ts';
import type { AdminView } from './admin-view.ts';
import { connectorsView } from './connectors-view.ts';
import { dlqView } from './dlq-view.ts';
import { keysView } from './keys-view.ts';
import { lagView } from './lag-view.ts';

interface Tab {
  readonly path: string;
  readonly label: string;
  readonly role: Exclude<Role, 'reader'>;
  readonly view: (ctx: PageContext, params: URLSearchParams) => AdminView;
}

const TABS: readonly Tab[] = [
  { path: '/admin', label: 'Connectors & jobs', role: 'operator', view: connectorsView },
  { path: '/admin/dlq', label: 'Dead letters', role: 'operator', view: dlqView },
  { path: '/admin/lag', label: 'Consumer lag', role: 'operator', view: lagView },
  { path: '/admin/keys', label: 'API keys', role: 'admin', view: keysView },
];

/** The operator/admin pages under `/admin`, as tabs; a reader key gets an explanation instead. */
export class AdminPage implements Page {
  readonly el: HTMLElement;
  #view: AdminView | undefined;
  #destroyed = false;

  constructor(ctx: PageContext, path: string, params: URLSearchParams) {
    const tab = TABS.find((t) => t.path === path) ?? TABS[0];
    const content = h('div', { class: 'admin-content', attrs: { id: 'admin-content' } }, [
      h('p', { class: 'placeholder', text: 'Loading…' }),
    ]);
    const tabs = h('nav', { class: 'tabs', attrs: { 'aria-label': 'Admin sections' } }, [
      h(
        'ul',
        {},
        TABS.map((t) =>
          h('li', { data: { role: t.role } }, [
            h('a', {
              attrs: { href: t.path, 'data-nav': true, 'aria-current': t === tab ? 'page' : null },
              text: t.label,
            }),
          ]),
        ),
      ),
    ]);
    this.el = h('div', { class: 'admin-page', data: { adminTab: tab?.path ?? '' } }, [
      h('h1', { text: `Operations · ${tab?.label ?? ''}` }),
      tabs,
      content,
    ]);
    document.title = `${tab?.label ?? 'Admin'} · gridstream`;
    ctx.role().then(
      (role) => {
        if (this.#destroyed || tab === undefined) return;
        for (const li of tabs.querySelectorAll<HTMLElement>('li[data-role="admin"]')) li.hidden = role !== 'admin';
        if (role === 'reader' || (tab.role === 'admin' && role !== 'admin')) {
          content.replaceChildren(
            h('div', { class: 'error-box', attrs: { role: 'alert' } }, [
              `This page needs the ${tab.role} role; this key has the ${role} role. `,
              h('a', { attrs: { href: '/', 'data-nav': true }, text: 'Back to the dashboard' }),
            ]),
          );
          return;
        }
        this.#view = tab.view(ctx, params);
        content.replaceChildren(this.#view.el);
      },
      () => {
        if (this.#destroyed || tab === undefined) return;
        // The role could not be probed (network): try the view, which shows its own errors.
        this.#view = tab.view(ctx, params);
        content.replaceChildren(this.#view.el);
      },
    );
  }

  destroy(): void {
    this.#destroyed = true;
    this.#view?.destroy();
  }
}
