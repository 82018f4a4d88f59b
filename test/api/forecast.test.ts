import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/api/index.ts';
import { replayClock } from '../../src/api/index.ts';
import { errorFigures, intensityForecastOf } from '../../src/forecast/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS } from '../../src/time/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { chunksOf, reference, startTestApi } from '../helpers/api.ts';

interface ForecastBody {
  zone: string;
  clock: { mode: string; now: string; basis: string };
  made_at: string;
  slots: {
    start: string;
    end: string;
    value: number;
    horizon_minutes: number;
    method: { wind_solar: string; other: string; scaled_to_load_forecast: boolean };
  }[];
}
interface AccuracyBody {
  issues: number;
  rows: {
    horizon: string;
    n: number;
    mae: number;
    smape: number;
    baseline: { name: string; mae: number; smape: number };
  }[];
}

/** The stored FI actual generation, read back with SQL: type → slot → MW. */
async function storedGeneration(db: Db): Promise<Map<string, Map<number, number>>> {
  const { rows } = await db.query<{ production_type: string; slot: Date; value: number }>(
    `SELECT production_type, slot_start AS slot, value FROM grid_observations WHERE zone = 'FI' AND metric = 'generation_actual'`,
  );
  const out = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const m = out.get(r.production_type) ?? new Map<number, number>();
    m.set(r.slot.getTime(), r.value);
    out.set(r.production_type, m);
  }
  return out;
}

function intensityOf(at: number, mix: ReadonlyMap<string, number>): number {
  let g = 0;
  let e = 0;
  for (const [psr, mw] of mix) {
    const mode = reference.productionType(psr).mode;
    if (mode === null || mw <= 0) continue;
    g += mw;
    const f = reference.emissionFactor({
      mode,
      kind: 'lifecycle',
      at: Math.floor(at / DAY_MS) * DAY_MS,
      zone: reference.zone('FI'),
    });
    e += mw * f.value;
  }
  return e / g;
}

describe('data clock and carbon-intensity forecast API', () => {
  let api: TestApi;
  let demo: TestApi;
  before(async () => {
    api = await startTestApi();
    // An API whose clock is the offline replay's: the latest complete stored slot.
    let db: Db | undefined;
    const clock: Clock = { mode: 'demo', now: (o) => replayClock(db as Db).now(o) };
    demo = await startTestApi({
      wrapDb: (d) => {
        db = d;
        return d;
      },
      clock,
    });
  });
  after(async () => {
    await api.close();
    await demo.close();
  });

  it('live: the wall clock; demo: the end of the newest complete replayed slot, also in the status', async () => {
    const before = Date.now();
    const live = await api.json('/api/v1/clock');
    assert.equal(live.status, 200);
    assert.equal(live.body['mode'], 'live');
    assert.equal(live.body['basis'], 'wall clock');
    const t = Date.parse(String(live.body['now']));
    assert.ok(t >= before && t <= Date.now());

    // Recomputed from the document: the last slot every FI production type reached, plus 15 minutes.
    const lastOfEach = chunksOf('A75_FI_PT60M_A01_2023-05-08.xml')
      .filter((c) => c.metric === 'generation_actual')
      .map((c) => Math.max(...c.points.map((p) => Date.parse(p.t))));
    const expected = new Date(Math.min(...lastOfEach) + SLOT_MS).toISOString();
    const d = await demo.json('/api/v1/clock');
    assert.deepEqual(d.body, { mode: 'demo', now: expected, basis: 'latest complete replayed slot' });
    const status = await demo.json('/api/v1/status');
    assert.deepEqual(status.body['clock'], d.body);
  });

  it('the forecast matches a recomputation from the stored inputs, with how each slot was made', async () => {
    const from = '2023-05-09T21:00:00Z';
    const r = await api.json(`/api/v1/carbon-intensity/forecast?zone=FI&from=${from}&to=2023-05-10T07:00:00Z`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const body = r.body as unknown as ForecastBody;
    // A past range is forecast as it would have been at its start.
    assert.equal(body.made_at, new Date(from).toISOString());
    assert.equal(body.clock.mode, 'live');
    assert.equal(body.slots.length, 40);
    const generation = await storedGeneration(api.db);
    for (const s of body.slots.filter((_, i) => i % 9 === 0)) {
      const start = Date.parse(s.start);
      const mix = new Map<string, number>();
      for (const [psr, values] of generation) {
        const v = values.get(start - DAY_MS); // the only earlier day stored
        if (v !== undefined) mix.set(psr, v);
      }
      assert.ok(Math.abs(s.value - intensityOf(start, mix)) <= 0.05 + 1e-9, s.start);
      assert.deepEqual(s.method, {
        wind_solar: 'none',
        other: 'mean of the same quarter hour over the last 7 days (n=1)',
        scaled_to_load_forecast: false,
      });
      assert.equal(s.horizon_minutes, (start + SLOT_MS - Date.parse(from)) / 60_000);
      assert.equal(Date.parse(s.end) - start, SLOT_MS);
    }
    // The port given to the best-window route answers the same values.
    const port = intensityForecastOf(api.db, reference);
    const slots = await port('FI', Date.parse(from), Date.parse(from) + 2 * HOUR_MS);
    assert.deepEqual(
      slots.map((s) => Math.round(s.value * 10) / 10),
      body.slots.slice(0, 8).map((s) => s.value),
    );
  });

  it('defaults to the clock, refuses more than 48 hours, and says 404 when nothing can be forecast', async () => {
    const d = await demo.json('/api/v1/carbon-intensity/forecast?zone=FI');
    assert.equal(d.status, 200, JSON.stringify(d.body));
    const body = d.body as unknown as ForecastBody;
    assert.equal(body.made_at, body.clock.now);
    assert.equal(body.slots[0]?.start, body.clock.now);
    assert.ok(body.slots.length > 0 && body.slots.length <= 96);
    const tooLong = await api.json('/api/v1/carbon-intensity/forecast?zone=FI&from=2023-05-09&to=2023-05-12');
    assert.equal(tooLong.status, 400);
    const nothing = await api.json('/api/v1/carbon-intensity/forecast?zone=FR');
    assert.equal(nothing.status, 404);
    assert.equal((await api.json('/api/v1/carbon-intensity/forecast?zone=FI', { key: api.readerFi })).status, 404);
    assert.equal((await api.json('/api/v1/carbon-intensity/forecast?zone=SE_4', { key: api.readerFi })).status, 403);
    assert.equal((await api.json('/api/v1/carbon-intensity/forecast?zone=FI', { key: null })).status, 401);
  });

  it('accuracy: each daily forecast against the stored actual intensity and the same slot yesterday', async (t) => {
    const r = await api.json('/api/v1/carbon-intensity/forecast/accuracy?zone=FI&from=2023-05-08&to=2023-05-11');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const body = r.body as unknown as AccuracyBody;
    assert.equal(body.issues, 3); // local midnights of 8, 9 and 10 May
    // Recomputed from the forecast route (one issue per local midnight) and the stored intensity.
    const actual = await api.json('/api/v1/carbon-intensity?zone=FI&from=2023-05-07&to=2023-05-12');
    const stored = new Map(
      (actual.body['points'] as { ts: string; value: number }[]).map((p) => [Date.parse(p.ts), p.value]),
    );
    const buckets = new Map<string, [number, number][][]>();
    for (const issue of ['2023-05-07T21:00:00Z', '2023-05-08T21:00:00Z', '2023-05-09T21:00:00Z']) {
      const f = await api.json(
        `/api/v1/carbon-intensity/forecast?zone=FI&from=${issue}&to=${new Date(Date.parse(issue) + 2 * DAY_MS).toISOString()}`,
      );
      if (f.status === 404) continue;
      for (const s of (f.body as unknown as ForecastBody).slots) {
        const start = Date.parse(s.start);
        const a = stored.get(start);
        const yesterday = start - DAY_MS + SLOT_MS <= Date.parse(issue) ? start - DAY_MS : start - 2 * DAY_MS;
        const b = stored.get(yesterday);
        if (a === undefined || b === undefined) continue;
        const h = s.horizon_minutes;
        const name = h <= 360 ? '0-6h' : h <= 720 ? '6-12h' : h <= 1440 ? '12-24h' : '24-48h';
        const entry = buckets.get(name) ?? [[], []];
        entry[0]?.push([s.value, a]);
        entry[1]?.push([b, a]);
        buckets.set(name, entry);
      }
    }
    assert.ok(body.rows.length > 0);
    assert.deepEqual(
      body.rows.map((row) => [row.horizon, row.n]),
      ['0-6h', '6-12h', '12-24h', '24-48h'].filter((n) => buckets.has(n)).map((n) => [n, buckets.get(n)?.[0]?.length]),
    );
    for (const row of body.rows) {
      const [f, b] = buckets.get(row.horizon) ?? [[], []];
      // The route's forecast values are rounded to 0.1 g: the MAE agrees within that.
      assert.ok(Math.abs(row.mae - errorFigures(f ?? []).mae) <= 0.06, row.horizon);
      assert.ok(Math.abs(row.baseline.mae - errorFigures(b ?? []).mae) <= 0.06, row.horizon);
      assert.equal(row.baseline.name, 'same slot yesterday');
      t.diagnostic(
        `FI ${row.horizon}: n=${row.n} forecast MAE ${row.mae} sMAPE ${row.smape}% | baseline MAE ${row.baseline.mae} sMAPE ${row.baseline.smape}%`,
      );
    }
  });
});
