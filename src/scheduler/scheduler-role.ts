import type { Component, LifecycleState } from '../common/index.ts';
import { Lifecycle, problemLogger, withLifecycle } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import {
  ElectricityMapsClient,
  ElectricityMapsIngestor,
  ElectricityMapsTokens,
} from '../connectors/electricitymaps/index.ts';
import { EntsoeClient, EntsoeIngestor } from '../connectors/entsoe/index.ts';
import type { RateLimitStore, RequestObserver } from '../connectors/http/index.ts';
import type {
  DeadLetterSink,
  Publisher,
  DeadLetter,
  RawElectricityMaps,
  RawEntsoeDocument,
} from '../contracts/index.ts';
import { CircuitBreakers } from '../connectors/http/index.ts';
import type { Logger } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { loadReference } from '../reference/index.ts';
import { electricityMapsJob } from './electricitymaps-job.ts';
import { entsoeJobs } from './entsoe-jobs.ts';
import { SchedulerError } from './errors.ts';
import type { JobRunStore } from './job-run-store.ts';
import type { LeaseStore } from './lease-store.ts';
import { OfflineReplayer } from './offline-replayer.ts';
import type { ReplayedDocumentStore } from './replayed-document-store.ts';
import type { ScheduledJob } from './scheduler.ts';
import { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import { parseSchedulerConfig } from './scheduler-config.ts';

/** What the `scheduler` role is wired to. */
export interface SchedulerRoleOptions {
  /** Tokens and base URLs of both services. */
  readonly config: Config;
  /** @default `parseSchedulerConfig({})` (the defaults) */
  readonly schedule?: SchedulerConfig;
  readonly logger: Logger;
  /** `raw.entsoe`. */
  readonly entsoe: Publisher<RawEntsoeDocument>;
  /** `raw.electricitymaps`. */
  readonly electricityMaps: Publisher<RawElectricityMaps>;
  /** `dlq-ingestion`. */
  readonly deadLetters: DeadLetterSink;
  /**
   * SQL stores (`Sql*Store(db)`, PGlite in embedded mode) so that budgets, runs and what the offline replay has
   * published survive restarts; in-process ones in tests.
   */
  readonly stores: {
    readonly rateLimits: RateLimitStore;
    readonly leases: LeaseStore;
    readonly runs: JobRunStore;
    /** What the offline replay has published (only used without `ENTSOE_TOKEN`). */
    readonly replayed: ReplayedDocumentStore;
  };
  /** Per-zone Electricity Maps tokens (a tokens file). @default `config.electricityMaps.token` for every zone */
  readonly electricityMapsTokens?: ElectricityMapsTokens;
  readonly reference?: ReferenceData;
  /** Metrics hooks of the upstream clients (requests by outcome, limiter waits). */
  readonly observer?: RequestObserver;
}

/**
 * Offline replay progress as the admin API reports it (`live.replay` of `GET /api/v1/admin/connectors`, in the
 * API's snake_case). Counts are since this process started the replay.
 */
export type ReplayStatus = {
  /** The replay task's lifecycle state (`running`, `stopped`…). */
  readonly state: LifecycleState;
  /** Bundled documents in the replay directory (at the last scan). */
  readonly documents: number;
  readonly published: number;
  /** Passed over because their content was published before (by an earlier pass or an earlier process). */
  readonly skipped: number;
  /** Left to publish in the current pass. */
  readonly pending: number;
  /** Finished passes over the directory. */
  readonly cycles: number;
  readonly last_file: string | null;
  /** ISO instant of the last publication. */
  readonly last_published_at: string | null;
  /** Everything bundled is published: nothing is replayed until a file changes. */
  readonly idle: boolean;
  readonly interval_ms: number;
};

/** What the admin API reports as `live` (`GET /api/v1/admin/connectors`); `mode` also feeds `/api/v1/status`. */
export type ConnectorStatus = {
  readonly mode: 'live' | 'offline-replay';
  /** Whether this process leads the cron jobs; `null` without cron jobs. */
  readonly leader: boolean | null;
  /** `null` unless this process runs the offline replay (live mode; an API process without the scheduler role). */
  readonly replay: ReplayStatus | null;
};

/** The running role: the cron scheduler (live), the offline replay, or both (replay plus Electricity Maps). */
export interface SchedulerRole extends Component {
  /** `live` with an ENTSO-E token, `offline-replay` without. */
  readonly mode: 'live' | 'offline-replay';
  readonly scheduler: Scheduler | undefined;
  readonly replayer: OfflineReplayer | undefined;
  /**
   * The ENTSO-E ingestor of the cron jobs (live mode only): the runtime hands its `ingest` to other components that
   * fetch targeted ranges (the gap healer), so that they share the jobs' rate limit, breakers and dead letters.
   */
  readonly entsoe: EntsoeIngestor | undefined;
  /** Whether this process leads the cron jobs now (false without cron jobs). */
  isLeader(): boolean;
  /** The leader's current term (aborts when leadership ends); `undefined` while not leading or without cron jobs. */
  leaderTerm(): AbortSignal | undefined;
  /** `gridstream dlq replay dlq-ingestion`: fetches a dead-lettered request again. */
  replay(letter: DeadLetter, options?: { readonly signal?: AbortSignal }): Promise<{ readonly deadLetters: number }>;
  /** The connectors' live status for the admin API. */
  status(): ConnectorStatus;
}

/**
 * Builds the `scheduler` role from configuration: with `ENTSOE_TOKEN`, the configured ENTSO-E cron jobs; without
 * it, the offline replay of bundled documents (logged loudly). With an Electricity Maps token, its hourly poll.
 * One circuit breaker set and one rate-limit store serve every client of the process.
 */
export function createSchedulerRole(options: SchedulerRoleOptions): SchedulerRole {
  const { config, logger, stores } = options;
  const reference = options.reference ?? loadReference();
  const schedule = options.schedule ?? parseSchedulerConfig({}, reference);
  const breakers = new CircuitBreakers();
  const jobs: ScheduledJob[] = [];

  let entsoe: EntsoeIngestor | undefined;
  if (config.entsoe.token !== null) {
    const client = new EntsoeClient({
      baseUrl: config.entsoe.baseUrl,
      token: config.entsoe.token,
      logger,
      rateLimits: stores.rateLimits,
      limit: { requestsPerMinute: schedule.requestsPerMinute },
      breakers,
      ...(options.observer === undefined ? {} : { observer: options.observer }),
    });
    entsoe = new EntsoeIngestor({ client, publisher: options.entsoe, deadLetters: options.deadLetters, logger });
    jobs.push(...entsoeJobs(schedule, entsoe, reference));
  }
  const tokens = options.electricityMapsTokens ?? ElectricityMapsTokens.single(config.electricityMaps.token);
  let emaps: ElectricityMapsIngestor | undefined;
  if (tokens.all().length > 0) {
    const client = new ElectricityMapsClient({
      baseUrl: config.electricityMaps.baseUrl,
      tokens,
      logger,
      rateLimits: stores.rateLimits,
      limit: { requestsPerMinute: schedule.electricityMaps.requestsPerMinute },
      breakers,
      ...(options.observer === undefined ? {} : { observer: options.observer }),
    });
    emaps = new ElectricityMapsIngestor({
      client,
      publisher: options.electricityMaps,
      deadLetters: options.deadLetters,
      logger,
    });
    jobs.push(electricityMapsJob(schedule, emaps));
  }
  const scheduler =
    jobs.length === 0 ? undefined : new Scheduler({ jobs, leases: stores.leases, runs: stores.runs, logger });
  const replayer =
    entsoe === undefined
      ? new OfflineReplayer({
          publisher: options.entsoe,
          logger,
          store: stores.replayed,
          intervalMs: schedule.replay.intervalMs,
        })
      : undefined;

  const mode = entsoe === undefined ? 'offline-replay' : 'live';
  const life = new Lifecycle(
    'scheduler',
    {
      start: async () => {
        if (mode === 'offline-replay') {
          logger.warn(
            'no ENTSOE_TOKEN: the scheduler replays the bundled real ENTSO-E documents (offline replay), it does not poll the service',
          );
        }
        await scheduler?.start();
        await replayer?.task.start();
      },
      stop: async ({ graceMs }) => {
        await Promise.all([scheduler?.stop({ graceMs }), replayer?.task.stop({ graceMs })]);
      },
    },
    {
      onProblem: problemLogger(logger),
      degradedBy: () => scheduler?.degraded ?? replayer?.task.degraded,
    },
  );

  return withLifecycle<Omit<SchedulerRole, keyof Component>>(life, {
    mode,
    scheduler,
    replayer,
    entsoe,
    isLeader: () => scheduler?.isLeader ?? false,
    leaderTerm: () => scheduler?.termSignal,
    async replay(letter, replayOptions = {}) {
      if (ElectricityMapsIngestor.handles(letter)) {
        if (emaps === undefined)
          throw new SchedulerError(
            'scheduler.invalid_config',
            'replaying this dead letter needs an Electricity Maps token',
          );
        return { deadLetters: (await emaps.replay(letter, replayOptions)).deadLetters.length };
      }
      if (entsoe === undefined)
        throw new SchedulerError('scheduler.invalid_config', 'replaying this dead letter needs ENTSOE_TOKEN');
      return { deadLetters: (await entsoe.replay(letter, replayOptions)).deadLetters.length };
    },
    status() {
      return { mode, leader: scheduler?.isLeader ?? null, replay: replayStatus(replayer) };
    },
  });
}

function replayStatus(replayer: OfflineReplayer | undefined): ReplayStatus | null {
  // Never started here: an API process builds the role only to replay dead letters; its zeros would mislead.
  if (replayer === undefined || replayer.task.state === 'idle') return null;
  const p = replayer.progress;
  return {
    state: replayer.task.state,
    documents: p.documents,
    published: p.published,
    skipped: p.skipped,
    pending: p.pending,
    cycles: p.cycles,
    last_file: p.lastFile,
    last_published_at: p.lastPublishedAt === null ? null : new Date(p.lastPublishedAt).toISOString(),
    idle: p.idle,
    interval_ms: p.intervalMs,
  };
}
