import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../../src/storage/index.ts';
import type { Db } from '../../src/storage/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

/** The paper cuts a new user hits: unknown input is never a silent empty success; dates and numbers mean one thing. */
describe('API parameters', () => {
  let api: TestApi;
  let failing = false;
  before(async () => {
    // A database that can be made to fail like an outage (a retryable storage error).
    const wrapDb = (db: Db): Db =>
      new Proxy(db, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (key !== 'query' || typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (failing) return Promise.reject(new StorageError('db.unavailable', 'connection refused'));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    api = await startTestApi({ wrapDb });
  });
  after(async () => {
    await api.close();
  });
  const series = 'metric=generation_actual&from=2023-05-08&to=2023-05-09';

  it('an unknown zone is 404 naming the closest valid codes (DE is the country, DE_LU the market zone)', async () => {
    const de = await api.json(`/api/v1/series?zone=DE&${series}`);
    assert.equal(de.status, 404);
    assert.equal(de.body['param'], 'zone');
    assert.match(String(de.body['detail']), /unknown zone "DE"; did you mean DE_LU, DE_AT_LU/);
    const xx = await api.json(`/api/v1/carbon-intensity?zone=XX&from=2023-05-08&to=2023-05-09`);
    assert.equal(xx.status, 404);
    assert.equal((await api.request('/api/v1/mix?zone=FII')).status, 404);
    assert.match(String((await api.json('/api/v1/mix?zone=FII')).body['detail']), /did you mean FI\b/);
    // A real zone without data is not unknown: an empty answer, honestly.
    const fr = await api.json(`/api/v1/series?zone=FR&${series}`);
    assert.equal(fr.status, 200);
    assert.deepEqual(fr.body['series'], []);
  });

  it('production types by code or readable name; an unknown one is 400 listing the valid values', async () => {
    const byName = await api.json(`/api/v1/series?zone=FI&${series}&production_type=nuclear,Wind%20Onshore`);
    const byCode = await api.json(`/api/v1/series?zone=FI&${series}&production_type=B14,B19`);
    assert.equal(byName.status, 200);
    assert.deepEqual(byName.body['series'], byCode.body['series']);
    const unknown = await api.json(`/api/v1/series?zone=FI&${series}&production_type=unobtainium`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body['param'], 'production_type');
    assert.match(
      String(unknown.body['detail']),
      /unknown production type "unobtainium"; valid values: .*B14 \(nuclear\)/,
    );
    const metric = await api.json('/api/v1/series?zone=FI&metric=generation&from=2023-05-08&to=2023-05-09');
    assert.equal(metric.status, 400);
    assert.match(String(metric.body['detail']), /expected one of generation_actual, /);
  });

  it('a bare date is 00:00 in the zone’s time zone at every resolution (or tz=); to stays exclusive', async () => {
    for (const resolution of ['PT15M', 'PT1H', 'P1D']) {
      const r = await api.json(`/api/v1/series?zone=FI&${series}&resolution=${resolution}`);
      assert.equal(r.body['from'], '2023-05-07T21:00:00.000Z', resolution); // Helsinki is UTC+3 in May
      assert.equal(r.body['to'], '2023-05-08T21:00:00.000Z', resolution);
      assert.equal(r.body['time_zone'], 'Europe/Helsinki');
    }
    const utc = await api.json(`/api/v1/series?zone=FI&${series}&tz=UTC`);
    assert.equal(utc.body['from'], '2023-05-08T00:00:00.000Z');
    const carbon = await api.json('/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-09');
    const points = carbon.body['points'] as { ts: string }[];
    assert.ok(points.every((p) => p.ts >= '2023-05-07T21:00:00.000Z' && p.ts < '2023-05-08T21:00:00.000Z'));
    const completeness = await api.json('/api/v1/completeness?zone=FI&from=2023-05-08&to=2023-05-09');
    assert.equal(completeness.body['from'], '2023-05-07T21:00:00.000Z');
    const instant = await api.json(
      `/api/v1/series?zone=FI&metric=generation_actual&from=2023-05-08T06:00:00Z&to=2023-05-08T07:00:00Z`,
    );
    assert.equal(instant.body['from'], '2023-05-08T06:00:00.000Z', 'an instant with an offset is taken as it is');
    assert.equal((await api.json(`/api/v1/series?zone=FI&${series}&tz=Mars/Olympus`)).status, 400);
  });

  it('mix?at= off a slot boundary is snapped to the slot that contains it, and says so', async () => {
    const off = await api.json('/api/v1/mix?zone=FI&at=2023-05-08T10:07:00Z');
    assert.equal(off.status, 200);
    assert.equal(off.body['slot'], '2023-05-08T10:00:00.000Z');
    assert.equal(off.body['requested_at'], '2023-05-08T10:07:00.000Z');
    const on = await api.json('/api/v1/mix?zone=FI&at=2023-05-08T10:00:00Z');
    assert.equal(on.body['requested_at'], null);
  });

  it('numbers for reading: MW to 3 decimals, gCO2eq/kWh to 1, shares as fractions 0–1', async () => {
    const decimals = (v: number) => (String(v).split('.')[1] ?? '').length;
    const s = await api.json(`/api/v1/series?zone=FI&${series}&resolution=PT1H`);
    const values = (s.body['series'] as { points: { value: number }[] }[]).flatMap((x) => x.points.map((p) => p.value));
    assert.ok(values.length > 0 && values.every((v) => decimals(v) <= 3), 'MW at most 3 decimals');
    const c = await api.json('/api/v1/carbon-intensity?zone=FI&from=2023-05-08&to=2023-05-09&resolution=PT1H');
    const intensities = (c.body['points'] as { value: number }[]).map((p) => p.value);
    assert.ok(intensities.length > 0 && intensities.every((v) => decimals(v) <= 1), 'gCO2eq/kWh at most 1 decimal');
    assert.ok(
      intensities.some((v) => decimals(v) === 1),
      'not truncated to integers',
    );
    const mix = await api.json('/api/v1/mix?zone=FI');
    const shares = (mix.body['entries'] as { share: number }[]).map((e) => e.share);
    assert.ok(shares.every((x) => x >= 0 && x <= 1 && decimals(x) <= 4));
  });

  it('a retryable storage failure is 503 with Retry-After, not 500', async () => {
    failing = true;
    try {
      const r = await api.request(`/api/v1/series?zone=FI&${series}`);
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      const body = (await r.json()) as { detail: string };
      assert.match(body.detail, /db\.unavailable/);
    } finally {
      failing = false;
    }
  });
});
