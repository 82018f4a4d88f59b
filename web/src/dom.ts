/** A tiny element builder: text always goes through textContent (no HTML from data, ever). */

export type Child = Node | string | number | null | undefined | false;

type Handlers = { readonly [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };

export interface Props {
  readonly class?: string;
  readonly text?: string;
  /** Attributes; `true` sets an empty attribute, `false`/null/undefined leaves it out. */
  readonly attrs?: Readonly<Record<string, string | number | boolean | null | undefined>>;
  readonly data?: Readonly<Record<string, string | number>>;
  readonly on?: Handlers;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class !== undefined) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const [name, value] of Object.entries(props.data ?? {})) el.dataset[name] = String(value);
  if (props.on !== undefined) {
    for (const [type, handler] of Object.entries(props.on) as [string, EventListener | undefined][]) {
      if (handler !== undefined) el.addEventListener(type, handler);
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Element, children: readonly Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let ids = 0;
/** A unique element id (labels, aria-describedby). */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A table from headers and rows of cells. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly Child[])[]): HTMLElement {
  return h('div', { class: 'table-wrap' }, [
    h('table', {}, [
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, [
        h(
          'tr',
          {},
          headers.map((t) => h('th', { text: t, attrs: { scope: 'col' } })),
        ),
      ]),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((c) => h('td', {}, [c])),
          ),
        ),
      ),
    ]),
  ]);
}
