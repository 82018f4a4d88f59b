import type { Config } from './config.ts';
import { Secret } from './secret.ts';

/**
 * Every secret of a configuration, for log redaction and dead-letter scrubbing: the tokens, the admin key, the
 * Kafka SASL password and TLS client key, the database and MQTT URLs, and those URLs' passwords on their own (as written and percent-decoded), since an error
 * may quote a password without its URL.
 */
export function configSecrets(config: Config): Secret[] {
  const secrets = [
    config.entsoe.token,
    config.electricityMaps.token,
    config.adminKey,
    config.databaseUrl,
    config.mqttUrl,
    config.transport.kafka.sasl?.password ?? null,
    config.transport.kafka.tls?.key ?? null,
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
