import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { z } from 'zod';
import { backoffDelay, sleep } from '../common/index.ts';

const gzipAsync = promisify(gzip);

/** Where simulated readings go: an NDJSON body per batch. */
export interface ReadingSink {
  /** Sends one batch of NDJSON lines; resolves to how many the target accepted and refused. */
  send(lines: readonly string[], signal: AbortSignal): Promise<{ accepted: number; rejected: number }>;
  close(): Promise<void>;
}

/** A send that failed for good (after retries, or refused by the target). */
export class SendError extends Error {}

const IngestAnswerSchema = z.object({ accepted: z.number().int(), rejected: z.number().int() });

/** HTTP statuses worth retrying: overload, unavailability, gateway trouble. */
const RETRY_STATUS = new Set([408, 429, 502, 503, 504]);

/**
 * Posts each batch gzip-compressed to the ingest gateway (`POST <url>`, normally `…/ingest/meters`) with the
 * API key as a bearer token; retries overload and network failures up to `attempts` times with backoff.
 */
export function httpSink(
  url: string,
  options: { readonly key?: string; readonly attempts?: number } = {},
): ReadingSink {
  const attempts = options.attempts ?? 6;
  return {
    async send(lines, signal) {
      const body = await gzipAsync(Buffer.from(`${lines.join('\n')}\n`));
      for (let attempt = 1; ; attempt++) {
        let problem: string;
        try {
          const response = await fetch(url, {
            method: 'POST',
            body,
            signal,
            headers: {
              'content-type': 'application/x-ndjson',
              'content-encoding': 'gzip',
              ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }),
            },
          });
          const text = await response.text();
          if (response.ok) {
            const answer = IngestAnswerSchema.safeParse(JSON.parse(text));
            if (!answer.success) throw new SendError(`unexpected answer from ${url}: ${text.slice(0, 200)}`);
            return answer.data;
          }
          problem = `HTTP ${response.status}: ${text.slice(0, 200)}`;
          if (!RETRY_STATUS.has(response.status)) throw new SendError(problem);
        } catch (error) {
          if (error instanceof SendError || signal.aborted) throw error;
          problem = error instanceof Error ? error.message : String(error);
        }
        if (attempt >= attempts) throw new SendError(`gave up after ${attempt} attempts: ${problem}`);
        if (!(await sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 5_000 }), { signal }))) signal.throwIfAborted();
      }
    },
    async close() {
      // fetch keeps no state to close
    },
  };
}

/**
 * Publishes each batch as one MQTT message (QoS 1, NDJSON) to `<topic>`, which the ingest role's subscription
 * (`GRIDSTREAM_MQTT_TOPIC`, default `gridstream/meters/#`) must match. The broker's acknowledgement is all the
 * answer there is: every line counts as accepted.
 */
export async function mqttSink(
  url: string,
  options: { readonly topic: string; readonly username?: string; readonly password?: string },
): Promise<ReadingSink> {
  const client = await connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 1_000,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  let closed = false;
  return {
    async send(lines, signal) {
      signal.throwIfAborted();
      await client.publishAsync(options.topic, `${lines.join('\n')}\n`, { qos: 1 });
      return { accepted: lines.length, rejected: 0 };
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.endAsync();
    },
  };
}
