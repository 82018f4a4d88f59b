import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { Secret } from './secret.ts';

/** The environment as handed over by an entry point (only `src/bin/` reads `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** gridstream's configuration: typed, validated and frozen. */
export interface Config {
  /** `GRIDSTREAM_DATA_DIR`: where embedded state (PGlite, embedded log, job state) lives. @default `./.gridstream` */
  readonly dataDir: string;
  /** `GRIDSTREAM_PORT`: HTTP port of the API and dashboard. @default 8080 */
  readonly port: number;
  /** `GRIDSTREAM_HOST`: interface to listen on. @default `127.0.0.1` */
  readonly host: string;
  /** `GRIDSTREAM_ADMIN_KEY`: the first admin API key; generated and printed once when unset. */
  readonly adminKey: Secret | null;
  /** `GRIDSTREAM_LOG_LEVEL`. @default `info` */
  readonly logLevel: LogLevel;
  /**
   * `GRIDSTREAM_NAMESPACE`: prefixes every topic and consumer group (`<ns>.raw.entsoe`) and puts the tables in
   * schema `<ns>`, so environments can share one Kafka cluster and one database. @default none
   */
  readonly namespace: string | null;
  /** `GRIDSTREAM_PUBLIC_READ`: anonymous callers may read (open-data demos). @default false */
  readonly publicRead: boolean;
  /** `GRIDSTREAM_RATE_LIMIT_PER_MINUTE`: requests per minute of an API key without its own limit. @default 600 */
  readonly rateLimitPerMinute: number;
  /** `GRIDSTREAM_METRICS_PORT`: /metrics for processes without the api role. @default none */
  readonly metricsPort: number | null;
  /** `GRIDSTREAM_INGEST_PORT`: HTTP port of the ingest role's input gateway. @default 8081 */
  readonly ingestPort: number;
  /** `GRIDSTREAM_REPLAY_INTERVAL_MS`: pause between bundled documents in offline replay. @default 5000 */
  readonly replayIntervalMs: number | null;
  /** `GRIDSTREAM_SCHEDULER_CONFIG`: path of a JSON file with the scheduler's jobs, zones and limits. */
  readonly schedulerConfigFile: string | null;
  /** `ELECTRICITYMAPS_TOKENS_FILE`: path of a JSON file mapping Electricity Maps zones to tokens. */
  readonly electricityMapsTokensFile: string | null;
  /** `GRIDSTREAM_SHUTDOWN_GRACE_MS`: how long a graceful stop may take before in-flight work is abandoned. @default 30 000 */
  readonly shutdownGraceMs: number;
  /** `GRIDSTREAM_MQTT_URL`: MQTT broker the ingest role subscribes to (credentials allowed); unset means HTTP only. */
  readonly mqttUrl: Secret | null;
  /** `GRIDSTREAM_MQTT_TOPIC`: topic filter devices publish readings to. @default `gridstream/meters/#` */
  readonly mqttTopic: string;
  /** `DATABASE_URL`: PostgreSQL connection string; unset means embedded PGlite. */
  readonly databaseUrl: Secret | null;
  /** `KAFKA_BROKERS`: comma-separated `host:port` list; unset means the embedded log. */
  readonly kafkaBrokers: readonly string[] | null;
  readonly entsoe: {
    /** `ENTSOE_TOKEN`: Transparency Platform security token; unset means offline replay of bundled documents. */
    readonly token: Secret | null;
    /** `ENTSOE_BASE_URL`. @default `https://web-api.tp.entsoe.eu/api` */
    readonly baseUrl: string;
  };
  readonly electricityMaps: {
    /** `ELECTRICITYMAPS_TOKEN`. */
    readonly token: Secret | null;
    /** `ELECTRICITYMAPS_BASE_URL`. @default `https://api.electricitymap.org` */
    readonly baseUrl: string;
  };
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'expected an http(s) URL')
  .transform((s) => s.replace(/\/+$/, ''));

const mqttUrl = z
  .string()
  .refine(
    (s) => URL.canParse(s) && /^(mqtts?|wss?):$/.test(new URL(s).protocol),
    'expected an mqtt://, mqtts://, ws:// or wss:// URL',
  );

/** An MQTT topic filter: `+` and `#` only as whole levels, `#` last, not a `$` system topic. */
const mqttTopicFilter = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => {
    const levels = s.split('/');
    return (
      !s.startsWith('$') &&
      !s.includes(String.fromCharCode(0)) &&
      levels.every((l, i) => (l === '#' ? i === levels.length - 1 : l === '+' || !/[#+]/.test(l)))
    );
  }, 'expected an MQTT topic filter (+ and # only as whole levels, # last, not starting with $)');

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected an integer port number')
  .min(0, 'expected a port number between 0 and 65535')
  .max(65535, 'expected a port number between 0 and 65535');

const postgresUrl = z
  .string()
  .refine(
    (s) => URL.canParse(s) && /^postgres(ql)?:$/.test(new URL(s).protocol),
    'expected a postgres:// or postgresql:// URL',
  );

const brokerList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== ''),
  )
  .refine((list) => list.length > 0, 'expected at least one host:port')
  .refine(
    (list) => list.every((b) => /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)),
    'expected host:port[,host:port…]',
  );

const token = z.string().min(8, 'expected a token of at least 8 characters').regex(/^\S+$/, 'must not contain spaces');

/**
 * Builds the configuration from an environment. Every wrong variable is reported at once, by name; secret values
 * are never echoed.
 * @throws ConfigError
 */
export function loadConfig(env: Env): Config {
  const problems: { variable: string; message: string }[] = [];
  function read<T>(variable: string, schema: z.ZodType<T>, fallback: T, secret = false): T {
    const raw = nonEmpty(env[variable]);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const message = result.error.issues[0]?.message ?? 'invalid value';
    problems.push({ variable, message: secret ? message : `${message} (got ${JSON.stringify(raw)})` });
    return fallback;
  }
  const secretOf = (variable: string, schema: z.ZodType<string>): Secret | null => {
    const value = read<string | null>(variable, schema, null, true);
    return value === null ? null : new Secret(value);
  };

  const config: Config = {
    dataDir: read('GRIDSTREAM_DATA_DIR', z.string(), './.gridstream'),
    port: read('GRIDSTREAM_PORT', port, 8080),
    host: read('GRIDSTREAM_HOST', z.string().regex(/^[\w.:-]+$/, 'expected a host name or IP address'), '127.0.0.1'),
    adminKey: secretOf(
      'GRIDSTREAM_ADMIN_KEY',
      z.string().min(16, 'expected at least 16 characters').regex(/^\S+$/, 'must not contain spaces'),
    ),
    logLevel: read(
      'GRIDSTREAM_LOG_LEVEL',
      z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }),
      'info',
    ),
    namespace: read<string | null>(
      'GRIDSTREAM_NAMESPACE',
      z
        .string()
        .regex(
          /^[a-z][a-z0-9_]{0,39}$/,
          'expected a lower-case identifier (letters, digits, _), at most 40 characters',
        ),
      null,
    ),
    publicRead: read(
      'GRIDSTREAM_PUBLIC_READ',
      z
        .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
        .transform((v) => v === 'true' || v === '1'),
      false,
    ),
    rateLimitPerMinute: read(
      'GRIDSTREAM_RATE_LIMIT_PER_MINUTE',
      z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(1).max(10_000_000),
      600,
    ),
    ingestPort: read('GRIDSTREAM_INGEST_PORT', port, 8081),
    metricsPort: read<number | null>('GRIDSTREAM_METRICS_PORT', port, null),
    replayIntervalMs: read<number | null>(
      'GRIDSTREAM_REPLAY_INTERVAL_MS',
      z.coerce.number({ message: 'expected milliseconds' }).int().min(10).max(86_400_000),
      null,
    ),
    schedulerConfigFile: read<string | null>('GRIDSTREAM_SCHEDULER_CONFIG', z.string().min(1), null),
    electricityMapsTokensFile: read<string | null>('ELECTRICITYMAPS_TOKENS_FILE', z.string().min(1), null),
    shutdownGraceMs: read(
      'GRIDSTREAM_SHUTDOWN_GRACE_MS',
      z.coerce.number({ message: 'expected milliseconds' }).int('expected whole milliseconds').min(0).max(3_600_000),
      30_000,
    ),
    mqttUrl: secretOf('GRIDSTREAM_MQTT_URL', mqttUrl),
    mqttTopic: read('GRIDSTREAM_MQTT_TOPIC', mqttTopicFilter, 'gridstream/meters/#'),
    databaseUrl: secretOf('DATABASE_URL', postgresUrl),
    kafkaBrokers: read<readonly string[] | null>('KAFKA_BROKERS', brokerList, null),
    entsoe: {
      token: secretOf('ENTSOE_TOKEN', token),
      baseUrl: read('ENTSOE_BASE_URL', httpUrl, 'https://web-api.tp.entsoe.eu/api'),
    },
    electricityMaps: {
      token: secretOf('ELECTRICITYMAPS_TOKEN', token),
      baseUrl: read('ELECTRICITYMAPS_BASE_URL', httpUrl, 'https://api.electricitymap.org'),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/**
 * Every secret of a configuration, for log redaction and dead-letter scrubbing: the tokens, the admin key, the
 * database and MQTT URLs, and those URLs' passwords on their own (as written and percent-decoded), since an error
 * may quote a password without its URL.
 */
export function configSecrets(config: Config): Secret[] {
  const secrets = [
    config.entsoe.token,
    config.electricityMaps.token,
    config.adminKey,
    config.databaseUrl,
    config.mqttUrl,
  ];
  const out = secrets.filter((s) => s !== null);
  for (const url of [config.databaseUrl, config.mqttUrl]) {
    if (url === null || !URL.canParse(url.reveal())) continue;
    const password = new URL(url.reveal()).password;
    if (password === '') continue;
    out.push(new Secret(password));
    try {
      out.push(new Secret(decodeURIComponent(password)));
    } catch {
      // Not valid percent-encoding: the password as written is all there is.
    }
  }
  return out;
}

/** The environment variables gridstream reads, for `--help` and the README. */
export const CONFIG_VARIABLES = [
  ['GRIDSTREAM_DATA_DIR', './.gridstream', 'Where embedded state lives (PGlite database, embedded log, job state).'],
  ['GRIDSTREAM_PORT', '8080', 'HTTP port of the API, dashboard and /metrics.'],
  ['GRIDSTREAM_HOST', '127.0.0.1', 'Interface the HTTP server listens on (0.0.0.0 for all).'],
  [
    'GRIDSTREAM_ADMIN_KEY',
    '(generated)',
    'First admin API key; when unset one is generated at first start and printed once.',
  ],
  ['GRIDSTREAM_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent.'],
  [
    'GRIDSTREAM_NAMESPACE',
    '(none)',
    'Prefix of topics and consumer groups and database schema, to share Kafka and PostgreSQL between environments.',
  ],
  [
    'GRIDSTREAM_SHUTDOWN_GRACE_MS',
    '30000',
    'Longest graceful stop (finish in-flight batches, commit) before giving up.',
  ],
  [
    'GRIDSTREAM_MQTT_URL',
    '(none)',
    'MQTT broker the ingest role subscribes to for device readings, e.g. mqtt://user:pass@127.0.0.1:1883.',
  ],
  ['GRIDSTREAM_MQTT_TOPIC', 'gridstream/meters/#', 'Topic filter devices publish readings (JSON or NDJSON) to.'],
  ['DATABASE_URL', '(embedded PGlite)', 'PostgreSQL connection string, e.g. postgres://user@host:5432/db.'],
  ['KAFKA_BROKERS', '(embedded log)', 'Comma-separated Kafka bootstrap servers, e.g. 127.0.0.1:9092.'],
  ['ENTSOE_TOKEN', '(offline replay)', 'ENTSO-E Transparency Platform security token.'],
  [
    'ENTSOE_BASE_URL',
    'https://web-api.tp.entsoe.eu/api',
    'ENTSO-E API base URL (point it at a mirror or a test server).',
  ],
  ['ELECTRICITYMAPS_TOKEN', '(disabled)', 'Electricity Maps API token.'],
  ['ELECTRICITYMAPS_BASE_URL', 'https://api.electricitymap.org', 'Electricity Maps API base URL.'],
] as const;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof Secret)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
