import { z } from 'zod';
import { Secret } from './secret.ts';
import type { ReadTextFile } from './secret-files.ts';
import type { Variable } from './variable.ts';
import { variable } from './variable.ts';

/** SASL mechanisms gridstream offers for Kafka (those @platformatic/kafka implements without a custom plug-in). */
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** How gridstream authenticates to Kafka and which certificates it trusts (all read from files by the loader). */
export interface KafkaSecurity {
  /** `KAFKA_SASL_*`: SASL credentials; `null` connects without SASL. */
  readonly sasl: {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly password: Secret;
  } | null;
  /** `KAFKA_TLS*`: TLS to the brokers; `null` is plaintext. */
  readonly tls: {
    /** PEM of the CA certificates the brokers' certificates must chain to; `null` trusts Node's bundled CAs. */
    readonly ca: string | null;
    /** PEM client certificate and key (mutual TLS); both or neither. */
    readonly cert: string | null;
    readonly key: Secret | null;
  } | null;
}

/** Secure transport settings of the services gridstream connects to (Kafka, MQTT; PostgreSQL takes its URL). */
export interface TransportSettings {
  readonly kafka: KafkaSecurity;
  /** `GRIDSTREAM_MQTT_CA_FILE`: PEM of the CA certificates an `mqtts://`/`wss://` broker must chain to. */
  readonly mqttCa: string | null;
}

const path = z
  .string()
  .min(1)
  .refine((p) => !Array.from(p, (c) => c.charCodeAt(0)).some((code) => code < 32), 'expected a file path');

/** Text without control characters (a stray NUL or newline is a copy-paste accident, not a credential). */
const printable = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (v) => !Array.from(v, (c) => c.charCodeAt(0)).some((code) => code < 32 || code === 127),
    'must not contain control characters',
  );

const onOff = z
  .enum(['true', 'false', '1', '0', 'on', 'off'], { message: 'expected on or off' })
  .transform((v) => v === 'true' || v === '1' || v === 'on');

const file = (name: string, description: string, shown = 'none'): Variable<string | null> =>
  variable<string | null>({ name, schema: path, fallback: null, shown, description });

/** The transport settings' declarations (part of `VARIABLES`, in this order). */
export const TRANSPORT_VARIABLES = {
  kafkaSaslMechanism: variable<KafkaSaslMechanism | null>({
    name: 'KAFKA_SASL_MECHANISM',
    schema: z.enum(KAFKA_SASL_MECHANISMS, { message: `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }),
    fallback: null,
    shown: 'none',
    description:
      'SASL mechanism for Kafka: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (with `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`; use it with `KAFKA_TLS`, or PLAIN sends the password in the clear). Unset: no SASL.',
  }),
  kafkaSaslUsername: variable<string | null>({
    name: 'KAFKA_SASL_USERNAME',
    schema: printable,
    fallback: null,
    shown: 'none',
    description: 'SASL user name for Kafka (Confluent Cloud: the API key).',
  }),
  kafkaSaslPassword: variable<Secret | null>({
    name: 'KAFKA_SASL_PASSWORD',
    schema: printable.transform((v) => new Secret(v)),
    fallback: null,
    shown: 'none',
    description: 'SASL password for Kafka (Confluent Cloud: the API secret); never logged.',
    secret: true,
  }),
  kafkaTls: variable<boolean | null>({
    name: 'KAFKA_TLS',
    schema: onOff,
    fallback: null,
    shown: 'off (on with a CA or client certificate)',
    description:
      'TLS to the Kafka brokers (`on`/`off`); brokers are verified against `KAFKA_TLS_CA_FILE`, or the CAs Node trusts when unset, and must name their host in their certificate.',
  }),
  kafkaTlsCaFile: file(
    'KAFKA_TLS_CA_FILE',
    "PEM file of the CA certificates the Kafka brokers' certificates must chain to (a private CA); turns TLS on.",
    "Node's CAs",
  ),
  kafkaTlsCertFile: file(
    'KAFKA_TLS_CERT_FILE',
    'PEM client certificate for Kafka brokers that require mutual TLS (with `KAFKA_TLS_KEY_FILE`); turns TLS on.',
  ),
  kafkaTlsKeyFile: file(
    'KAFKA_TLS_KEY_FILE',
    'PEM private key of `KAFKA_TLS_CERT_FILE` (unencrypted; mount it as a secret); read once at start, never logged.',
  ),
  mqttCaFile: file(
    'GRIDSTREAM_MQTT_CA_FILE',
    "PEM file of the CA certificates an `mqtts://` or `wss://` broker's certificate must chain to (a private CA); unset trusts the CAs Node trusts.",
    "Node's CAs",
  ),
} as const;

/**
 * Reads the transport settings with the loader's `read`, reading the certificate files named. Every problem (a
 * missing partner variable, an unreadable file) goes to `problem`; none carries a secret value.
 */
export function readTransportSettings(
  read: <T>(v: Variable<T>) => T,
  problem: (variable: string, message: string) => void,
  readFile: ReadTextFile,
  env: Readonly<Record<string, string | undefined>>,
): TransportSettings {
  const mqttUrl = env['GRIDSTREAM_MQTT_URL'];
  checkDatabaseTlsFiles(env['DATABASE_URL'], problem, readFile);
  const V = TRANSPORT_VARIABLES;
  const pem = (v: Variable<string | null>, p: string | null): string | null => {
    if (p === null) return null;
    try {
      const text = readFile(p);
      if (!text.includes('-----BEGIN ')) problem(v.name, `${JSON.stringify(p)} is not a PEM file`);
      return text;
    } catch (error) {
      const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error';
      problem(v.name, `cannot read ${JSON.stringify(p)} (${code})`);
      return null;
    }
  };

  const mechanism = read(V.kafkaSaslMechanism);
  const username = read(V.kafkaSaslUsername);
  const password = read(V.kafkaSaslPassword);
  let sasl: KafkaSecurity['sasl'] = null;
  if (mechanism !== null) {
    if (username === null) problem(V.kafkaSaslUsername.name, `required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (password === null)
      problem(
        V.kafkaSaslPassword.name,
        `required with KAFKA_SASL_MECHANISM=${mechanism} (or KAFKA_SASL_PASSWORD_FILE naming a file holding it)`,
      );
    if (username !== null && password !== null) sasl = { mechanism, username, password };
  } else if (username !== null || password !== null) {
    problem(V.kafkaSaslMechanism.name, 'required when a SASL user name or password is given');
  }

  const tlsFlag = read(V.kafkaTls);
  const caFile = read(V.kafkaTlsCaFile);
  const certFile = read(V.kafkaTlsCertFile);
  const keyFile = read(V.kafkaTlsKeyFile);
  const ca = pem(V.kafkaTlsCaFile, caFile);
  const cert = pem(V.kafkaTlsCertFile, certFile);
  const keyText = pem(V.kafkaTlsKeyFile, keyFile);
  const key = keyText === null ? null : new Secret(keyText);
  if ((certFile === null) !== (keyFile === null))
    problem(
      certFile === null ? V.kafkaTlsCertFile.name : V.kafkaTlsKeyFile.name,
      'a client certificate needs its key, and a key its certificate',
    );
  const wantsTls = caFile !== null || certFile !== null || keyFile !== null;
  if (tlsFlag === false && wantsTls)
    problem(V.kafkaTls.name, 'is off, yet a CA or client certificate is given (KAFKA_TLS_*_FILE)');
  const tls = tlsFlag === true || (tlsFlag === null && wantsTls) ? { ca, cert, key } : null;

  const mqttCa = pem(V.mqttCaFile, read(V.mqttCaFile));
  if (mqttCa !== null && mqttUrl !== undefined && URL.canParse(mqttUrl.trim())) {
    const protocol = new URL(mqttUrl.trim()).protocol;
    if (protocol !== 'mqtts:' && protocol !== 'wss:')
      problem(V.mqttCaFile.name, 'needs an mqtts:// or wss:// GRIDSTREAM_MQTT_URL (it is only used over TLS)');
  }
  return { kafka: { sasl, tls }, mqttCa };
}

/**
 * node-postgres reads the files a `DATABASE_URL` names (`sslrootcert`, `sslcert`, `sslkey`) only when it opens a
 * connection, and a missing one would then look like an unreachable server (retried forever). Checked here instead:
 * a file that cannot be read is a configuration error naming the parameter and path (never the URL, a secret).
 */
function checkDatabaseTlsFiles(
  url: string | undefined,
  problem: (variable: string, message: string) => void,
  readFile: ReadTextFile,
): void {
  if (url === undefined || !URL.canParse(url.trim())) return;
  const params = new URL(url.trim()).searchParams;
  for (const name of ['sslrootcert', 'sslcert', 'sslkey']) {
    const p = params.get(name);
    if (p === null || p === '') continue;
    try {
      readFile(p);
    } catch (error) {
      const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error';
      problem('DATABASE_URL', `cannot read its ${name} ${JSON.stringify(p)} (${code})`);
    }
  }
}
