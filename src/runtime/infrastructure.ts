import { join } from 'node:path';
import type { Config, KafkaSecurity } from '../config/index.ts';
import { configSecrets } from '../config/index.ts';
import { ALL_TOPICS, DLQ_TOPIC_HANDLES } from '../contracts/index.ts';
import type { KafkaLogOptions, Log, QuarantineReport, TopicSpec } from '../log/index.ts';
import { createEmbeddedLog, createKafkaLog, namespacedLog, pendingCorruption, topicSpecOf } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { redactUrl, secretScrubber } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { loadReference } from '../reference/index.ts';
import type { Db } from '../storage/index.ts';
import { describeDatabase, migrate, openDb } from '../storage/index.ts';
import { DiskFullMonitor } from './disk-full.ts';

/** What every role is built from: configuration, logging, metrics, reference data, the event log and the database. */
export interface Infrastructure {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  readonly log: Log;
  readonly db: Db;
  /** `embedded` when neither Kafka nor PostgreSQL is configured. */
  readonly mode: 'embedded' | 'distributed';
  /** Scrubs the configured secrets out of text (dead letters, error messages). */
  readonly scrub: (text: string) => string;
  /** Corruption the embedded log quarantined that no operator has acknowledged yet (none with Kafka). */
  readonly pendingLogCorruption: () => Promise<readonly QuarantineReport[]>;
  /** Writes the log or the database refused for a full disk: counted, and holding readiness while they happen. */
  readonly diskFull: DiskFullMonitor;
  /** Closes the log and the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the event log (Kafka when `KAFKA_BROKERS` is set, else the embedded log under `<dataDir>/log`) and the
 * database (PostgreSQL when `DATABASE_URL` is set, else PGlite under `<dataDir>/pglite`), creates the topics and
 * applies migrations. Both steps are idempotent, so any number of workers may start at once.
 */
export async function openInfrastructure(config: Config, logger: Logger, metrics: Metrics): Promise<Infrastructure> {
  const scrubSecrets = secretScrubber(configSecrets(config));
  const scrub = (text: string): string => redactUrl(scrubSecrets(text));
  const logDir = join(config.dataDir, 'log');
  const base: Log =
    config.kafkaBrokers === null
      ? await createEmbeddedLog({
          dir: logDir,
          logger: logger.child({ component: 'log' }),
          onQuarantine: (report) => {
            metrics.logQuarantined(report.topic, report.kind);
          },
        })
      : await createKafkaLog({
          brokers: config.kafkaBrokers,
          clientId: `gridstream-${process.pid}`,
          ...(config.instanceId === null ? {} : { groupInstanceId: config.instanceId }),
          logger: logger.child({ component: 'log' }),
          ...kafkaSecurityOptions(config.transport.kafka),
        });
  const log = config.namespace === null ? base : namespacedLog(base, config.namespace);
  let db: Db | undefined;
  try {
    await log.createTopics(ALL_TOPICS.map((t) => withConfiguredRetention(topicSpecOf(t), config)));
    db = await openDb({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.namespace,
      logger: logger.child({ component: 'db' }),
    });
    const applied = await migrate(db, { logger });
    logger.info(
      {
        log:
          config.kafkaBrokers === null
            ? `embedded in ${join(config.dataDir, 'log')}`
            : `Kafka at ${config.kafkaBrokers.join(',')}`,
        db: describeDatabase(config.databaseUrl, config.dataDir),
        migrations: applied.applied.length,
      },
      'infrastructure ready',
    );
  } catch (error) {
    await log.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    throw error;
  }
  const diskFull = new DiskFullMonitor(metrics);
  const opened = diskFull.observe('db', db);
  let closing: Promise<void> | undefined; // resources, not a component: one close, whoever asks first
  return {
    config,
    logger,
    metrics,
    reference: loadReference(),
    log: diskFull.observe('log', log),
    db: opened,
    diskFull,
    mode: config.kafkaBrokers === null && config.databaseUrl === null ? 'embedded' : 'distributed',
    scrub,
    pendingLogCorruption: () => (config.kafkaBrokers === null ? pendingCorruption(logDir) : Promise.resolve([])),
    close: () =>
      (closing ??= (async () => {
        await log.close().catch((error: unknown) => {
          logger.error({ err: error }, 'closing the log failed');
        });
        await opened.close().catch((error: unknown) => {
          logger.error({ err: error }, 'closing the database failed');
        });
      })()),
  };
}

const DLQ_NAMES: ReadonlySet<string> = new Set(Object.values(DLQ_TOPIC_HANDLES).map((t) => t.name));

/** The dead-letter topics take the configured retention (`GRIDSTREAM_DLQ_RETENTION_MS`, `…_BYTES`). */
function withConfiguredRetention(spec: TopicSpec, config: Config): TopicSpec {
  return DLQ_NAMES.has(spec.name)
    ? { ...spec, retentionMs: config.dlqRetentionMs, retentionBytes: config.dlqRetentionBytes }
    : spec;
}

/**
 * `KAFKA_SASL_*` and `KAFKA_TLS*` as client options. The password and key are handed over as functions, so that no
 * options object the client keeps (or a log line might print) holds them as plain strings.
 */
export function kafkaSecurityOptions(security: KafkaSecurity): Pick<KafkaLogOptions, 'sasl' | 'tls'> {
  const { sasl, tls } = security;
  return {
    ...(sasl === null
      ? {}
      : { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: () => sasl.password.reveal() } }),
    ...(tls === null
      ? {}
      : {
          tls: {
            ...(tls.ca === null ? {} : { ca: tls.ca }),
            ...(tls.cert === null ? {} : { cert: tls.cert }),
            ...(tls.key === null ? {} : { key: tls.key.reveal() }),
          },
        }),
  };
}
