import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { MeterSettings } from './meter-variables.ts';
import { METER_VARIABLES, readMeterSettings } from './meter-variables.ts';
import type { AlertSettings } from './alert-variables.ts';
import { ALERT_VARIABLES, readAlertSettings } from './alert-variables.ts';
import type { GapSettings } from './gap-variables.ts';
import { GAP_VARIABLES, readGapSettings } from './gap-variables.ts';
import { Secret } from './secret.ts';
import type { ReadTextFile } from './secret-files.ts';
import { fileVariableOf, readTextFile, withSecretFiles } from './secret-files.ts';
import type { TransportSettings } from './transport-variables.ts';
import { TRANSPORT_VARIABLES, readTransportSettings } from './transport-variables.ts';
import type { Variable } from './variable.ts';
import { milliseconds, variable } from './variable.ts';

/** The environment as handed over by an entry point (only `src/bin/` reads `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How logs are written: `auto` is pretty on a terminal and JSON otherwise. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  /** `GRIDSTREAM_LOG_FORMAT`. @default `auto` (pretty on a terminal, JSON otherwise) */
  readonly logFormat: LogFormat;
  /**
   * `GRIDSTREAM_NAMESPACE`: prefixes every topic and consumer group (`<ns>.raw.entsoe`) and puts the tables in
   * schema `<ns>`, so environments can share one Kafka cluster and one database. @default none
   */
  readonly namespace: string | null;
  /** `GRIDSTREAM_PUBLIC_READ`: anonymous callers may read (open-data demos). @default false */
  readonly publicRead: boolean;
  /** `GRIDSTREAM_RATE_LIMIT_PER_MINUTE`: requests per minute of an API key without its own limit. @default 600 */
  readonly rateLimitPerMinute: number;
  /**
   * `GRIDSTREAM_TRUSTED_PROXIES`: addresses of reverse proxies whose `X-Forwarded-For` names the client (for the
   * failed-key throttle and anonymous rate limits). @default none: the socket's peer is the client
   */
  readonly trustedProxies: readonly string[];
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
  /** Device input limits and the rules a reading must meet to be taken in unaltered. */
  readonly ingest: {
    /** `GRIDSTREAM_INGEST_MAX_BODY_BYTES`: largest request body read (as sent). @default 8 MiB */
    readonly maxBodyBytes: number;
    /** `GRIDSTREAM_INGEST_GZIP_MAX_BYTES`: largest gzip body once decompressed. @default 64 MiB */
    readonly maxDecodedBytes: number;
    /** `GRIDSTREAM_INGEST_CONCURRENCY`: request bodies read and parsed at once; others wait. @default 4 */
    readonly concurrency: number;
    /** `GRIDSTREAM_READINGS_EARLIEST`: readings timed before this are refused. @default `2000-01-01T00:00:00Z` */
    readonly earliestReading: string;
    /** `GRIDSTREAM_READINGS_MAX_AHEAD_MS`: readings timed further after receipt are refused. @default 86 400 000 */
    readonly maxAheadMs: number;
  };
  /** `DATABASE_URL`: PostgreSQL connection string; unset means embedded PGlite. */
  readonly databaseUrl: Secret | null;
  /** `KAFKA_BROKERS`: comma-separated `host:port` list; unset means the embedded log. */
  readonly kafkaBrokers: readonly string[] | null;
  /** `GRIDSTREAM_INSTANCE_ID`: this worker's stable id for Kafka static group membership (`@hostname` resolved); unset means dynamic membership. */
  readonly instanceId: string | null;
  /**
   * `GRIDSTREAM_LOG_ON_CORRUPTION`: what quarantined corruption in the embedded log does until an operator
   * acknowledges it: `halt-readiness` (/readyz 503) or `continue`. @default `halt-readiness`
   */
  readonly logOnCorruption: 'halt-readiness' | 'continue';
  /** `GRIDSTREAM_DLQ_RETENTION_BYTES`: most bytes a dead-letter topic keeps per partition. @default 1 GiB */
  readonly dlqRetentionBytes: number;
  /** `GRIDSTREAM_DLQ_RETENTION_MS`: how long dead letters are kept. @default 30 days */
  readonly dlqRetentionMs: number;
  /** Kafka SASL/TLS and the MQTT broker's CA (the certificate files already read). */
  readonly transport: TransportSettings;
  /** The `meters` role and the embedded demo fleet. */
  readonly meters: MeterSettings;
  /** The `alerts` role: detector settings and webhook delivery. */
  readonly alerts: AlertSettings;
  /** Self-healing completeness: gap search and targeted requests (scheduler role, live mode). */
  readonly gaps: GapSettings;
  readonly entsoe: {
    /** `ENTSOE_TOKEN`: Transparency Platform security token; unset means offline replay of bundled documents. */
    readonly token: Secret | null;
    /** `ENTSOE_BASE_URL`. @default `https://web-api.tp.entsoe.eu/api` */
    readonly baseUrl: string;
    /** `ENTSOE_MAX_STEPS_PER_DOCUMENT`: steps (or quarter hours) one document may expand to. @default 2 000 000 */
    readonly maxStepsPerDocument: number;
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

const secret = (name: string, schema: z.ZodType<string>, shown: string, description: string): Variable<Secret | null> =>
  variable<Secret | null>({
    name,
    schema: schema.transform((v) => new Secret(v)),
    fallback: null,
    shown,
    description,
    secret: true,
  });
const MIN_KEY_LENGTH = 32;
const MIN_KEY_DISTINCT = 10;
const MIN_KEY_BITS = 128;

/**
 * Whether a key given by environment is strong enough: long, varied, and about 128 bits by a conservative estimate
 * (length × log2 of the alphabet its character classes span — lower case, upper case, digits, others).
 */
export function strongKey(key: string): boolean {
  if (key.length < MIN_KEY_LENGTH || new Set(key).size < MIN_KEY_DISTINCT) return false;
  const alphabet =
    (/[a-z]/.test(key) ? 26 : 0) +
    (/[A-Z]/.test(key) ? 26 : 0) +
    (/\d/.test(key) ? 10 : 0) +
    (/[^a-zA-Z\d]/.test(key) ? 33 : 0);
  return key.length * Math.log2(alphabet) >= MIN_KEY_BITS;
}

/** A file or directory path (relative to the working directory). */
const path = z
  .string()
  .min(1)
  .refine((s) => !s.includes(String.fromCharCode(0)), 'expected a path (no NUL characters)');
const bytes = z.coerce
  .number({ message: 'expected a number of bytes' })
  .int('expected whole bytes')
  .min(1024)
  .max(4 * 1024 * 1024 * 1024);

/** Every environment variable gridstream reads, in the order `--help` and the README list them. */
export const VARIABLES = {
  dataDir: variable({
    name: 'GRIDSTREAM_DATA_DIR',
    schema: path,
    fallback: './.gridstream',
    shown: './.gridstream',
    description: 'Where embedded state lives (PGlite database, embedded log, job state, the control socket).',
  }),
  port: variable({
    name: 'GRIDSTREAM_PORT',
    schema: port,
    fallback: 8080,
    shown: '8080',
    description: 'HTTP port of the API, dashboard, /metrics, /healthz and /readyz.',
  }),
  host: variable({
    name: 'GRIDSTREAM_HOST',
    schema: z.string().regex(/^[\w.:-]+$/, 'expected a host name or IP address'),
    fallback: '127.0.0.1',
    shown: '127.0.0.1',
    description: 'Interface the HTTP servers listen on (`0.0.0.0` for all).',
  }),
  adminKey: secret(
    'GRIDSTREAM_ADMIN_KEY',
    z
      .string()
      .regex(/^\S+$/, 'must not contain spaces')
      .refine(
        strongKey,
        `too weak: an API key needs at least ${MIN_KEY_LENGTH} characters, ${MIN_KEY_DISTINCT} of them different, and about ${MIN_KEY_BITS} bits (make one with \`openssl rand -base64 32\`)`,
      ),
    'generated',
    'Admin API key (at least 32 characters and about 128 bits, e.g. `openssl rand -base64 32`); kept as a key only while set — unset on a later start, its key is revoked (give every API process of a deployment the same value). When never set, one is generated at first start and printed once.',
  ),
  logLevel: variable<LogLevel>({
    name: 'GRIDSTREAM_LOG_LEVEL',
    schema: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }),
    fallback: 'info',
    shown: 'info',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  }),
  logFormat: variable<LogFormat>({
    name: 'GRIDSTREAM_LOG_FORMAT',
    schema: z.enum(LOG_FORMATS, { message: `expected one of ${LOG_FORMATS.join(', ')}` }),
    fallback: 'auto',
    shown: 'auto',
    description:
      '`pretty` (short coloured lines), `json` (one JSON object per line) or `auto`: pretty on a terminal, JSON otherwise.',
  }),
  namespace: variable<string | null>({
    name: 'GRIDSTREAM_NAMESPACE',
    schema: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected a lower-case identifier (letters, digits, _), at most 40 characters'),
    fallback: null,
    shown: 'none',
    description:
      'Prefix of every topic and consumer group (`<ns>.raw.entsoe`) and the database schema holding the tables, so that several environments share one Kafka cluster and one database.',
  }),
  publicRead: variable({
    name: 'GRIDSTREAM_PUBLIC_READ',
    schema: z
      .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
      .transform((v) => v === 'true' || v === '1'),
    fallback: false,
    shown: 'false',
    description:
      'Anonymous callers may read (reader role, all zones), and the dashboard opens without a key: for open-data demos.',
  }),
  rateLimitPerMinute: variable({
    name: 'GRIDSTREAM_RATE_LIMIT_PER_MINUTE',
    schema: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(1).max(10_000_000),
    fallback: 600,
    shown: '600',
    description: 'Requests per minute of an API key without its own limit; beyond it 429 with `Retry-After`.',
  }),
  trustedProxies: variable<readonly string[]>({
    name: 'GRIDSTREAM_TRUSTED_PROXIES',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      )
      .refine((list) => list.every((x) => isIP(x) !== 0), 'expected IP addresses separated by commas'),
    fallback: [],
    shown: 'none',
    description:
      "IP addresses of reverse proxies in front of gridstream, separated by commas: from them, the client is the last `X-Forwarded-For` address that is not a trusted proxy (failed-key throttle, anonymous rate limits). Without it forwarded headers are ignored and the socket's peer is the client.",
  }),
  metricsPort: variable<number | null>({
    name: 'GRIDSTREAM_METRICS_PORT',
    schema: port,
    fallback: null,
    shown: 'none',
    description:
      'Serves `/metrics`, `/healthz` and `/readyz` on this port in processes without the api role (the api role serves them on `GRIDSTREAM_PORT`).',
  }),
  ingestPort: variable({
    name: 'GRIDSTREAM_INGEST_PORT',
    schema: port,
    fallback: 8081,
    shown: '8081',
    description:
      "HTTP port of the ingest role's input gateway (device readings as NDJSON, a JSON array or CSV; also `/healthz`, `/readyz`).",
  }),
  mqttUrl: secret(
    'GRIDSTREAM_MQTT_URL',
    mqttUrl,
    'none',
    'MQTT broker the ingest role subscribes to for device readings, e.g. `mqtt://user:pass@127.0.0.1:1883` (a secret: never logged). Unset: HTTP input only.',
  ),
  mqttTopic: variable({
    name: 'GRIDSTREAM_MQTT_TOPIC',
    schema: mqttTopicFilter,
    fallback: 'gridstream/meters/#',
    shown: 'gridstream/meters/#',
    description:
      'Topic filter devices publish to; each message NDJSON lines or a JSON array of readings. Workers share it (`$share/gridstream/…`).',
  }),
  ingestMaxBodyBytes: variable({
    name: 'GRIDSTREAM_INGEST_MAX_BODY_BYTES',
    schema: bytes,
    fallback: 8 * 1024 * 1024,
    shown: '8388608',
    description:
      'Largest ingest request body, as sent: a longer declared length is refused at once (413), a chunked body as soon as it passes it.',
  }),
  ingestMaxDecodedBytes: variable({
    name: 'GRIDSTREAM_INGEST_GZIP_MAX_BYTES',
    schema: bytes,
    fallback: 64 * 1024 * 1024,
    shown: '67108864',
    description: 'Largest ingest body once decompressed (`Content-Encoding: gzip`); decompression stops past it (413).',
  }),
  ingestConcurrency: variable({
    name: 'GRIDSTREAM_INGEST_CONCURRENCY',
    schema: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(1).max(1024),
    fallback: 4,
    shown: '4',
    description:
      'Ingest request bodies read and parsed at once (bounds their memory); further requests wait their turn.',
  }),
  readingsEarliest: variable({
    name: 'GRIDSTREAM_READINGS_EARLIEST',
    schema: z.iso.datetime({ offset: false }),
    fallback: '2000-01-01T00:00:00Z',
    shown: '2000-01-01T00:00:00Z',
    description: 'Device readings timed before this instant are refused (dead-lettered with their reason).',
  }),
  readingsMaxAheadMs: variable({
    name: 'GRIDSTREAM_READINGS_MAX_AHEAD_MS',
    schema: milliseconds.min(0).max(366 * 86_400_000),
    fallback: 86_400_000,
    shown: '86400000',
    description: 'Device readings timed more than this after their receipt are refused (clock errors).',
  }),
  replayIntervalMs: variable<number | null>({
    name: 'GRIDSTREAM_REPLAY_INTERVAL_MS',
    schema: milliseconds.min(10).max(86_400_000),
    fallback: null,
    shown: '5000',
    description: 'Offline replay: pause between bundled documents.',
  }),
  schedulerConfigFile: variable<string | null>({
    name: 'GRIDSTREAM_SCHEDULER_CONFIG',
    schema: path,
    fallback: null,
    shown: 'defaults',
    description: "JSON file with the scheduler's jobs, zones, document types and request budget.",
  }),
  shutdownGraceMs: variable({
    name: 'GRIDSTREAM_SHUTDOWN_GRACE_MS',
    schema: milliseconds.min(0).max(3_600_000),
    fallback: 30_000,
    shown: '30000',
    description:
      'Longest graceful stop (finish in-flight batches, flush, commit) on SIGTERM/SIGINT; a second signal exits at once.',
  }),
  databaseUrl: secret(
    'DATABASE_URL',
    postgresUrl,
    'embedded PGlite',
    'PostgreSQL connection string, e.g. `postgres://user@host:5432/db`.',
  ),
  kafkaBrokers: variable<readonly string[] | null>({
    name: 'KAFKA_BROKERS',
    schema: brokerList,
    fallback: null,
    shown: 'embedded log',
    description: 'Comma-separated Kafka bootstrap servers, e.g. `127.0.0.1:9092`.',
  }),
  instanceId: variable<string | null>({
    name: 'GRIDSTREAM_INSTANCE_ID',
    schema: z
      .string()
      .transform((v) => (v === '@hostname' ? hostname() : v))
      .refine((v) => /^[A-Za-z0-9._-]{1,200}$/.test(v), 'expected 1 to 200 of A-Z a-z 0-9 . _ - (or @hostname)'),
    fallback: null,
    shown: 'dynamic membership',
    description:
      "This worker's stable id for Kafka static group membership (`group.instance.id`), unique per worker and the same across its restarts, so a restarted worker gets its partitions back at once; `@hostname` takes the host name (stable for a container or a StatefulSet pod). A static member does not leave its groups on stop: one that never returns holds its partitions for the session timeout (30 s).",
  }),
  logOnCorruption: variable<'halt-readiness' | 'continue'>({
    name: 'GRIDSTREAM_LOG_ON_CORRUPTION',
    schema: z.enum(['halt-readiness', 'continue'], { message: 'expected halt-readiness or continue' }),
    fallback: 'halt-readiness',
    shown: 'halt-readiness',
    description:
      'Corruption found in the embedded log is quarantined (valid records kept); until `gridstream log quarantine ack`, `halt-readiness` answers /readyz 503, `continue` only logs and counts it.',
  }),
  dlqRetentionBytes: variable({
    name: 'GRIDSTREAM_DLQ_RETENTION_BYTES',
    schema: z.coerce
      .number({ message: 'expected bytes' })
      .int('expected whole bytes')
      .min(1_048_576)
      .max(2 ** 50),
    fallback: 1_073_741_824,
    shown: '1073741824',
    description:
      'Most bytes each dead-letter topic keeps per partition (1 GiB); the oldest whole segments beyond it are deleted (Kafka `retention.bytes`).',
  }),
  dlqRetentionMs: variable({
    name: 'GRIDSTREAM_DLQ_RETENTION_MS',
    schema: milliseconds.min(60_000),
    fallback: 2_592_000_000,
    shown: '2592000000',
    description: 'How long dead letters are kept (30 days; Kafka `retention.ms`).',
  }),
  entsoeToken: secret('ENTSOE_TOKEN', token, 'offline replay', 'ENTSO-E Transparency Platform security token.'),
  entsoeBaseUrl: variable({
    name: 'ENTSOE_BASE_URL',
    schema: httpUrl,
    fallback: 'https://web-api.tp.entsoe.eu/api',
    shown: 'https://web-api.tp.entsoe.eu/api',
    description: 'ENTSO-E API base URL (a mirror or a test server).',
  }),
  entsoeMaxStepsPerDocument: variable({
    name: 'ENTSOE_MAX_STEPS_PER_DOCUMENT',
    schema: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(1).max(100_000_000),
    fallback: 2_000_000,
    shown: '2000000',
    description:
      'Most steps (or quarter hours, whichever is more) an ENTSO-E document may expand to, counted from its Periods before expanding; a bigger one is dead-lettered as `processing.too_many_steps`.',
  }),
  electricityMapsToken: secret('ELECTRICITYMAPS_TOKEN', token, 'disabled', 'Electricity Maps API token.'),
  electricityMapsTokensFile: variable<string | null>({
    name: 'ELECTRICITYMAPS_TOKENS_FILE',
    schema: path,
    fallback: null,
    shown: 'none',
    description:
      'JSON file mapping Electricity Maps zones to tokens, e.g. `{"DE": "…", "*": "…"}`; overrides `ELECTRICITYMAPS_TOKEN` per zone.',
  }),
  electricityMapsBaseUrl: variable({
    name: 'ELECTRICITYMAPS_BASE_URL',
    schema: httpUrl,
    fallback: 'https://api.electricitymap.org',
    shown: 'https://api.electricitymap.org',
    description: 'Electricity Maps API base URL.',
  }),
  ...TRANSPORT_VARIABLES,
  ...METER_VARIABLES,
  ...ALERT_VARIABLES,
  ...GAP_VARIABLES,
} as const;

/** The declared variables as `[name, default as documented, meaning]`, for `--help` and the README. */
export const CONFIG_VARIABLES: readonly (readonly [name: string, shown: string, description: string])[] = Object.values(
  VARIABLES,
).map((v: Variable<unknown>) => [v.name, v.shown, v.description] as const);

/** `<NAME>_FILE` of every secret variable: a file whose content is the value (container secrets). */
export const SECRET_FILE_VARIABLES: readonly string[] = Object.values(VARIABLES)
  .filter((v: Variable<unknown>) => v.secret === true)
  .map((v: Variable<unknown>) => fileVariableOf(v.name));

/**
 * Builds the configuration from an environment: reads every declared variable (and nothing else), a secret's
 * `<NAME>_FILE` and the certificate files named. Every wrong variable is reported at once, by name; secret values
 * are never echoed.
 * @throws ConfigError
 */
export function loadConfig(given: Env, readFile: ReadTextFile = readTextFile): Config {
  const secrets = Object.values(VARIABLES).filter((v: Variable<unknown>) => v.secret === true);
  const { env, problems } = withSecretFiles(given, secrets, readFile);
  function read<T>(v: Variable<T>): T {
    const raw = nonEmpty(env[v.name]);
    if (raw === undefined) return v.fallback;
    const result = v.schema.safeParse(raw);
    if (result.success) return result.data;
    const message = result.error.issues[0]?.message ?? 'invalid value';
    problems.push({
      variable: v.name,
      message: v.secret === true ? message : `${message} (got ${JSON.stringify(raw)})`,
    });
    return v.fallback;
  }
  const V = VARIABLES;
  const config: Config = {
    dataDir: read(V.dataDir),
    port: read(V.port),
    host: read(V.host),
    adminKey: read(V.adminKey),
    logLevel: read(V.logLevel),
    logFormat: read(V.logFormat),
    namespace: read(V.namespace),
    publicRead: read(V.publicRead),
    rateLimitPerMinute: read(V.rateLimitPerMinute),
    trustedProxies: read(V.trustedProxies),
    metricsPort: read(V.metricsPort),
    ingestPort: read(V.ingestPort),
    replayIntervalMs: read(V.replayIntervalMs),
    schedulerConfigFile: read(V.schedulerConfigFile),
    electricityMapsTokensFile: read(V.electricityMapsTokensFile),
    shutdownGraceMs: read(V.shutdownGraceMs),
    mqttUrl: read(V.mqttUrl),
    mqttTopic: read(V.mqttTopic),
    ingest: {
      maxBodyBytes: read(V.ingestMaxBodyBytes),
      maxDecodedBytes: read(V.ingestMaxDecodedBytes),
      concurrency: read(V.ingestConcurrency),
      earliestReading: read(V.readingsEarliest),
      maxAheadMs: read(V.readingsMaxAheadMs),
    },
    databaseUrl: read(V.databaseUrl),
    kafkaBrokers: read(V.kafkaBrokers),
    instanceId: read(V.instanceId),
    logOnCorruption: read(V.logOnCorruption),
    dlqRetentionBytes: read(V.dlqRetentionBytes),
    dlqRetentionMs: read(V.dlqRetentionMs),
    transport: readTransportSettings(read, (variable, message) => problems.push({ variable, message }), readFile, env),
    meters: readMeterSettings(read),
    alerts: readAlertSettings(read),
    gaps: readGapSettings(read),
    entsoe: {
      token: read(V.entsoeToken),
      baseUrl: read(V.entsoeBaseUrl),
      maxStepsPerDocument: read(V.entsoeMaxStepsPerDocument),
    },
    electricityMaps: { token: read(V.electricityMapsToken), baseUrl: read(V.electricityMapsBaseUrl) },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof Secret)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The README's configuration table, generated from the declarations (a test keeps the README equal to it). */
export function configTableMarkdown(): string {
  // Values are code; words that describe a behaviour (none, generated, embedded log…) are not.
  const code = (text: string): string =>
    /\s/.test(text) || ['none', 'defaults', 'generated', 'disabled'].includes(text) ? text : `\`${text}\``;
  return [
    '| variable | default | meaning |',
    '|---|---|---|',
    ...Object.values(VARIABLES).map(
      (v: Variable<unknown>) =>
        `| \`${v.name}\` | ${code(v.shown)} | ${v.description}${v.secret === true ? ` Or \`${fileVariableOf(v.name)}\`: a file holding it.` : ''} |`,
    ),
  ].join('\n');
}
