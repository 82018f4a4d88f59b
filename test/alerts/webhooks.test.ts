import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import {
  createWebhookRule,
  listWebhookDeliveries,
  originOf,
  queueWebhookDeliveries,
  setWebhookAllowlist,
  signWebhook,
  verifyWebhook,
  webhookSender,
} from '../../src/alerts/index.ts';
import type { SqlQueryable } from '../../src/common/index.ts';
import type { AlertEvent, DeadLetter, Detector, Severity } from '../../src/contracts/index.ts';
import { AlertEventSchema, MemoryPublisher } from '../../src/contracts/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import type { Metrics } from '../../src/observability/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { openDb } from '../../src/storage/index.ts';
import { openTestDb } from '../storage/helpers.ts';

/** One request a receiver saw. */
interface Hit {
  readonly path: string;
  readonly eventId: string;
  readonly signature: string;
  readonly verified: boolean;
  readonly answered: number | 'hang' | 'destroyed';
}

type Answer = number | 'hang' | 'destroyed';

/** A local HTTP receiver: verifies every signature with the secret of its path and answers as `decide` says. */
class Receiver {
  readonly hits: Hit[] = [];
  /** path → event ids answered 2xx, and how many times each. */
  readonly delivered = new Map<string, Map<string, number>>();
  readonly secrets = new Map<string, string>();
  readonly #server: Server;
  readonly #decide: (path: string, eventId: string, attempt: number) => Answer;
  readonly #attempts = new Map<string, number>();

  private constructor(server: Server, decide: (path: string, eventId: string, attempt: number) => Answer) {
    this.#server = server;
    this.#decide = decide;
  }

  static async start(decide: (path: string, eventId: string, attempt: number) => Answer): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server, decide);
    server.on('request', (req, res) => {
      void receiver.#handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get origin(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  count(path?: string): number {
    return this.hits.filter((h) => path === undefined || h.path === path).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const eventId = String(req.headers['x-gridstream-event-id']);
    const signature = String(req.headers['x-gridstream-signature']);
    const verified =
      req.method === 'POST' &&
      req.headers['content-type'] === 'application/json' &&
      verifyWebhook({
        secret: this.secrets.get(path) ?? '',
        timestamp: req.headers['x-gridstream-timestamp'] as string | undefined,
        body,
        signature,
      }) &&
      (JSON.parse(body) as { event_id: string }).event_id === eventId;
    const key = `${path} ${eventId}`;
    const attempt = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempt);
    const answer = this.#decide(path, eventId, attempt);
    this.hits.push({ path, eventId, signature, verified, answered: answer });
    if (answer === 'hang') return; // never answers: the sender's timeout ends it
    if (answer === 'destroyed') {
      req.socket.destroy();
      return;
    }
    if (answer >= 200 && answer < 300) {
      const seen = this.delivered.get(path) ?? new Map<string, number>();
      seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
      this.delivered.set(path, seen);
    }
    res.writeHead(answer, answer === 302 ? { location: `${redirectTarget}/stolen` } : {});
    res.end(answer >= 200 && answer < 300 ? 'ok' : 'no');
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}

let redirectTarget = 'http://127.0.0.1:9';

/** A seeded, deterministic number in [0, n) for a key (the receivers' misbehaviour does not depend on timing). */
function seeded(key: string, n: number): number {
  return createHash('sha256').update(`seed-7:${key}`).digest().readUInt32BE(0) % n;
}

interface TestAlert {
  readonly detector: Detector;
  readonly severity: Severity;
  readonly zone: string | null;
  readonly group: string | null;
}

const ALERTS: readonly TestAlert[] = [
  { detector: 'meter_outage', severity: 'warning', zone: 'FI', group: 'g1' },
  { detector: 'price_negative', severity: 'info', zone: 'NL', group: null },
  { detector: 'price_extreme', severity: 'critical', zone: 'FI', group: null },
  { detector: 'meter_tamper', severity: 'critical', zone: 'DE_LU', group: 'g2' },
  { detector: 'idle_source', severity: 'warning', zone: 'NL', group: null },
  { detector: 'meter_vee', severity: 'info', zone: 'FI', group: 'g1' },
];

/** Inserts alerts and one `opened` event each (payload: the AlertEvent), as the alerts role's outbox would. */
async function insertEvents(db: SqlQueryable, alerts: readonly TestAlert[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, a] of alerts.entries()) {
    const at = '2026-06-01T10:00:00.000Z';
    const alert = await db.query<{ id: number }>(
      `INSERT INTO alerts (key, detector, subject, reason, severity, state, zone, group_id, message, evidence,
                           first_seen, last_seen, opened_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, 'test alert', $8, $9, $9, $9, $9) RETURNING id`,
      [
        `${a.detector}:${String(i)}`,
        a.detector,
        `s${String(i)}`,
        `alerts.${a.detector}`,
        a.severity,
        a.zone,
        a.group,
        JSON.stringify({ window: { from: at, to: at }, values: {} }),
        at,
      ],
    );
    const alertId = String(alert.rows[0]?.id);
    const event = await db.query<{ id: number }>(
      `INSERT INTO alert_events (alert_id, transition, at, payload) VALUES ($1, 'opened', $2, '{}') RETURNING id`,
      [alertId, at],
    );
    const eventId = String(event.rows[0]?.id);
    const payload: AlertEvent = AlertEventSchema.parse({
      event_id: eventId,
      transition: 'opened',
      at,
      alert: {
        id: alertId,
        key: `${a.detector}:${String(i)}`,
        detector: a.detector,
        subject: `s${String(i)}`,
        reason: `alerts.${a.detector}`,
        severity: a.severity,
        state: 'open',
        zone: a.zone,
        group: a.group,
        meter: null,
        message: 'test alert',
        evidence: { window: { from: at, to: at }, values: {} },
        first_seen: at,
        last_seen: at,
        occurrences: 1,
        opened_at: at,
        updated_at: at,
        acknowledged_at: null,
        acknowledged_by: null,
        resolved_at: null,
        resolved_by: null,
      },
    });
    await db.query('UPDATE alert_events SET payload = $2 WHERE id = $1', [eventId, JSON.stringify(payload)]);
    ids.push(eventId);
  }
  return ids;
}

const ORDER: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** The matching rule, written independently of the SQL. */
function matches(
  rule: { min: Severity; detectors?: Detector[]; zones?: string[]; groups?: string[] },
  a: TestAlert,
): boolean {
  return (
    ORDER[a.severity] >= ORDER[rule.min] &&
    (rule.detectors === undefined || rule.detectors.includes(a.detector)) &&
    (rule.zones === undefined || (a.zone !== null && rule.zones.includes(a.zone))) &&
    (rule.groups === undefined || (a.group !== null && rule.groups.includes(a.group)))
  );
}

function countingMetrics(): { metrics: Metrics; outcomes: Record<string, number> } {
  const outcomes: Record<string, number> = {};
  const base = createMetrics({ defaultMetrics: false });
  const metrics: Metrics = {
    ...base,
    webhookDeliveries(outcome: string, count: number) {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
    },
  };
  return { metrics, outcomes };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function pending(db: SqlQueryable): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE state = 'pending'");
  return r.rows[0]?.n ?? -1;
}

describe('webhook signatures and origins', () => {
  it('signs v1=HMAC-SHA256 over "timestamp.body" and verifies in a tolerance window, constant-time', () => {
    const secret = 'a-shared-secret-of-some-length';
    const body = '{"event_id":"1"}';
    const sig = signWebhook(secret, 1_767_225_600, body);
    assert.match(sig, /^v1=[0-9a-f]{64}$/);
    assert.equal(sig, 'v1=' + createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex'));
    const ok = { secret, timestamp: '1767225600', body, signature: sig, nowSeconds: 1_767_225_700 };
    assert.equal(verifyWebhook(ok), true);
    assert.equal(verifyWebhook({ ...ok, body: body + ' ' }), false, 'a changed body');
    assert.equal(verifyWebhook({ ...ok, timestamp: '1767225601' }), false, 'a changed timestamp');
    assert.equal(verifyWebhook({ ...ok, secret: secret + 'x' }), false, 'another secret');
    assert.equal(verifyWebhook({ ...ok, nowSeconds: 1_767_225_600 + 301 }), false, 'too old');
    assert.equal(verifyWebhook({ ...ok, nowSeconds: 1_767_225_600 - 301 }), false, 'from the future');
    assert.equal(verifyWebhook({ ...ok, nowSeconds: 1_767_226_000, toleranceSeconds: 600 }), true);
    assert.equal(verifyWebhook({ ...ok, signature: sig.slice(0, -1) }), false, 'a shorter signature');
    assert.equal(verifyWebhook({ ...ok, signature: null }), false);
    assert.equal(verifyWebhook({ ...ok, timestamp: '12abc' }), false);
  });

  it('normalises origins with explicit ports and refuses other schemes, credentials and fragments', () => {
    assert.equal(originOf('https://Hooks.Example.com/x?y=1'), 'https://hooks.example.com:443');
    assert.equal(originOf('http://hooks.example.com/x'), 'http://hooks.example.com:80');
    assert.equal(originOf('https://hooks.example.com:8443/'), 'https://hooks.example.com:8443');
    assert.equal(originOf('http://[::1]:8080/h'), 'http://[::1]:8080');
    for (const bad of ['ftp://h/x', 'file:///etc/passwd', 'https://u:p@h/x', 'https://u@h/x', 'https://h/x#f', 'h/x']) {
      assert.throws(() => originOf(bad), { code: 'alerts.webhook_not_allowed' }, bad);
    }
  });
});

describe('webhook deliveries (PGlite): a receiver that fails sometimes', () => {
  it('delivers each event once per matching rule, retries, refuses origins off the allowlist, dead-letters', async (t: TestContext) => {
    const h = await openTestDb(t, 'pglite');
    assert.ok(h !== undefined);
    const { db } = h;
    const stolen = await Receiver.start(() => 200);
    redirectTarget = stolen.origin;
    // Fails the first 0–2 attempts of each (path, event) with a 500, a hang past the timeout, a destroyed socket or a
    // redirect — chosen by a seed, not by timing — then answers 200.
    // On `/all` every event fails at least once, its first failure cycling through the four kinds by event id.
    const kinds = ['hang', 500, 'destroyed', 302] as const;
    const flaky = await Receiver.start((path, eventId, attempt) => {
      const failures = path === '/all' ? 1 + seeded(`${path} ${eventId} n`, 2) : seeded(`${path} ${eventId} n`, 3);
      if (attempt > failures) return 200;
      const kind =
        path === '/all' && attempt === 1 ? Number(eventId) % 4 : seeded(`${path} ${eventId} ${String(attempt)}`, 4);
      return kinds[kind] ?? 500;
    });
    const broken = await Receiver.start(() => 503);
    const removed = await Receiver.start(() => 200);
    t.after(async () => {
      await Promise.all([stolen, flaky, broken, removed].map((r) => r.close()));
    });

    await setWebhookAllowlist(db, [flaky.origin, broken.origin, removed.origin, stolen.origin], 'test-admin');
    type RuleSpec = { min: Severity; detectors?: Detector[]; zones?: string[]; groups?: string[] };
    const rules: { name: string; receiver: Receiver; path: string; spec: RuleSpec; secret?: string }[] = [
      { name: 'all', receiver: flaky, path: '/all', spec: { min: 'info' }, secret: 'all-secret-0123456789' },
      { name: 'crit', receiver: flaky, path: '/crit', spec: { min: 'critical' } },
      {
        name: 'fi-meters',
        receiver: flaky,
        path: '/fi',
        spec: { min: 'info', zones: ['FI'], detectors: ['meter_outage', 'meter_vee'] },
      },
      { name: 'g2', receiver: flaky, path: '/g2', spec: { min: 'warning', groups: ['g2'] } },
      { name: 'nomatch', receiver: flaky, path: '/nomatch', spec: { min: 'info', zones: ['SE'] } },
      { name: 'broken', receiver: broken, path: '/b', spec: { min: 'warning' }, secret: 'broken-secret-0123456789' },
      { name: 'removed', receiver: removed, path: '/r', spec: { min: 'critical' } },
    ];
    for (const r of rules) {
      const created = await createWebhookRule(
        db,
        {
          name: r.name,
          url: `${r.receiver.origin}${r.path}`,
          min_severity: r.spec.min,
          ...(r.secret === undefined ? {} : { secret: r.secret }),
          ...(r.spec.detectors === undefined ? {} : { detectors: r.spec.detectors }),
          ...(r.spec.zones === undefined ? {} : { zones: r.spec.zones }),
          ...(r.spec.groups === undefined ? {} : { groups: r.spec.groups }),
        },
        'test-admin',
      );
      assert.ok(created.ok);
      if (r.secret !== undefined) assert.equal(created.secret, r.secret);
      else assert.ok(created.secret.length >= 32, 'a generated secret');
      r.receiver.secrets.set(r.path, created.secret);
    }
    // The origin of `removed` leaves the allowlist after its rule was made.
    await setWebhookAllowlist(db, [flaky.origin, broken.origin], 'test-admin');

    const eventIds = await insertEvents(db, ALERTS);
    const queued = await db.transaction((tx) => queueWebhookDeliveries(tx, eventIds));
    const expected = new Map(
      rules.map((r) => [r.path, eventIds.filter((_, i) => matches(r.spec, ALERTS[i] as TestAlert))]),
    );
    const total = [...expected.values()].reduce((n, ids) => n + ids.length, 0);
    assert.equal(queued, total);
    assert.equal(await db.transaction((tx) => queueWebhookDeliveries(tx, eventIds)), 0, 'queuing twice adds nothing');
    assert.deepEqual(expected.get('/nomatch'), []);

    const deadLetters = new MemoryPublisher<DeadLetter>();
    const { metrics, outcomes } = countingMetrics();
    const maxAttempts = 4;
    const sender = webhookSender({
      db,
      logger: silentLogger(),
      metrics,
      deadLetters,
      maxAttempts,
      timeoutMs: 300,
      intervalMs: 20,
      backoff: { baseMs: 20, maxMs: 200 },
    });
    const started = Date.now();
    await sender.start();
    await until('every delivery to be delivered or dead', async () => (await pending(db)) === 0);
    await sender.stop();
    await sender.stop(); // idempotent
    assert.ok(Date.now() - started < 15_000);

    // Every signature verified, on every receiver.
    for (const r of [flaky, broken, removed, stolen])
      assert.deepEqual(
        r.hits.filter((x) => !x.verified),
        [],
      );
    // Each matching (rule, event) delivered exactly once; nothing for rules that do not match.
    for (const r of rules.filter((x) => x.receiver === flaky)) {
      const got = flaky.delivered.get(r.path) ?? new Map<string, number>();
      assert.deepEqual([...got.keys()].sort(), [...(expected.get(r.path) ?? [])].sort(), r.name);
      assert.deepEqual(
        [...got.values()].filter((n) => n !== 1),
        [],
        `${r.name}: no duplicates after a 2xx`,
      );
    }
    assert.equal(flaky.count('/nomatch'), 0);
    assert.ok(
      flaky.hits.some((x) => x.answered === 302),
      'the seed makes some redirects',
    );
    assert.ok(
      flaky.hits.some((x) => x.answered === 'hang'),
      'the seed makes some hangs',
    );
    assert.ok(
      flaky.hits.some((x) => x.answered === 'destroyed'),
      'the seed makes some destroyed sockets',
    );
    assert.equal(stolen.count(), 0, 'a 302 is never followed');
    assert.equal(removed.count(), 0, 'no request to an origin off the allowlist');

    const brokenIds = expected.get('/b') ?? [];
    const removedIds = expected.get('/r') ?? [];
    assert.equal(broken.count(), brokenIds.length * maxAttempts);
    const deliveries = await listWebhookDeliveries(db, { limit: 1000 });
    assert.equal(deliveries.length, total);
    for (const d of deliveries) {
      if (d.rule === 'broken') {
        assert.equal(d.state, 'dead');
        assert.equal(d.attempts, maxAttempts);
        assert.equal(d.last_status, 503);
      } else if (d.rule === 'removed') {
        assert.equal(d.state, 'dead');
        assert.equal(d.attempts, 0);
        assert.match(d.last_error ?? '', /not on the webhook allowlist/);
      } else {
        assert.equal(d.state, 'delivered', `${d.rule} ${d.event_id}`);
        assert.ok(d.delivered_at !== null);
      }
    }
    assert.deepEqual(
      (await listWebhookDeliveries(db, { state: 'dead', limit: 1000 })).length,
      brokenIds.length + removedIds.length,
    );

    const failedLetters = deadLetters.values.filter((l) => l.reason === 'alerts.webhook_failed');
    const refusedLetters = deadLetters.values.filter((l) => l.reason === 'alerts.webhook_not_allowed');
    assert.equal(failedLetters.length, brokenIds.length);
    assert.equal(refusedLetters.length, removedIds.length);
    assert.equal(deadLetters.values.length, brokenIds.length + removedIds.length);
    for (const l of failedLetters) {
      assert.equal(l.stage, 'processing');
      assert.equal(l.attempts, maxAttempts);
      assert.equal(l.httpStatus, 503);
      assert.match(l.message, /rule "broken"/);
      assert.match(l.message, /status 503/);
      assert.ok(l.position?.['delivery_id'] !== undefined);
      const event = AlertEventSchema.parse(JSON.parse(l.payload));
      assert.ok(brokenIds.includes(event.event_id));
      assert.equal(l.position['event_id'], event.event_id);
    }
    // Neither the secret nor any signature sent is in a dead letter or a stored error.
    const stored = JSON.stringify(deadLetters.values) + JSON.stringify(deliveries);
    for (const secret of [...broken.secrets.values(), ...flaky.secrets.values(), ...removed.secrets.values()]) {
      assert.ok(!stored.includes(secret), 'no secret');
    }
    for (const hit of [...broken.hits, ...flaky.hits])
      assert.ok(!stored.includes(hit.signature.slice(3)), 'no signature');

    const delivered = total - brokenIds.length - removedIds.length;
    assert.equal(outcomes['delivered'], delivered);
    assert.equal(outcomes['dead'], brokenIds.length);
    assert.equal(outcomes['refused'], removedIds.length);
    assert.equal(outcomes['failed'], flaky.count() - delivered + brokenIds.length * (maxAttempts - 1));
  });
});

describe('webhook deliveries (PostgreSQL): senders sharing the work', () => {
  it('two senders at once deliver each event once (FOR UPDATE SKIP LOCKED)', async (t: TestContext) => {
    const h = await openTestDb(t, 'postgres');
    if (h === undefined) return;
    const receiver = await Receiver.start(() => 200);
    t.after(() => receiver.close());
    // A second pool on the same schema: the two senders never share a connection.
    const other: Db = await openDb({ url: h.url, dataDir: h.dataDir, schema: h.schema, logger: silentLogger() });
    t.after(() => other.close());
    await setWebhookAllowlist(h.db, [receiver.origin], 'test-admin');
    const created = await createWebhookRule(
      h.db,
      { name: 'all', url: `${receiver.origin}/all`, min_severity: 'info' },
      'test-admin',
    );
    assert.ok(created.ok);
    receiver.secrets.set('/all', created.secret);
    const alerts = Array.from({ length: 40 }, (_, i) => ALERTS[i % ALERTS.length] as TestAlert);
    const ids = await insertEvents(h.db, alerts);
    assert.equal(await queueWebhookDeliveries(h.db, ids), 40);

    const deadLetters = new MemoryPublisher<DeadLetter>();
    const requests = [0, 0];
    const senders = [h.db, other].map((db, i) =>
      webhookSender({
        fetchImpl: (url, init) => {
          requests[i] = (requests[i] ?? 0) + 1;
          return fetch(url, init);
        },
        db,
        logger: silentLogger(),
        metrics: createMetrics({ defaultMetrics: false }),
        deadLetters,
        maxAttempts: 3,
        timeoutMs: 2000,
        intervalMs: 10,
        concurrency: 3,
      }),
    );
    await Promise.all(senders.map((s) => s.start()));
    await until('every delivery', async () => (await pending(h.db)) === 0);
    await Promise.all(senders.map((s) => s.stop()));
    assert.equal(receiver.count(), 40, 'one request per delivery');
    assert.deepEqual(
      [...(receiver.delivered.get('/all')?.values() ?? [])].filter((n) => n !== 1),
      [],
    );
    assert.equal(receiver.delivered.get('/all')?.size, 40);
    assert.deepEqual(
      receiver.hits.filter((x) => !x.verified),
      [],
    );
    assert.equal(deadLetters.values.length, 0);
    assert.ok(
      requests.every((n) => n > 0),
      `both senders took work: ${requests.join(', ')}`,
    );
  });
  it("a stopped sender's claim expires and another sender delivers it (no attempt counted)", async (t: TestContext) => {
    const h = await openTestDb(t, 'postgres');
    if (h === undefined) return;
    const receiver = await Receiver.start(() => 200);
    t.after(() => receiver.close());
    await setWebhookAllowlist(h.db, [receiver.origin], 'test-admin');
    const created = await createWebhookRule(h.db, { name: 'one', url: `${receiver.origin}/one` }, 'test-admin');
    assert.ok(created.ok);
    receiver.secrets.set('/one', created.secret);
    const [id] = await insertEvents(h.db, [ALERTS[0] as TestAlert]);
    assert.equal(await queueWebhookDeliveries(h.db, [id ?? '']), 1);
    const common = {
      db: h.db,
      logger: silentLogger(),
      metrics: createMetrics({ defaultMetrics: false }),
      deadLetters: new MemoryPublisher<DeadLetter>(),
      maxAttempts: 3,
      timeoutMs: 60_000,
      intervalMs: 10,
    };
    // A request that never ends: the sender is stopped (as if it crashed) while it is in flight.
    let inFlight!: () => void;
    const claimed = new Promise<void>((resolve) => (inFlight = resolve));
    const stuck = webhookSender({
      ...common,
      fetchImpl: (_url, init) => {
        inFlight();
        return new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
        });
      },
    });
    await stuck.start();
    await claimed;
    await stuck.stop({ graceMs: 50 });
    const [row] = (await listWebhookDeliveries(h.db)).map((d) => [d.state, d.attempts, Date.parse(d.next_at)] as const);
    assert.ok(row !== undefined);
    const [state, attempts, nextAt] = row;
    assert.equal(state, 'pending');
    assert.equal(attempts, 0, 'an abandoned request is not an attempt');
    assert.ok(nextAt > Date.now() + 60_000, 'claimed past the timeout plus the margin');
    // Another sender does not take it before the claim expires; once it has (its clock moved on), it delivers.
    let offset = 0;
    const next = webhookSender({ ...common, now: () => Date.now() + offset });
    await next.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.count(), 0);
    offset = 120_000;
    await until('the expired claim to be delivered', async () => (await pending(h.db)) === 0);
    await next.stop();
    assert.equal(receiver.delivered.get('/one')?.get(id ?? ''), 1);
    assert.deepEqual(
      receiver.hits.filter((x) => !x.verified),
      [],
    );
  });
});
