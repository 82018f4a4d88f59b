import { describeError, isAbort } from '../api-client.ts';
import { decodeLag } from '../api-types.ts';
import { h, replace, table } from '../dom.ts';
import { formatNumber } from '../format.ts';
import type { PageContext } from '../page-context.ts';
import type { AdminView } from './admin-view.ts';
import { emptyNote, section } from './cells.ts';
import { Refresher } from './refresher.ts';

/** Consumer lag per group and topic, with each partition's end and committed offsets. */
export function lagView(ctx: PageContext): AdminView {
  const host = h('div', { class: 'admin-block', data: { view: 'lag', state: 'loading' } });
  const refresher = new Refresher(async (signal) => {
    try {
      const groups = await ctx.client.get('/api/v1/admin/lag', {}, decodeLag, signal);
      host.dataset['state'] = 'ready';
      host.dataset['groups'] = String(groups.length);
      const total = groups.reduce((n, g) => n + g.lag, 0);
      replace(host, [
        section(
          'Consumer lag',
          [
            h('p', { class: 'lag-total' }, [
              h('span', {
                class: `badge ${total === 0 ? 'badge-good' : total < 1000 ? 'badge-warn' : 'badge-bad'}`,
                text: `${formatNumber(total)} records behind`,
              }),
              ' in total',
            ]),
            groups.length === 0
              ? emptyNote('No consumer group is configured in this process.')
              : table(
                  'Consumer lag per group and topic',
                  ['Group', 'Topic', 'Lag', 'Partitions (committed / end)'],
                  groups.map((g) => [
                    g.group,
                    g.topic,
                    h('span', {
                      class: `badge ${g.lag === 0 ? 'badge-good' : g.lag < 1000 ? 'badge-warn' : 'badge-bad'}`,
                      text: formatNumber(g.lag),
                    }),
                    h(
                      'ul',
                      { class: 'partitions' },
                      g.partitions.map((p) =>
                        h('li', {
                          text: `p${p.partition}: ${p.committed === null ? 'none' : formatNumber(p.committed)} / ${formatNumber(p.end)}${p.lag > 0 ? ` (${formatNumber(p.lag)} behind)` : ''}`,
                        }),
                      ),
                    ),
                  ]),
                ),
          ],
          'Records each consumer group still has to process: end offset minus committed offset, per partition.',
        ),
      ]);
    } catch (error) {
      if (isAbort(error)) throw error;
      host.dataset['state'] = 'error';
      replace(host, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
      throw error;
    }
  }, 5_000);
  void refresher.run();
  return {
    el: h('div', {}, [refresher.el, host]),
    destroy: () => {
      refresher.stop();
    },
  };
}
