import { describeError, isAbort } from '../api-client.ts';
import type { ApiKey } from '../api-types.ts';
import { decodeApiKeys, decodeCreatedKey } from '../api-types.ts';
import { h, replace, table, uid } from '../dom.ts';
import { formatInstant, formatNumber } from '../format.ts';
import type { PageContext } from '../page-context.ts';
import { ROLES } from '../page-context.ts';
import type { AdminView } from './admin-view.ts';
import { emptyNote, section, statusBadge } from './cells.ts';

const ZONE = /^[A-Z][A-Z0-9_]{0,39}$/;

/** API keys: list with usage, create (the secret is shown once), revoke. */
export function keysView(ctx: PageContext): AdminView {
  const listHost = h('div', { class: 'admin-block', data: { view: 'keys', state: 'loading' } });
  const createdHost = h('div', { attrs: { 'aria-live': 'polite' } });
  const controller = new AbortController();

  const nameId = uid('key-name');
  const roleId = uid('key-role');
  const zonesId = uid('key-zones');
  const zonesHelpId = uid('key-zones-help');
  const rateId = uid('key-rate');
  const errorId = uid('key-error');
  const nameInput = h('input', {
    attrs: { id: nameId, name: 'name', required: true, maxlength: 200, autocomplete: 'off' },
  });
  const roleSelect = h(
    'select',
    { attrs: { id: roleId, name: 'role' } },
    ROLES.map((r) => h('option', { attrs: { value: r, selected: r === 'reader' }, text: r })),
  );
  const zonesInput = h('input', {
    attrs: {
      id: zonesId,
      name: 'zones',
      placeholder: 'all zones',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': zonesHelpId,
    },
  });
  const rateInput = h('input', {
    attrs: { id: rateId, name: 'rate', type: 'number', min: 1, max: 1000000, step: 1, placeholder: 'server default' },
  });
  const formError = h('p', { class: 'form-error', attrs: { id: errorId, role: 'alert' } });
  const submit = h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Create key' });

  const load = async (): Promise<void> => {
    try {
      const keys = await ctx.client.get('/api/v1/admin/keys', {}, decodeApiKeys, controller.signal);
      listHost.dataset['state'] = 'ready';
      listHost.dataset['keys'] = String(keys.length);
      renderList(keys);
    } catch (error) {
      if (isAbort(error)) return;
      listHost.dataset['state'] = 'error';
      replace(listHost, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
    }
  };

  const revoke = async (key: ApiKey): Promise<void> => {
    if (
      !window.confirm(
        `Revoke the key "${key.name}" (${key.id})? Clients using it are refused from now on. If it is the key you are signed in with, you will be signed out.`,
      )
    )
      return;
    try {
      await ctx.client.request('DELETE', `/api/v1/admin/keys/${encodeURIComponent(key.id)}`, { decode: () => null });
      ctx.notify(`Key "${key.name}" (${key.id}) revoked.`);
      await load();
    } catch (error) {
      ctx.notify(`Could not revoke ${key.id}: ${describeError(error)}`, 'error');
    }
  };

  const renderList = (keys: readonly ApiKey[]): void => {
    replace(listHost, [
      keys.length === 0
        ? emptyNote('No keys.')
        : table(
            'API keys',
            ['Id', 'Name', 'Role', 'Zones', 'Limit / min', 'Created', 'Last used', 'Requests', 'Status', ''],
            keys.map((k) => [
              h('code', { text: k.id }),
              k.name,
              k.role,
              k.zones === null ? 'all' : k.zones.join(', '),
              k.rateLimitPerMinute === null ? 'default' : formatNumber(k.rateLimitPerMinute),
              formatInstant(k.createdAt),
              formatInstant(k.lastUsedAt),
              formatNumber(k.requestCount),
              statusBadge(k.revokedAt === null ? 'active' : 'revoked'),
              k.revokedAt === null
                ? h('button', {
                    class: 'button button-danger button-small',
                    attrs: { type: 'button', 'aria-label': `Revoke key ${k.name} (${k.id})` },
                    data: { revoke: k.id },
                    text: 'Revoke',
                    on: {
                      click: () => {
                        void revoke(k);
                      },
                    },
                  })
                : `revoked ${formatInstant(k.revokedAt)}`,
            ]),
          ),
    ]);
  };

  const form = h(
    'form',
    {
      class: 'key-form',
      attrs: { 'aria-describedby': errorId },
      on: {
        submit: (event) => {
          event.preventDefault();
          formError.textContent = '';
          const zonesText = zonesInput.value.trim();
          const zones =
            zonesText === ''
              ? null
              : zonesText
                  .split(/[\s,]+/)
                  .filter((z) => z !== '')
                  .map((z) => z.toUpperCase());
          const bad = zones?.find((z) => !ZONE.test(z));
          if (bad !== undefined) {
            formError.textContent = `"${bad}" is not a zone code (such as DE_LU or FR).`;
            zonesInput.focus();
            return;
          }
          const rate = rateInput.value === '' ? null : Number(rateInput.value);
          submit.disabled = true;
          ctx.client
            .request('POST', '/api/v1/admin/keys', {
              body: { name: nameInput.value.trim(), role: roleSelect.value, zones, rate_limit_per_minute: rate },
              decode: decodeCreatedKey,
            })
            .then(
              async (created) => {
                const link = `${window.location.origin}/#key=${encodeURIComponent(created.key)}`;
                const secret = h('code', { class: 'secret', text: created.key, data: { newKey: created.key } });
                replace(createdHost, [
                  h('div', { class: 'callout', attrs: { role: 'status' } }, [
                    h('h3', { text: `Key "${created.record.name}" created (${created.record.role})` }),
                    h('p', { text: 'Copy it now: it is shown only once and cannot be recovered.' }),
                    h('p', {}, [secret]),
                    h('div', { class: 'actions' }, [
                      h('button', {
                        class: 'button',
                        attrs: { type: 'button' },
                        text: 'Copy key',
                        on: {
                          click: () => {
                            void navigator.clipboard.writeText(created.key).then(
                              () => {
                                ctx.notify('Key copied.');
                              },
                              () => {
                                ctx.notify('Copying failed: select the key and copy it by hand.', 'error');
                              },
                            );
                          },
                        },
                      }),
                      h('button', {
                        class: 'button button-secondary',
                        attrs: { type: 'button' },
                        text: 'Copy dashboard link',
                        on: {
                          click: () => {
                            void navigator.clipboard.writeText(link).then(
                              () => {
                                ctx.notify('Link copied.');
                              },
                              () => {
                                ctx.notify('Copying failed.', 'error');
                              },
                            );
                          },
                        },
                      }),
                      h('button', {
                        class: 'button button-secondary',
                        attrs: { type: 'button' },
                        text: 'Done',
                        on: {
                          click: () => {
                            createdHost.replaceChildren();
                          },
                        },
                      }),
                    ]),
                  ]),
                ]);
                form.reset();
                await load();
              },
              (error: unknown) => {
                formError.textContent = describeError(error);
              },
            )
            .finally(() => {
              submit.disabled = false;
            });
        },
      },
    },
    [
      h('div', { class: 'field' }, [h('label', { attrs: { for: nameId }, text: 'Name' }), nameInput]),
      h('div', { class: 'field' }, [h('label', { attrs: { for: roleId }, text: 'Role' }), roleSelect]),
      h('div', { class: 'field' }, [h('label', { attrs: { for: zonesId }, text: 'Zones' }), zonesInput]),
      h('div', { class: 'field' }, [h('label', { attrs: { for: rateId }, text: 'Requests per minute' }), rateInput]),
      h('div', { class: 'field field-submit' }, [submit]),
      h('small', {
        class: 'form-help',
        attrs: { id: zonesHelpId },
        text: 'Zones: comma-separated zone codes (DE_LU, FR), empty for all zones. Requests per minute: empty for the server default.',
      }),
      formError,
    ],
  );

  void load();
  return {
    el: h('div', {}, [
      section(
        'Create a key',
        [form, createdHost],
        'Readers read data; operators also see these admin pages and ingest meter data; admins also manage keys.',
      ),
      section('Keys', [listHost]),
    ]),
    destroy: () => {
      controller.abort();
    },
  };
}
