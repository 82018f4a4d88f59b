/** One tab of the admin pages. */
export interface AdminView {
  readonly el: HTMLElement;
  destroy(): void;
}
