import { describeError, isAbort } from '../api-client.ts';
import type { ConnectorGaps, ReplayProgress, Row } from '../api-types.ts';
import { decodeConnectors, decodeRows } from '../api-types.ts';
import { h, replace, table, uid } from '../dom.ts';
import { GAP_STATE_LABELS } from '../completeness-badge.ts';
import { formatInstant, formatNumber, metricLabel } from '../format.ts';
import type { PageContext } from '../page-context.ts';
import { cellText, durationCell, emptyNote, rowString, section, statusBadge } from './cells.ts';
import { Refresher } from './refresher.ts';
import type { AdminView } from './admin-view.ts';

/**
 * Connectors and jobs: scheduler mode and leadership, offline replay progress, latest run per job, gaps and their
 * targeted backfills, rate limits and bans, leases, runs.
 */
export function connectorsView(ctx: PageContext): AdminView {
  const status = h('div', { class: 'admin-block', data: { view: 'connectors', state: 'loading' } });
  const runsHost = h('div', { class: 'admin-block' });
  const jobId = uid('job');
  const jobSelect = h(
    'select',
    {
      attrs: { id: jobId },
      on: {
        change: () => {
          void refresher.run();
        },
      },
    },
    [h('option', { attrs: { value: '' }, text: 'All jobs' })],
  );

  const load = async (signal: AbortSignal): Promise<void> => {
    try {
      const job = jobSelect.value;
      const [connectors, runs] = await Promise.all([
        ctx.client.get('/api/v1/admin/connectors', {}, decodeConnectors, signal),
        ctx.client.get('/api/v1/admin/jobs', { limit: 50, job }, decodeRows('runs'), signal),
      ]);
      status.dataset['state'] = 'ready';
      const live = connectors.live;
      const mode = live === null ? 'this API process runs no scheduler' : live.mode;
      const leader = live?.leader === true ? 'leader' : live?.leader === false ? 'standby' : 'n/a';
      replace(status, [
        section('Scheduler', [
          h('dl', { class: 'facts' }, [
            h('dt', { text: 'Mode' }),
            h('dd', { text: mode, data: { mode } }),
            h('dt', { text: 'Leadership' }),
            h('dd', {}, [statusBadge(leader)]),
          ]),
          mode === 'offline-replay'
            ? h('p', {
                class: 'help',
                text: 'No ENTSOE_TOKEN: the bundled real ENTSO-E documents are replayed on a timer (historic data). Jobs, rate limits and leases appear when the scheduler polls the ENTSO-E service.',
              })
            : null,
        ]),
        mode === 'offline-replay' ? replaySection(live?.replay ?? null) : null,
        section('Latest run per job', [
          connectors.jobs.length === 0
            ? emptyNote('No job has run yet.')
            : table(
                'Latest run per job',
                ['Job', 'Status', 'Started', 'Finished', 'Documents', 'Points', 'Errors', 'Error'],
                connectors.jobs.map((r) => [
                  cellText(r, 'job'),
                  statusBadge(cellText(r, 'status')),
                  cellText(r, 'started_at'),
                  cellText(r, 'finished_at'),
                  cellText(r, 'documents'),
                  cellText(r, 'points'),
                  cellText(r, 'errors'),
                  errorCell(r),
                ]),
              ),
        ]),
        gapsSection(connectors.gaps, mode),
        section(
          'Rate limits and bans',
          [
            connectors.rateLimits.length === 0
              ? emptyNote('No upstream rate-limit bucket yet.')
              : table(
                  'Rate limits and bans',
                  ['Bucket', 'Tokens', 'Capacity', 'Refill / s', 'Updated', 'Banned until'],
                  connectors.rateLimits.map((r) => {
                    const banned = rowString(r, 'banned_until');
                    const active = banned !== null && Date.parse(banned) > Date.now();
                    return [
                      cellText(r, 'key'),
                      cellText(r, 'tokens'),
                      cellText(r, 'capacity'),
                      cellText(r, 'refill_per_s'),
                      cellText(r, 'updated_at'),
                      active
                        ? h('span', {}, [statusBadge('banned'), ` ${cellText(r, 'banned_until')}`])
                        : cellText(r, 'banned_until'),
                    ];
                  }),
                ),
          ],
          'Shared token buckets of the upstream clients; a ban is set when the service answers 429 or blocks the token.',
        ),
        connectors.inputs.length === 0
          ? null
          : section('Device inputs', [
              table(
                'Device inputs',
                ['Input', 'State', 'Degraded'],
                connectors.inputs.map((x) => [
                  x.name,
                  statusBadge(x.degraded === null ? x.state : 'degraded'),
                  x.degraded ?? '',
                ]),
              ),
            ]),
        section('Leases', [
          connectors.leases.length === 0
            ? emptyNote('No lease held (one scheduler leader is elected through a PostgreSQL lease).')
            : table(
                'Leases',
                ['Name', 'Holder', 'Acquired', 'Renewed', 'Expires'],
                connectors.leases.map((r) => [
                  cellText(r, 'name'),
                  cellText(r, 'holder'),
                  cellText(r, 'acquired_at'),
                  cellText(r, 'renewed_at'),
                  cellText(r, 'expires_at'),
                ]),
              ),
        ]),
      ]);
      const jobs = [...new Set(connectors.jobs.map((r) => cellText(r, 'job')))].sort();
      const selected = jobSelect.value;
      replace(jobSelect, [
        h('option', { attrs: { value: '' }, text: 'All jobs' }),
        ...jobs.map((j) => h('option', { attrs: { value: j }, text: j })),
      ]);
      jobSelect.value = jobs.includes(selected) ? selected : '';
      replace(runsHost, [
        section('Recent job runs', [
          h('div', { class: 'filters' }, [h('label', { attrs: { for: jobId }, text: 'Job' }), jobSelect]),
          runs.length === 0
            ? emptyNote('No job runs.')
            : table(
                'Recent job runs',
                ['#', 'Job', 'Window', 'Status', 'Started', 'Duration', 'Documents', 'Points', 'Errors', 'Error'],
                runs.map((r) => [
                  cellText(r, 'id'),
                  cellText(r, 'job'),
                  `${cellText(r, 'window_start')} – ${cellText(r, 'window_end')}`,
                  statusBadge(cellText(r, 'status')),
                  cellText(r, 'started_at'),
                  durationCell(r, 'duration_ms'),
                  cellText(r, 'documents'),
                  cellText(r, 'points'),
                  cellText(r, 'errors'),
                  errorCell(r),
                ]),
              ),
        ]),
      ]);
    } catch (error) {
      if (isAbort(error)) throw error;
      status.dataset['state'] = 'error';
      replace(status, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
      throw error;
    }
  };
  const refresher = new Refresher(load, 10_000);
  void refresher.run();
  return {
    el: h('div', {}, [refresher.el, status, runsHost]),
    destroy: () => {
      refresher.stop();
    },
  };
}

function errorCell(r: Row): HTMLElement | string {
  const error = rowString(r, 'error');
  if (error === null || error === '') return '–';
  return h('span', {
    class: 'error-text',
    text: error.length > 160 ? `${error.slice(0, 160)}…` : error,
    attrs: { title: error },
  });
}

/** Self-healing completeness: gaps per state, the hour's targeted requests, and the open gaps with their tries. */
function gapsSection(gaps: ConnectorGaps, mode: string): HTMLElement {
  const counts = (['pending', 'backfilling', 'source_has_none', 'filled'] as const).map(
    (s) => `${formatNumber(gaps.states[s])} ${GAP_STATE_LABELS[s]}`,
  );
  return section(
    'Gaps and targeted backfills',
    [
      h('p', {
        data: { gaps: gaps.open.length },
        text: `${counts.join(' · ')}; ${formatNumber(gaps.requestsLastHour)} targeted requests in the last hour.`,
      }),
      mode === 'offline-replay'
        ? h('p', {
            class: 'help',
            text: 'Offline replay: the bundled documents are historic and there is no token to ask with, so gaps are neither looked for nor asked for.',
          })
        : null,
      gaps.open.length === 0
        ? emptyNote('No open gap.')
        : table(
            'Open gaps',
            ['Zone', 'Metric', 'From', 'To', 'Quarter hours', 'State', 'Tries', 'Failed', 'Next look', 'Last answer'],
            gaps.open.map((g) => [
              g.zone,
              metricLabel(g.metric),
              formatInstant(g.start),
              formatInstant(g.end),
              formatNumber(g.slots),
              statusBadge(GAP_STATE_LABELS[g.state]),
              formatNumber(g.tries),
              formatNumber(g.failures),
              formatInstant(g.nextAttemptAt),
              g.lastOutcome ?? '–',
            ]),
          ),
    ],
    'Expected slots (the expected-publication model of the alerts) missing after their usual delay plus the margin are asked for with one targeted ENTSO-E request per gap, within GRIDSTREAM_GAP_REQUESTS_PER_RUN and GRIDSTREAM_GAP_REQUESTS_PER_HOUR; a gap still missing is asked again after a doubled wait and, after GRIDSTREAM_GAP_MAX_TRIES answers, marked "source has none".',
  );
}

/** Offline replay progress: what is bundled, published, skipped as already published, and whether it is idle. */
function replaySection(replay: ReplayProgress | null): HTMLElement {
  const title = 'Offline replay';
  if (replay === null) {
    return section(title, [
      emptyNote('This process does not run the replay: its progress is shown by the process that runs the scheduler.'),
    ]);
  }
  // `idle` is the replay's own word; a stopped or failed task says so instead.
  const status = replay.state !== 'running' ? replay.state : replay.idle ? 'idle' : 'replaying';
  const explanation =
    status === 'idle'
      ? 'every bundled document is published; nothing is written to the log until a file in the replay directory changes'
      : status === 'replaying'
        ? `${formatNumber(replay.pending)} ${replay.pending === 1 ? 'document' : 'documents'} left to publish in this pass`
        : 'the replay task is not running';
  const last =
    replay.lastFile === null
      ? 'none since this process started'
      : `${replay.lastFile} at ${formatInstant(replay.lastPublishedAt)}`;
  return section(
    title,
    [
      h(
        'dl',
        {
          class: 'facts',
          data: {
            replay: status,
            documents: replay.documents,
            published: replay.published,
            skipped: replay.skipped,
            pending: replay.pending,
            cycles: replay.cycles,
          },
        },
        [
          h('dt', { text: 'Status' }),
          h('dd', {}, [statusBadge(status), ` ${explanation}`]),
          h('dt', { text: 'Bundled documents' }),
          h('dd', { text: formatNumber(replay.documents) }),
          h('dt', { text: 'Published' }),
          h('dd', { text: formatNumber(replay.published) }),
          h('dt', { text: 'Skipped as already published (all passes)' }),
          h('dd', { text: formatNumber(replay.skipped) }),
          h('dt', { text: 'Finished passes over the bundle' }),
          h('dd', { text: formatNumber(replay.cycles) }),
          h('dt', { text: 'Last published' }),
          h('dd', { text: last, data: { lastFile: replay.lastFile ?? '' } }),
          h('dt', { text: 'Interval' }),
          h('dd', { text: `${formatNumber(replay.intervalMs)} ms between documents` }),
        ],
      ),
    ],
    'Each bundled document is published once: what has been published is remembered in the database (by content), so a restart or another pass skips it and an idle replay does not grow the log. Counts are since this process started.',
  );
}
