import { describeError, isAbort } from '../api-client.ts';
import type { DlqEntry, DlqTopicSummary, Row } from '../api-types.ts';
import { decodeDlqEntries, decodeDlqEntry, decodeDlqSummary, decodeReplay } from '../api-types.ts';
import { h, replace, uid } from '../dom.ts';
import { formatInstant, formatNumber } from '../format.ts';
import type { PageContext } from '../page-context.ts';
import type { AdminView } from './admin-view.ts';
import { emptyNote, section } from './cells.ts';
import { Refresher } from './refresher.ts';

const LIMITS = [50, 100, 500, 1000] as const;

function letterText(letter: Row | null, name: string): string {
  const value = letter?.[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** The payload for reading: JSON pretty-printed, base64 decoded when it is text. */
function payloadText(letter: Row): string {
  const payload = letterText(letter, 'payload');
  const encoding = letterText(letter, 'payloadEncoding');
  if (encoding === 'base64') {
    try {
      const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return tryPretty(text);
    } catch {
      return `(binary, ${formatNumber(payload.length * 0.75)} bytes in base64)\n${payload.slice(0, 2000)}`;
    }
  }
  return tryPretty(payload);
}

function tryPretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text.length > 20_000 ? `${text.slice(0, 20_000)}\n… (${formatNumber(text.length)} characters)` : text;
  }
}

/**
 * The dead-letter browser: counts per topic and reason, the entries of a topic (filter by reason), one envelope
 * with its payload, and replay of the selected entries, of a reason, or of the whole topic.
 */
export function dlqView(ctx: PageContext, params: URLSearchParams): AdminView {
  let topic = params.get('topic') ?? '';
  let reason = params.get('reason') ?? '';
  let limit: number = Number(params.get('limit') ?? '100');
  if (!(LIMITS as readonly number[]).includes(limit)) limit = 100;
  let entries: DlqEntry[] = [];
  const selected = new Set<string>();
  const summaryHost = h('div', { class: 'dlq-summary', data: { view: 'dlq', state: 'loading' } });
  const listHost = h('div', { class: 'admin-block', data: { dlqEntries: 0 } });
  const detailHost = h('div', { class: 'dlq-detail', attrs: { 'aria-live': 'polite' } });
  const resultHost = h('div', { class: 'action-result', attrs: { role: 'status' } });

  const topicId = uid('topic');
  const reasonId = uid('reason');
  const limitId = uid('limit');
  const reasonsId = uid('reasons');
  const topicSelect = h('select', {
    attrs: { id: topicId },
    on: {
      change: () => {
        topic = topicSelect.value;
        reason = '';
        reasonInput.value = '';
        syncUrl();
        void loadList();
      },
    },
  });
  const reasonList = h('datalist', { attrs: { id: reasonsId } });
  const reasonInput = h('input', {
    attrs: {
      id: reasonId,
      type: 'search',
      list: reasonsId,
      placeholder: 'any reason',
      value: reason,
      spellcheck: 'false',
    },
  });
  const limitSelect = h(
    'select',
    { attrs: { id: limitId } },
    LIMITS.map((n) => h('option', { attrs: { value: n, selected: n === limit }, text: String(n) })),
  );
  const filterForm = h(
    'form',
    {
      class: 'filters',
      attrs: { 'aria-label': 'Dead-letter filter' },
      on: {
        submit: (event) => {
          event.preventDefault();
          reason = reasonInput.value.trim();
          limit = Number(limitSelect.value);
          syncUrl();
          void loadList();
        },
      },
    },
    [
      h('label', { attrs: { for: topicId }, text: 'Topic' }),
      topicSelect,
      h('label', { attrs: { for: reasonId }, text: 'Reason' }),
      reasonInput,
      reasonList,
      h('label', { attrs: { for: limitId }, text: 'Show' }),
      limitSelect,
      h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Filter' }),
    ],
  );

  const syncUrl = (): void => {
    const q = new URLSearchParams();
    if (topic !== '') q.set('topic', topic);
    if (reason !== '') q.set('reason', reason);
    if (limit !== 100) q.set('limit', String(limit));
    const search = q.toString();
    window.history.replaceState(null, '', `/admin/dlq${search === '' ? '' : `?${search}`}`);
  };

  const entryKey = (e: DlqEntry): string => `${e.partition}/${e.offset}`;

  const renderSummary = (summary: readonly DlqTopicSummary[]): void => {
    summaryHost.dataset['state'] = 'ready';
    summaryHost.dataset['total'] = String(summary.reduce((n, t) => n + t.total, 0));
    replace(
      summaryHost,
      summary.map((t) =>
        h(
          'article',
          { class: `dlq-topic${t.topic === topic ? ' selected' : ''}`, data: { topic: t.topic, total: t.total } },
          [
            h('h3', {}, [
              h('button', {
                class: 'link-button',
                attrs: { type: 'button', 'aria-pressed': t.topic === topic ? 'true' : 'false' },
                text: t.topic,
                on: {
                  click: () => {
                    topic = t.topic;
                    reason = '';
                    reasonInput.value = '';
                    topicSelect.value = topic;
                    syncUrl();
                    renderSummary(summary);
                    void loadList();
                  },
                },
              }),
            ]),
            h('p', { class: 'dlq-total' }, [
              h('strong', { text: formatNumber(t.total) }),
              t.total === 1 ? ' dead letter' : ' dead letters',
            ]),
            h(
              'ul',
              { class: 'chips', attrs: { 'aria-label': `Reasons in ${t.topic}` } },
              Object.entries(t.byReason)
                .sort((a, b) => b[1] - a[1])
                .map(([r, n]) =>
                  h('li', {}, [
                    h('button', {
                      class: `chip${t.topic === topic && r === reason ? ' active' : ''}`,
                      attrs: { type: 'button' },
                      text: `${r} · ${formatNumber(n)}`,
                      on: {
                        click: () => {
                          topic = t.topic;
                          reason = r;
                          topicSelect.value = topic;
                          reasonInput.value = r;
                          syncUrl();
                          renderSummary(summary);
                          void loadList();
                        },
                      },
                    }),
                  ]),
                ),
            ),
          ],
        ),
      ),
    );
    const options = summary.map((t) =>
      h('option', { attrs: { value: t.topic }, text: `${t.topic} (${formatNumber(t.total)})` }),
    );
    replace(topicSelect, options);
    if (topic === '' || !summary.some((t) => t.topic === topic)) {
      topic = summary.find((t) => t.total > 0)?.topic ?? summary[0]?.topic ?? '';
    }
    topicSelect.value = topic;
    const reasons = summary.find((t) => t.topic === topic)?.byReason ?? {};
    replace(
      reasonList,
      Object.keys(reasons).map((r) => h('option', { attrs: { value: r } })),
    );
  };

  const loadSummary = async (signal: AbortSignal): Promise<void> => {
    try {
      renderSummary(await ctx.client.get('/api/v1/admin/dlq', {}, decodeDlqSummary, signal));
    } catch (error) {
      if (isAbort(error)) throw error;
      summaryHost.dataset['state'] = 'error';
      replace(summaryHost, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
      throw error;
    }
  };

  const replay = async (body: unknown, what: string): Promise<void> => {
    resultHost.textContent = `Replaying ${what}…`;
    try {
      const result = await ctx.client.request('POST', `/api/v1/admin/dlq/${encodeURIComponent(topic)}/replay`, {
        body,
        decode: decodeReplay,
      });
      const failed = result.failed.length;
      replace(resultHost, [
        `Replayed ${formatNumber(result.replayed)} of ${formatNumber(result.selected)} ${what}${failed > 0 ? `; ${formatNumber(failed)} failed:` : '.'}`,
        failed === 0
          ? null
          : h(
              'ul',
              { class: 'failures' },
              result.failed.slice(0, 10).map((f) => h('li', { text: `${f.partition}/${f.offset}: ${f.reason}` })),
            ),
        failed > 10 ? h('p', { text: `… and ${formatNumber(failed - 10)} more.` }) : null,
      ]);
      resultHost.dataset['replayed'] = String(result.replayed);
      resultHost.dataset['failed'] = String(failed);
      selected.clear();
      await refresher.run();
    } catch (error) {
      resultHost.textContent = `Replay failed: ${describeError(error)}`;
    }
  };

  const showEntry = async (e: DlqEntry): Promise<void> => {
    replace(detailHost, [h('p', { class: 'placeholder', text: 'Loading…' })]);
    try {
      const entry = await ctx.client.get(
        `/api/v1/admin/dlq/${encodeURIComponent(e.topic)}/${e.partition}/${e.offset}`,
        {},
        decodeDlqEntry,
      );
      const letter = entry.letter;
      const facts: [string, string][] =
        letter === null
          ? [['Invalid envelope', entry.invalid ?? 'unreadable']]
          : [
              ['Id', letterText(letter, 'id')],
              ['Stage', letterText(letter, 'stage')],
              ['Reason', letterText(letter, 'reason')],
              ['Message', letterText(letter, 'message')],
              ['Retryable', String(letter['retryable'] === true)],
              ['Attempts', letterText(letter, 'attempts')],
              ['First failure', formatInstant(letterText(letter, 'firstFailureAt'))],
              ['Last failure', formatInstant(letterText(letter, 'lastFailureAt'))],
              ['Source', JSON.stringify(letter['source'] ?? null)],
              ['Position', JSON.stringify(letter['position'] ?? null)],
              ['HTTP status', letterText(letter, 'httpStatus') || '–'],
              ['Replays', String(entry.replays)],
            ];
      replace(detailHost, [
        section(`Dead letter ${entry.topic} ${entry.partition}/${entry.offset}`, [
          h(
            'dl',
            { class: 'facts' },
            facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]),
          ),
          letter === null ? null : h('h3', { text: `Payload (${letterText(letter, 'payloadEncoding')})` }),
          letter === null ? null : h('pre', { class: 'payload', attrs: { tabindex: 0 }, text: payloadText(letter) }),
          h('details', {}, [
            h('summary', { text: 'Whole envelope (JSON)' }),
            h('pre', { class: 'payload', attrs: { tabindex: 0 }, text: JSON.stringify(entry, null, 2) }),
          ]),
          h('div', { class: 'actions' }, [
            h('button', {
              class: 'button',
              attrs: { type: 'button' },
              text: 'Replay this dead letter',
              on: {
                click: () => {
                  void replay({ offsets: [{ partition: entry.partition, offset: entry.offset }] }, 'dead letter');
                },
              },
            }),
            h('button', {
              class: 'button button-secondary',
              attrs: { type: 'button' },
              text: 'Close',
              on: {
                click: () => {
                  detailHost.replaceChildren();
                },
              },
            }),
          ]),
        ]),
      ]);
      detailHost.querySelector('h2')?.setAttribute('tabindex', '-1');
      (detailHost.querySelector('h2') as HTMLElement | null)?.focus();
    } catch (error) {
      replace(detailHost, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
    }
  };

  const renderList = (): void => {
    listHost.dataset['dlqEntries'] = String(entries.length);
    const selectedCount = (): number => entries.filter((e) => selected.has(entryKey(e))).length;
    const replaySelected = h('button', {
      class: 'button',
      attrs: { type: 'button', disabled: selectedCount() === 0 },
      text: `Replay selected (${selectedCount()})`,
      on: {
        click: () => {
          const offsets = entries
            .filter((e) => selected.has(entryKey(e)))
            .map((e) => ({ partition: e.partition, offset: e.offset }));
          if (offsets.length > 0) void replay({ offsets }, offsets.length === 1 ? 'dead letter' : 'dead letters');
        },
      },
    });
    const updateSelected = (): void => {
      replaySelected.disabled = selectedCount() === 0;
      replaySelected.textContent = `Replay selected (${selectedCount()})`;
    };
    const replayAll = h('button', {
      class: 'button button-danger',
      attrs: { type: 'button', disabled: entries.length === 0 },
      text: reason === '' ? `Replay all of ${topic}` : `Replay all "${reason}"`,
      on: {
        click: () => {
          const what =
            reason === '' ? `every dead letter of ${topic}` : `every dead letter of ${topic} with reason "${reason}"`;
          if (!window.confirm(`Replay ${what}? Each one is sent back to where it failed.`)) return;
          void replay(
            reason === '' ? { all: true } : { reason },
            reason === '' ? 'dead letters' : `"${reason}" dead letters`,
          );
        },
      },
    });
    const selectAll = h('input', {
      attrs: { type: 'checkbox', 'aria-label': 'Select all shown' },
      on: {
        change: () => {
          for (const e of entries) {
            if (selectAll.checked) selected.add(entryKey(e));
            else selected.delete(entryKey(e));
          }
          for (const box of listHost.querySelectorAll<HTMLInputElement>('input[data-entry]'))
            box.checked = selectAll.checked;
          updateSelected();
        },
      },
    });
    const rows = entries.map((e) => {
      const box = h('input', {
        attrs: {
          type: 'checkbox',
          'aria-label': `Select ${e.partition}/${e.offset}`,
          checked: selected.has(entryKey(e)),
        },
        data: { entry: entryKey(e) },
        on: {
          change: () => {
            if (box.checked) selected.add(entryKey(e));
            else selected.delete(entryKey(e));
            updateSelected();
          },
        },
      });
      const message = letterText(e.letter, 'message') || e.invalid || '';
      return h('tr', { data: { offset: e.offset } }, [
        h('td', {}, [box]),
        h('td', {}, [
          h('button', {
            class: 'link-button',
            attrs: { type: 'button', title: 'Show this dead letter' },
            text: `${e.partition}/${e.offset}`,
            on: {
              click: () => {
                void showEntry(e);
              },
            },
          }),
        ]),
        h('td', { text: formatInstant(e.timestamp) }),
        h('td', { text: letterText(e.letter, 'stage') || '–' }),
        h('td', { text: letterText(e.letter, 'reason') || 'invalid envelope' }),
        h('td', {
          class: 'message-cell',
          text: message.length > 140 ? `${message.slice(0, 140)}…` : message,
          attrs: { title: message },
        }),
        h('td', { text: letterText(e.letter, 'attempts') || '–' }),
        h('td', { text: String(e.replays) }),
      ]);
    });
    replace(listHost, [
      section(`Dead letters in ${topic || '…'}${reason === '' ? '' : ` with reason "${reason}"`}`, [
        filterForm,
        entries.length === 0
          ? emptyNote('No dead letters match.')
          : h('div', { class: 'table-wrap' }, [
              h('table', {}, [
                h('caption', { class: 'visually-hidden', text: 'Dead letters' }),
                h('thead', {}, [
                  h('tr', {}, [
                    h('th', { attrs: { scope: 'col' } }, [selectAll]),
                    ...['Partition/offset', 'Time', 'Stage', 'Reason', 'Message', 'Attempts', 'Replays'].map((t) =>
                      h('th', { attrs: { scope: 'col' }, text: t }),
                    ),
                  ]),
                ]),
                h('tbody', {}, rows),
              ]),
            ]),
        h('div', { class: 'actions' }, [replaySelected, replayAll]),
        resultHost,
      ]),
    ]);
  };

  const loadList = async (signal?: AbortSignal): Promise<void> => {
    if (topic === '') {
      entries = [];
      renderList();
      return;
    }
    try {
      entries = await ctx.client.get(
        `/api/v1/admin/dlq/${encodeURIComponent(topic)}`,
        { reason: reason === '' ? undefined : reason, limit },
        decodeDlqEntries,
        signal,
      );
      const keys = new Set(entries.map(entryKey));
      for (const k of [...selected]) if (!keys.has(k)) selected.delete(k);
      renderList();
    } catch (error) {
      if (isAbort(error)) throw error;
      replace(listHost, [
        filterForm,
        h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) }),
      ]);
    }
  };

  const refresher = new Refresher(async (signal) => {
    await loadSummary(signal);
    await loadList(signal);
  }, 60_000);
  void refresher.run();
  return {
    el: h('div', {}, [
      refresher.el,
      section(
        'Dead-letter topics',
        [summaryHost],
        'Records that failed ingestion, processing or storage, kept for inspection and replay.',
      ),
      listHost,
      detailHost,
    ]),
    destroy: () => {
      refresher.stop();
    },
  };
}
