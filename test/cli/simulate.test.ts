import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Secret } from '../../src/config/index.ts';
import { CanonicalReadingSchema, MeterReadingSchema } from '../../src/contracts/index.ts';
import { mqttIngest } from '../../src/ingest/index.ts';
import { generateFleet } from '../../src/simulator/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { useEmbeddedInfra } from '../helpers/infra.ts';
import { readTopic, until, useIngestGateway } from '../helpers/ingest.ts';
import { testMqttUrl } from '../helpers/services.ts';

interface Summary {
  intervals: number;
  emitted: number;
  accepted: number;
  rejected: number;
  droppedByDesign: number;
  faults: Record<string, number>;
}

const dir = mkdtempSync(join(tmpdir(), 'gridstream-simulate-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

const summaryOf = (stderr: string): Summary => JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}') as Summary;

/** 24–26 October 2026 in Europe/Berlin: 96 + 100 quarter hours. */
const RANGE = ['--from', '2026-10-24', '--to', '2026-10-26'];
const QUARTERS = 196;

describe('gridstream simulate meters', () => {
  const gateway = useIngestGateway({ keyName: 'simulator' });

  it('posts to a real ingest gateway: raw.meters holds every reading sent (gaps dropped by design), values = truth', async () => {
    const truthFile = join(dir, 'truth.ndjson');
    const key = gateway.auth['authorization']?.replace('Bearer ', '') ?? '';
    // The key from a file (a key given with --key shows in the process list).
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const count = 25;
    const result = await gridstream([
      'simulate',
      'meters',
      '--count',
      String(count),
      ...RANGE,
      '--target',
      gateway.url.replace('/ingest/meters', ''),
      '--key-file',
      keyFile,
      '--faults',
      'gaps=3%,duplicates=2%',
      '--seed',
      '42',
      '--batch',
      '500',
      '--truth',
      truthFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    const summary = summaryOf(result.stderr);
    const registers = generateFleet({ count, seed: 42 }).filter((m) => m.mode === 'register').length;
    const generated = count * QUARTERS + registers;
    assert.ok(summary.droppedByDesign > 0 && (summary.faults['duplicates'] ?? 0) > 0);
    assert.equal(summary.emitted, generated - summary.droppedByDesign + (summary.faults['duplicates'] ?? 0));
    assert.equal(summary.accepted, summary.emitted);
    assert.equal(summary.rejected, 0);

    // raw.meters holds canonical readings (src/contracts/reading.ts): exact decimal values as text.
    const stored = (await readTopic(gateway.infra, 'raw.meters')).map((b) =>
      CanonicalReadingSchema.parse(JSON.parse(b.toString('utf8'))),
    );
    assert.equal(stored.length, summary.emitted);
    const truth = lines(readFileSync(truthFile, 'utf8')) as { meterId: string; ts: string; value: string }[];
    assert.equal(truth.length, count * QUARTERS);
    const byKey = new Map(truth.map((t) => [`${t.meterId} ${t.ts}`, t.value]));
    const intervals = stored.filter((r) => r.quantity === 'energy_import');
    assert.ok(intervals.length > 0);
    for (const r of intervals) {
      // The simulator sends the old device schema: the interval is the meter's, from the registry.
      assert.equal(r.interval, undefined);
      assert.equal(Number(r.value), Number(byKey.get(`${r.meter_id} ${r.ts}`)), `${r.meter_id} ${r.ts}`);
    }
    assert.ok(stored.every((r) => r.kind === 'smart_meter' && r.group?.startsWith('sim-feeder-')));
  });

  it('refuses a bad key with the HTTP status and exit 1', async () => {
    const result = await gridstream([
      'simulate',
      'meters',
      '--count',
      '2',
      ...RANGE,
      '--target',
      gateway.url,
      '--key',
      'k3y-n0t-valid-zz',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 401/);
    assert.doesNotMatch(result.stderr, /k3y-n0t-valid-zz/);
    const both = await gridstream(['simulate', 'meters', '--count', '1', ...RANGE, '--key', 'a', '--key-file', 'b']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--key-file or --key, not both/);
  });

  it('prints NDJSON without a target, the same for the same seed; usage errors exit 2', async () => {
    const a = await gridstream(['simulate', 'meters', '--count', '3', ...RANGE, '--faults', 'default', '--seed', '9']);
    const b = await gridstream(['simulate', 'meters', '--count', '3', ...RANGE, '--faults', 'default', '--seed', '9']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const readings = lines(a.stdout).map((l) => MeterReadingSchema.parse(l));
    assert.equal(readings.length, summaryOf(a.stderr).emitted);
    for (const argv of [
      ['--count', '3', '--from', '2026-10-24'],
      ['--count', '3', ...RANGE, '--faults', 'gaps=lots'],
      ['--count', '3', '--from', '2026-10-24T00:00:00', '--to', '2026-10-25'],
      ['--count', '3', ...RANGE, '--target', 'ftp://x'],
    ]) {
      const r = await gridstream(['simulate', 'meters', ...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    }
  });

  it('paces to --rate, takes holidays, writes the fleet CSV', async () => {
    const fleetFile = join(dir, 'fleet.csv');
    const started = performance.now();
    // 2 meters × 96 quarters of Friday 25 December 2026 in batches of 50 at 400 readings/s: the last batch waits
    // until 150/400 s have passed.
    const paced = await gridstream([
      'simulate',
      'meters',
      '--count',
      '2',
      '--from',
      '2026-12-25',
      '--to',
      '2026-12-26',
      '--rate',
      '400',
      '--batch',
      '50',
      '--fleet',
      fleetFile,
    ]);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(paced.code, 0, paced.stderr);
    assert.ok(seconds >= 0.35, `${seconds} s`);
    const fleet = readFileSync(fleetFile, 'utf8').trim().split('\n');
    assert.equal(
      fleet[0],
      'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile,register_capacity_kwh',
    );
    assert.equal(fleet.length, 3);
    // The same day as a holiday takes the Sunday profile: other values.
    const holiday = await gridstream([
      'simulate',
      'meters',
      '--count',
      '2',
      '--from',
      '2026-12-25',
      '--to',
      '2026-12-26',
      '--holidays',
      '2026-12-25',
    ]);
    assert.equal(holiday.code, 0, holiday.stderr);
    assert.notEqual(holiday.stdout, paced.stdout);
    assert.equal(lines(holiday.stdout).length, lines(paced.stdout).length);
  });

  it('stops on SIGTERM (the abort signal) and keeps the truth written so far', async () => {
    const controller = new AbortController();
    const truthFile = join(dir, 'stopped.ndjson');
    const running = gridstream(
      ['simulate', 'meters', '--count', '1000', '--from', '2026-01-01', '--to', '2027-01-01', '--truth', truthFile],
      { signal: controller.signal },
    );
    setTimeout(() => {
      controller.abort();
    }, 300);
    const result = await running;
    assert.ok(result.code === 130 || result.code === 143, `exit ${result.code}`);
    const written = readFileSync(truthFile, 'utf8').split('\n').length - 1;
    assert.ok(written > 0 && written < 1000 * 365 * 96, `${written} truth lines`);
  });
});

describe('gridstream simulate meters over MQTT', () => {
  const url = testMqttUrl();
  const embedded = useEmbeddedInfra();

  it('publishes NDJSON batches that the MQTT ingest takes into raw.meters', async (t) => {
    if (url === undefined) {
      testMqttUrl(t);
      return;
    }
    const base = `gridstream-test/${randomUUID()}`;
    const worker = mqttIngest(embedded.infra, {
      url: new Secret(url),
      topic: `${base}/#`,
      group: `g${randomUUID().slice(0, 8)}`,
    });
    await worker.start();
    try {
      const result = await gridstream([
        'simulate',
        'meters',
        '--count',
        '10',
        ...RANGE,
        '--target',
        `${url.replace(/\/$/, '')}/${base}/simulated`,
        '--batch',
        '200',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const { emitted: sent } = summaryOf(result.stderr);
      assert.ok(sent >= 10 * QUARTERS);
      await until(
        `${sent} readings in raw.meters`,
        async () => (await readTopic(embedded.infra, 'raw.meters')).length >= sent,
      );
      assert.equal((await readTopic(embedded.infra, 'raw.meters')).length, sent);
    } finally {
      await worker.stop();
    }
  });
});
