import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClockReading, IntensitySlot } from '../../src/api/index.ts';
import { MAX_WINDOW_ZONES } from '../../src/api/index.ts';
import { BEST_WINDOW_EXAMPLE, BEST_WINDOW_EXAMPLE_QUERY } from '../../src/api/routes/carbon-aware.ts';
import { CarbonState, carbonChunks } from '../../src/processing/index.ts';
import { writeObservations } from '../../src/storage/index.ts';
import { DAY_MS, SLOT_MS } from '../../src/time/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { chunksOf, reference, startTestApi } from '../helpers/api.ts';

/** The answer's shape, as far as these tests read it. */
interface Answer {
  earliest: string;
  latest: string;
  clock: ClockReading;
  zones: {
    zone: string;
    data: string;
    actual_until: string | null;
    slots: { actual: number; forecast: number; missing: number };
    candidates: { fitting: number; complete: number };
    earliest_start: { start: string; end: string; mean_intensity: number | null };
    windows: {
      start: string;
      end: string;
      mean_intensity: number;
      data: string;
      saving: { g_per_kwh: number; percent: number | null } | null;
    }[];
  }[];
}

interface OpenApiOperation {
  description: string;
  parameters: { name: string; description?: string; examples?: unknown }[];
  responses: Record<string, { content: Record<string, { schema: { examples?: unknown } }> }>;
}

interface Expected {
  start: number;
  mean: number;
}

describe('GET /api/v1/carbon-aware/best-window on stored real data', () => {
  let api: TestApi;
  let clock: ClockReading = { mode: 'live', now: '2026-12-06T10:00:00.000Z', basis: 'wall clock' };
  let forecast: ((zone: string, from: number, to: number) => Promise<readonly IntensitySlot[]>) | undefined;
  const forecastCalls: { zone: string; from: number; to: number }[] = [];
  const BASE = '/api/v1/carbon-aware/best-window';

  before(async () => {
    api = await startTestApi({
      carbonAware: {
        clock: () => Promise.resolve(clock),
        forecast: (zone, from, to) => {
          forecastCalls.push({ zone, from, to });
          return forecast === undefined ? Promise.resolve([]) : forecast(zone, from, to);
        },
      },
    });
    // The bundled LU document (A75, 15-minute actual generation over three days, one quarter hour missing), through
    // the same processing as the pipeline: observations, then the carbon intensity computed from them.
    const lu = chunksOf('A75_LU_PT15M_A01_2024-05-21.xml');
    const state = new CarbonState(reference);
    for (const c of lu) state.add(c);
    await writeObservations(api.db, [...lu, ...carbonChunks(state.compute(), 'carbon')]);
  });
  after(async () => {
    await api.close();
  });

  /**
   * The best windows computed independently, in SQL over grid_observations: every quarter hour from the first at
   * or after `earliest` whose window ends by `latest`, kept when it holds `k` stored slots, ranked by average.
   */
  async function sqlBest(zone: string, earliest: string, latest: string, minutes: number, top: number) {
    const { rows } = await api.db.query<{ start: Date; mean: number }>(
      `WITH starts AS (
         SELECT generate_series(
           date_bin('15 minutes', $2::timestamptz - interval '1 microsecond', '2000-01-01') + interval '15 minutes',
           $3::timestamptz - make_interval(mins => $4::int), interval '15 minutes') AS start
       )
       SELECT s.start, avg(o.value)::float8 AS mean
       FROM starts s JOIN grid_observations o
         ON o.zone = $1 AND o.metric = 'carbon_intensity_production' AND o.qualifier = 'factors=lifecycle'
         AND o.slot_start >= s.start AND o.slot_start < s.start + make_interval(mins => $4::int)
       GROUP BY s.start HAVING count(*) = $4::int / 15
       ORDER BY round(avg(o.value)::numeric, 6), s.start LIMIT $5`,
      [zone, earliest, latest, minutes, top],
    );
    return rows.map((r) => ({ start: r.start.getTime(), mean: r.mean }));
  }

  /** The mean of the window starting at `start`, or null when a slot is missing (SQL again). */
  async function sqlMean(zone: string, start: number, minutes: number): Promise<number | null> {
    const { rows } = await api.db.query<{ mean: number | null; n: number }>(
      `SELECT avg(value)::float8 AS mean, count(*)::int AS n FROM grid_observations
       WHERE zone = $1 AND metric = 'carbon_intensity_production' AND qualifier = 'factors=lifecycle'
         AND slot_start >= $2 AND slot_start < $2::timestamptz + make_interval(mins => $3::int)`,
      [zone, new Date(start).toISOString(), minutes],
    );
    const row = rows[0];
    return row === undefined || row.n !== minutes / 15 ? null : Number(row.mean);
  }

  /** Windows and savings of the answer against the independent computation (equal means: the earlier start first). */
  function assertMatches(zone: Answer['zones'][number], expected: Expected[], atEarliest: number | null) {
    assert.equal(zone.windows.length, expected.length);
    zone.windows.forEach((w, i) => {
      const e = expected[i]!;
      assert.ok(Math.abs(w.mean_intensity - e.mean) <= 0.05 + 1e-9, `${w.start}: ${w.mean_intensity} vs ${e.mean}`);
      assert.equal(Date.parse(w.start), e.start, `rank ${i}: ${w.start} vs ${new Date(e.start).toISOString()}`);
      if (atEarliest === null) assert.equal(w.saving, null);
      else {
        assert.ok(Math.abs((w.saving?.g_per_kwh ?? NaN) - (atEarliest - e.mean)) <= 0.05 + 1e-9);
        const percent = ((atEarliest - e.mean) / atEarliest) * 100;
        assert.ok(Math.abs((w.saving?.percent ?? NaN) - percent) <= 0.005 + 1e-9);
      }
    });
    if (atEarliest === null) assert.equal(zone.earliest_start.mean_intensity, null);
    else assert.ok(Math.abs((zone.earliest_start.mean_intensity ?? NaN) - atEarliest) <= 0.05 + 1e-9);
  }

  const get = async (query: string, key?: string) => {
    const r = await api.json(`${BASE}?${query}`, key === undefined ? undefined : { key });
    return { status: r.status, body: r.body as unknown as Answer & { code?: string; param?: string } };
  };

  it('the example in the OpenAPI document is what the API answers for its query', async () => {
    const r = await get(BEST_WINDOW_EXAMPLE_QUERY);
    assert.equal(r.status, 200);
    // The answer is the SQL search's…
    const [best] = await sqlBest('LU', r.body.earliest, r.body.latest, 120, 1);
    assert.ok(best !== undefined);
    assertMatches(r.body.zones[0]!, [best], await sqlMean('LU', Date.parse(r.body.earliest), 120));
    // …and the documented example.
    assert.deepEqual(r.body, BEST_WINDOW_EXAMPLE);
    const doc = (await api.json('/api/openapi.json', { key: null })).body as {
      paths: Record<string, Record<string, OpenApiOperation>>;
    };
    const op = doc.paths['/api/v1/carbon-aware/best-window']?.['get'];
    assert.ok(op !== undefined);
    assert.deepEqual(op.responses['200']?.content['application/json']?.schema.examples, [BEST_WINDOW_EXAMPLE]);
    assert.ok(op.description.includes(BEST_WINDOW_EXAMPLE_QUERY), 'the description names the example query');
    for (const p of op.parameters) {
      assert.ok((p.description ?? '').length > 0, p.name);
      if (['zones', 'duration', 'earliest', 'latest'].includes(p.name)) assert.ok(p.examples !== undefined, p.name);
    }
    assert.deepEqual(Object.keys(op.responses).sort(), ['200', '400', '401', '403', '404', '422', '429', '500', '503']);
  });

  for (const [duration, minutes, earliest, latest] of [
    ['PT2H', 120, '2024-05-21T10:00:00Z', '2024-05-24T10:00:00Z'],
    ['PT15M', 15, '2024-05-21T10:00:00Z', '2024-05-22T10:00:00Z'],
    ['PT5H45M', 345, '2024-05-22T07:07:00Z', '2024-05-24T09:50:00Z'],
    ['PT24H', 1440, '2024-05-21T10:00:00Z', '2024-05-24T10:00:00Z'],
  ] as const) {
    it(`LU, ${duration} from ${earliest} to ${latest}: the windows and savings of a brute-force SQL search`, async () => {
      const r = await get(`zones=LU&duration=${duration}&earliest=${earliest}&latest=${latest}&top=5`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const zone = r.body.zones[0]!;
      const expected = await sqlBest('LU', earliest, latest, minutes, 5);
      const firstStart = Math.ceil(Date.parse(earliest) / SLOT_MS) * SLOT_MS;
      assert.equal(zone.earliest_start.start, new Date(firstStart).toISOString());
      assertMatches(zone, expected, await sqlMean('LU', firstStart, minutes));
      assert.equal(zone.data, 'actual');
      assert.ok(zone.windows.every((w) => w.data === 'actual'));
      const fitting = Math.floor((Date.parse(latest) - firstStart) / SLOT_MS) - minutes / 15 + 1;
      assert.equal(zone.candidates.fitting, fitting);
      assert.ok(zone.candidates.complete < fitting === zone.slots.missing > 0, 'the missing quarter hour of LU');
    });
  }

  it('FI (hourly values split into quarter hours): the same as the SQL search, and the window at earliest', async () => {
    const r = await get('zones=FI&duration=PT3H&earliest=2023-05-08T07:20:00Z&latest=2023-05-10T07:00:00Z&top=4');
    assert.equal(r.status, 200);
    const zone = r.body.zones[0]!;
    const expected = await sqlBest('FI', '2023-05-08T07:20:00Z', '2023-05-10T07:00:00Z', 180, 4);
    assertMatches(zone, expected, await sqlMean('FI', Date.parse('2023-05-08T07:30:00Z'), 180));
    assert.equal(zone.earliest_start.start, '2023-05-08T07:30:00.000Z');
  });

  it('one zone without data in the range makes the request a 422 that names it', async () => {
    const r = await get('zones=LU,FI&duration=PT1H&earliest=2024-05-21T10:00:00Z&latest=2024-05-22T10:00:00Z');
    assert.equal(r.status, 422, 'FI has no data in 2024');
    assert.equal(r.body.code, 'api.no_data');
    assert.match(String((r.body as { detail?: string }).detail), / for FI \(stored or forecast\)$/);
  });

  it('defaults: earliest is the data clock now (off a quarter hour: the next one starts), latest 24 h later', async () => {
    clock = { mode: 'demo', now: '2024-05-22T10:05:00.000Z', basis: 'latest complete replayed slot' };
    // LU's stored actuals run past this clock; they are not known yet at its now, so the next 24 h come from the
    // forecast port — here one that answers the stored actual of each slot (a perfect forecast, to compare).
    forecast = async (zone, from, to) => {
      const { rows } = await api.db.query<{ slot_start: Date; value: number }>(
        `SELECT slot_start, value FROM grid_observations WHERE zone = $1 AND metric = 'carbon_intensity_production'
           AND qualifier = 'factors=lifecycle' AND slot_start >= $2 AND slot_start < $3`,
        [zone, new Date(from).toISOString(), new Date(to).toISOString()],
      );
      return rows.map((r) => ({ start: r.slot_start.getTime(), value: r.value }));
    };
    forecastCalls.length = 0;
    try {
      const r = await get('zones=LU&duration=PT1H');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.clock, clock);
      assert.equal(r.body.earliest, '2024-05-22T10:05:00.000Z');
      assert.equal(r.body.latest, new Date(Date.parse(clock.now as string) + DAY_MS).toISOString());
      const zone = r.body.zones[0]!;
      assert.equal(zone.data, 'forecast', 'no actual after the clock is used');
      assert.equal(zone.actual_until, '2024-05-22T10:05:00.000Z');
      assert.deepEqual(
        forecastCalls.map((c) => new Date(c.from).toISOString()),
        ['2024-05-22T10:15:00.000Z'],
      );
      assert.equal(zone.earliest_start.start, '2024-05-22T10:15:00.000Z');
      assert.equal(zone.windows.length, 3, 'top 3 by default');
      assertMatches(
        zone,
        await sqlBest('LU', r.body.earliest, r.body.latest, 60, 3),
        await sqlMean('LU', Date.parse('2024-05-22T10:15:00Z'), 60),
      );
    } finally {
      clock = { mode: 'live', now: '2026-12-06T10:00:00.000Z', basis: 'wall clock' };
      forecast = undefined;
    }
  });

  it('after the newest actual, slots come from the forecast port; per zone and window the answer says which', async () => {
    const earliest = Date.parse('2024-05-24T00:00:00Z');
    const latest = Date.parse('2024-05-25T00:00:00Z');
    // FI's stored day of 2023-05-09 replayed as its forecast for 2024-05-24 (FI has no actuals then).
    const FI_SHIFT = earliest - Date.parse('2023-05-09T00:00:00Z');
    const stored = async (zone: string, from: number, to: number) => {
      const { rows } = await api.db.query<{ slot_start: Date; value: number }>(
        `SELECT slot_start, value FROM grid_observations WHERE zone = $1 AND metric = 'carbon_intensity_production'
           AND qualifier = 'factors=lifecycle' AND slot_start >= $2 AND slot_start < $3`,
        [zone, new Date(from).toISOString(), new Date(to).toISOString()],
      );
      return rows.map((r) => ({ start: r.slot_start.getTime(), value: r.value }));
    };
    // LU's forecast is built from real data too: each slot the value stored 24 hours before ("same slot yesterday").
    const shiftedBy = (zone: string): number => (zone === 'FI' ? FI_SHIFT : DAY_MS);
    forecast = async (zone, from, to) => [
      // A value for a slot before `from`: the port was not asked for it, so it must not count.
      { start: from - SLOT_MS, value: 0 },
      ...(await stored(zone, from - shiftedBy(zone), to - shiftedBy(zone))).map((x) => ({
        start: x.start + shiftedBy(zone),
        value: x.value,
      })),
    ];
    forecastCalls.length = 0;
    try {
      const r = await get(
        `zones=LU,FI&duration=PT4H&earliest=${new Date(earliest).toISOString()}&latest=${new Date(latest).toISOString()}&top=6`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [lu, fi] = r.body.zones;
      assert.ok(lu !== undefined && fi !== undefined);
      assert.deepEqual([lu.zone, fi.zone], ['LU', 'FI']);
      const luUntil = Date.parse('2024-05-24T10:00:00Z');
      const fiUntil = Date.parse('2023-05-10T07:00:00Z');
      assert.equal(lu.actual_until, new Date(luUntil).toISOString());
      assert.equal(fi.actual_until, new Date(fiUntil).toISOString());
      assert.deepEqual(forecastCalls, [
        { zone: 'LU', from: luUntil, to: latest },
        { zone: 'FI', from: earliest, to: latest },
      ]);
      assert.deepEqual([lu.data, fi.data], ['actual+forecast', 'forecast']);
      assert.deepEqual(lu.slots, { actual: 39, forecast: 56, missing: 1 }, 'the actual 03:45 stays missing');
      assert.deepEqual(fi.slots, { actual: 0, forecast: 96, missing: 0 });
      // The independent expectation: actuals before the newest one's end, then the shifted stored values.
      for (const [zone, until] of [
        [lu, luUntil],
        [fi, fiUntil],
      ] as const) {
        const values = new Map<number, { v: number; forecast: boolean }>();
        for (const x of await stored(zone.zone, earliest, Math.min(until, latest)))
          values.set(x.start, { v: x.value, forecast: false });
        const shift = shiftedBy(zone.zone);
        for (const x of await stored(zone.zone, Math.max(until, earliest) - shift, latest - shift))
          values.set(x.start + shift, { v: x.value, forecast: true });
        const all: (Expected & { kind: string })[] = [];
        for (let s = earliest; s + 16 * SLOT_MS <= latest; s += SLOT_MS) {
          const slots = Array.from({ length: 16 }, (_, i) => values.get(s + i * SLOT_MS));
          if (slots.some((v) => v === undefined)) continue;
          const fromForecast = slots.filter((x) => x?.forecast === true).length;
          const kind = fromForecast === 0 ? 'actual' : fromForecast === 16 ? 'forecast' : 'actual+forecast';
          all.push({ start: s, mean: slots.reduce((a, x) => a + (x?.v ?? 0), 0) / 16, kind });
        }
        all.sort((a, b) => a.mean - b.mean || a.start - b.start);
        assertMatches(zone, all.slice(0, 6), all.find((w) => w.start === earliest)?.mean ?? null);
        for (const w of zone.windows) assert.equal(w.data, all.find((x) => x.start === Date.parse(w.start))?.kind);
      }
    } finally {
      forecast = undefined;
    }
  });

  it('the consumption basis uses no forecast, and LU has no flows stored: 422 api.no_data', async () => {
    forecastCalls.length = 0;
    const r = await get('zones=LU&duration=PT1H&earliest=2024-05-21T10:00:00Z&basis=consumption');
    assert.equal(r.status, 422);
    assert.equal(r.body.code, 'api.no_data');
    assert.equal(r.body.param, 'zones');
    assert.deepEqual(forecastCalls, []);
    // Direct factors: the forecast (lifecycle factors) is not asked either; the actuals alone answer.
    const direct = await get('zones=LU&duration=PT1H&earliest=2024-05-24T00:00:00Z&factors=direct');
    assert.equal(direct.status, 200);
    assert.deepEqual(forecastCalls, []);
    const [only] = direct.body.zones;
    assert.ok(only !== undefined);
    assert.deepEqual([only.data, only.slots.actual], ['actual', 39]);
  });

  it('a range with data but no window without a missing slot: 422 api.no_complete_window', async () => {
    const r = await get('zones=LU&duration=PT3H&earliest=2024-05-24T02:00:00Z&latest=2024-05-24T05:00:00Z');
    assert.equal(r.status, 422);
    assert.equal(r.body.code, 'api.no_complete_window');
  });

  it('refuses bad parameters with a 400 naming them', async () => {
    const range = 'earliest=2024-05-21T10:00:00Z&latest=2024-05-22T10:00:00Z';
    const tooMany = Array.from({ length: MAX_WINDOW_ZONES + 1 }, (_, i) => `Z${i}`).join(',');
    const cases: [string, string][] = [
      [`zones=LU&duration=PT20M&${range}`, 'duration'],
      [`zones=LU&duration=P1D&${range}`, 'duration'],
      [`zones=LU&duration=PT0M&${range}`, 'duration'],
      [`zones=LU&duration=2h&${range}`, 'duration'],
      [`zones=LU&duration=PT24H15M&${range}`, 'duration'],
      [`zones=LU&${range}`, 'duration'],
      [`zones=LU&duration=PT1H&top=0&${range}`, 'top'],
      [`zones=LU&duration=PT1H&top=101&${range}`, 'top'],
      [`zones=LU&duration=PT1H&top=2.5&${range}`, 'top'],
      [`zones=${tooMany}&duration=PT1H&${range}`, 'zones'],
      [`zones=LU,LU&duration=PT1H&${range}`, 'zones'],
      [`zones=&duration=PT1H&${range}`, 'zones'],
      [`zones=LU&duration=PT1H&earliest=2024-05-21`, 'earliest'],
      [`zones=LU&duration=PT1H&earliest=2024-05-22T10:00:00Z&latest=2024-05-21T10:00:00Z`, 'latest'],
      [`zones=LU&duration=PT1H&earliest=2024-05-01T00:00:00Z&latest=2024-06-02T00:00:00Z`, 'latest'],
      [`zones=LU&duration=PT2H&earliest=2024-05-21T10:05:00Z&latest=2024-05-21T12:05:00Z`, 'latest'],
      [`zones=LU&duration=PT1H&basis=marginal&${range}`, 'basis'],
      [`zones=LU&duration=PT1H&factors=none&${range}`, 'factors'],
      [`zones=LU&duration=PT1H&window=PT1H&${range}`, 'window'],
      [`zones=LU&duration=PT900S&${range}`, 'duration'],
      [`zones=LU&duration=P0DT1H&${range}`, 'duration'],
      [`zones=LU&duration=PT&${range}`, 'duration'],
      [`zones=LU&duration=PT1H&earliest=9999-12-31T12:00:00Z`, 'earliest'],
      [`zones=LU&duration=PT1H&earliest=9998-12-31T12:00:00Z`, 'latest'],
    ];
    for (const [query, param] of cases) {
      const r = await get(query);
      assert.equal(r.status, 400, `${query}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.param, param, query);
    }
  });

  it('behind the same keys and zone scopes as every read: 401 without a key, 403 outside a key’s zones, 404 unknown', async () => {
    const fi = 'duration=PT1H&earliest=2023-05-08T07:00:00Z&latest=2023-05-09T07:00:00Z';
    assert.equal((await api.request(`${BASE}?zones=FI&${fi}`, { key: null })).status, 401);
    assert.equal((await get(`zones=FI&${fi}`, api.readerFi)).status, 200);
    for (const zones of ['LU', 'FI,LU', 'LU,FI']) {
      const r = await get(`zones=${zones}&${fi}`, api.readerFi);
      assert.equal(r.status, 403, zones);
      assert.equal(r.body.code, 'api.forbidden');
      assert.equal(r.body.param, 'zones');
    }
    const unknown = await get(`zones=FI,XX&${fi}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.param, 'zones');
    assert.equal((await get(`zones=XX&${fi}`, api.readerFi)).status, 404, 'an unknown zone is a 404 for anyone');
  });
});
