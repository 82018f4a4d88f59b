import { ApiClient, ApiProblem, describeError } from './api-client.ts';
import { decodeZones } from './api-types.ts';
import { h, uid } from './dom.ts';

/** Whether the server lets anyone read (`GRIDSTREAM_PUBLIC_READ`): it answers `/api/v1/me` without a key. */
export async function anonymousReadAllowed(): Promise<boolean> {
  try {
    await new ApiClient(null).get('/api/v1/me', {}, () => null);
    return true;
  } catch {
    return false;
  }
}

/**
 * The sign-in form: one API key, checked against `/api/v1/zones` before it is kept. A refused key shows the
 * server's problem detail (401 unknown/revoked, 429 rate limited…). On a server that lets anyone read
 * (`onAnonymous` given), a second button goes on without a key.
 */
export function signInView(options: {
  readonly reason?: string;
  readonly makeClient: (key: string) => ApiClient;
  readonly onSignedIn: (key: string) => void;
  /** Continue without a key (the server allows anonymous reading). */
  readonly onAnonymous?: () => void;
}): HTMLElement {
  const inputId = uid('key');
  const helpId = uid('key-help');
  const errorId = uid('key-error');
  const input = h('input', {
    attrs: {
      id: inputId,
      name: 'key',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      spellcheck: 'false',
      'aria-describedby': `${helpId} ${errorId}`,
    },
  });
  const error = h('p', { class: 'form-error', attrs: { id: errorId, role: 'alert' }, data: { signInError: '' } });
  if (options.reason !== undefined) {
    error.textContent = options.reason;
    error.dataset['signInError'] = options.reason;
  }
  const submit = h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Sign in' });
  const form = h(
    'form',
    {
      class: 'sign-in',
      attrs: { 'aria-labelledby': `${inputId}-title` },
      on: {
        submit: (event) => {
          event.preventDefault();
          const key = input.value.trim();
          if (key === '') return;
          submit.disabled = true;
          submit.textContent = 'Checking…';
          error.textContent = '';
          error.dataset['signInError'] = '';
          options
            .makeClient(key)
            .get('/api/v1/zones', {}, decodeZones)
            .then(
              () => {
                options.onSignedIn(key);
              },
              (e: unknown) => {
                const message =
                  e instanceof ApiProblem && e.status === 401
                    ? `This key was refused: ${e.detail}`
                    : e instanceof ApiProblem && e.status === 429
                      ? `Too many requests: ${e.detail}${e.retryAfter === undefined ? '' : ` (try again in ${e.retryAfter} s)`}`
                      : describeError(e);
                error.textContent = message;
                error.dataset['signInError'] = message;
                submit.disabled = false;
                submit.textContent = 'Sign in';
                input.focus();
                input.select();
              },
            );
        },
      },
    },
    [
      h('h1', { text: 'Sign in to gridstream', attrs: { id: `${inputId}-title` } }),
      h('label', { attrs: { for: inputId }, text: 'API key' }),
      input,
      h('p', {
        class: 'help',
        attrs: { id: helpId },
        text: 'The key is kept in this browser only (local storage). Operators create keys with "gridstream keys create"; the first admin key is printed at start-up.',
      }),
      error,
      submit,
      options.onAnonymous === undefined ? null : anonymousChoice(options.onAnonymous),
    ],
  );
  queueMicrotask(() => {
    input.focus();
  });
  return h('div', { class: 'sign-in-page' }, [form]);
}

/** The way in without a key, with what it allows. */
function anonymousChoice(onAnonymous: () => void): HTMLElement {
  return h('div', { class: 'sign-in-anonymous' }, [
    h('p', {
      class: 'help',
      text: 'This server lets anyone read its data without a key; a key is needed only for the operator pages.',
    }),
    h('button', {
      class: 'button button-secondary',
      attrs: { type: 'button' },
      text: 'Continue without a key',
      on: { click: onAnonymous },
    }),
  ]);
}
