import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem } from '../../web/src/api-client.ts';
import {
  barKind,
  describeMeterError,
  formatExact,
  loadChartSpec,
  loadTotal,
  qualityCounts,
  stillFilling,
  sumDecimals,
} from '../../web/src/meter-load.ts';
import type { LoadPoint, LoadSeries } from '../../web/src/meter-types.ts';
import { decodeGroupLoad, decodeMeter, decodeMeterReadings } from '../../web/src/meter-types.ts';

const T0 = Date.parse('2025-10-25T22:00:00Z');
const Q = 900_000;

function point(i: number, value: string | null, quality: LoadPoint['quality'], final = true): LoadPoint {
  return { ts: T0 + i * Q, value, quality: value === null ? 'missing' : quality, final };
}

function series(points: readonly LoadPoint[], resolution: LoadSeries['resolution'] = 'PT15M'): LoadSeries {
  return { subject: 'm1', quantity: 'energy_import', unit: 'kWh', timeZone: 'Europe/Berlin', resolution, points };
}

const labels = (spec: ReturnType<typeof loadChartSpec>): string[] => spec.lines.map((l) => l.label);

describe('meter load chart', () => {
  const points = [
    point(0, '0.25', 'measured'),
    point(1, '0.5', 'estimated'),
    point(2, null, 'missing'),
    point(3, '0.75', 'substituted'),
    point(4, '1', 'measured', false),
  ];

  it('day view: final values as the line, gaps where missing, markers per quality, provisional on its own line', () => {
    const end = T0 + 5 * Q;
    const spec = loadChartSpec(series(points), 'day', end, 'test');
    assert.deepEqual(labels(spec), ['Energy', 'Provisional', 'Estimated', 'Substituted', 'Missing']);
    // One x per window plus the end of the last, so that the axis spans the whole period.
    assert.deepEqual(
      spec.xs,
      [0, 1, 2, 3, 4, 5].map((i) => (T0 + i * Q) / 1000),
    );
    const [energy, provisional, estimated, substituted, missing] = spec.lines;
    assert.ok(energy && provisional && estimated && substituted && missing);
    assert.deepEqual(energy.values, [0.25, 0.5, null, 0.75, null, null]);
    assert.equal(energy.step, true);
    assert.deepEqual(provisional.values, [null, null, null, null, 1, null]);
    assert.deepEqual(provisional.dash, [6, 4]);
    assert.deepEqual(estimated.values, [null, 0.5, null, null, null, null]);
    assert.equal(estimated.marker, true);
    assert.deepEqual(substituted.values, [null, null, null, 0.75, null, null]);
    // Missing windows are marked on the zero line, and the legend says so instead of "0 kWh".
    assert.deepEqual(missing.values, [null, null, 0, null, null, null]);
    assert.equal(missing.valueText?.(0), 'no value');
    assert.equal(spec.timeZone, 'Europe/Berlin');
    assert.equal(spec.fromZero, true);
  });

  it('day view of only measured final values: one line, no markers', () => {
    const spec = loadChartSpec(series([point(0, '1', 'measured'), point(1, '2', 'measured')]), 'day', T0 + 2 * Q, 't');
    assert.deepEqual(labels(spec), ['Energy']);
  });

  it('month view: a bar per day coloured by provisional first, then quality; missing days stay empty', () => {
    const day = 86_400_000;
    const days: LoadPoint[] = [
      { ts: T0, value: '10.5', quality: 'measured', final: true },
      { ts: T0 + day, value: '9', quality: 'estimated', final: true },
      { ts: T0 + 2 * day, value: null, quality: 'missing', final: true },
      { ts: T0 + 3 * day, value: '3', quality: 'estimated', final: false },
    ];
    assert.deepEqual(days.map(barKind), ['measured', 'estimated', 'missing', 'provisional']);
    const spec = loadChartSpec(series(days, 'P1D'), 'month', T0 + 4 * day, 't');
    assert.deepEqual(labels(spec), ['Measured', 'Provisional', 'Estimated']);
    assert.ok(spec.lines.every((l) => l.bars === true));
    assert.deepEqual(spec.lines[0]?.values, [10.5, null, null, null, null]);
    assert.deepEqual(spec.lines[1]?.values, [null, null, null, 3, null]);
    assert.deepEqual(spec.lines[2]?.values, [null, 9, null, null, null]);
    assert.equal(spec.dateOnly, true);
  });

  it('a period is loaded again while it is not over or holds provisional windows', () => {
    const end = T0 + 5 * Q;
    assert.equal(stillFilling([point(0, '1', 'measured')], end, end - 1), true);
    assert.equal(stillFilling([point(0, '1', 'measured', false)], end, end + 1), true);
    assert.equal(stillFilling([point(0, '1', 'measured')], end, end), false);
  });

  it('counts windows per quality and the provisional ones', () => {
    assert.deepEqual(qualityCounts(points), {
      total: 5,
      byQuality: { measured: 2, estimated: 1, substituted: 1, missing: 1 },
      incomplete: 0,
      provisional: 1,
    });
    // A day with a value but missing quarters: the API says missing, the page says incomplete.
    const partial: LoadPoint = { ts: T0, value: '3', quality: 'missing', final: true };
    assert.equal(barKind(partial), 'incomplete');
    assert.deepEqual(qualityCounts([partial]).byQuality.missing, 0);
    assert.equal(qualityCounts([partial]).incomplete, 1);
  });
});

describe('exact sums', () => {
  it('adds decimals without a float on the way', () => {
    assert.equal(sumDecimals(['0.1', '0.2']), '0.3');
    assert.equal(sumDecimals(['0.125', '1.5', '2']), '3.625');
    assert.equal(sumDecimals(['1.10', '2.90']), '4');
    assert.equal(sumDecimals(['-0.5', '0.25']), '-0.25');
    assert.equal(sumDecimals(['123456789012345678.000001', '0.000001']), '123456789012345678.000002');
    assert.equal(sumDecimals([]), '0');
  });

  it('totals the windows with a value, null when none has one', () => {
    assert.equal(
      loadTotal([point(0, '0.1', 'measured'), point(1, null, 'missing'), point(2, '0.2', 'estimated')]),
      '0.3',
    );
    assert.equal(loadTotal([point(0, null, 'missing')]), null);
  });

  it('formats an exact decimal in the locale, keeping every digit', () => {
    assert.equal(formatExact('1234567.0625', 'en-US'), '1,234,567.0625');
    assert.equal(formatExact('1234567.0625', 'de-DE'), '1.234.567,0625');
    assert.equal(formatExact('-12', 'en-US'), '-12');
  });
});

describe('meter answers', () => {
  const row = {
    meter_id: 'DE-1',
    zone: 'DE_LU',
    group: 'north',
    time_zone: 'Europe/Berlin',
    register_type: 'interval',
    interval: 'PT15M',
    annual_consumption_kwh: '3500',
    profile: 'H0',
    lat: null,
    lon: null,
    register_capacity_kwh: null,
    simulated: true,
    valid_from: null,
    valid_to: null,
  };

  it('decodes a registry row, the simulated flag included (absent in an older answer: a device)', () => {
    const meter = decodeMeter(row, 'meter');
    assert.equal(meter.meterId, 'DE-1');
    assert.equal(meter.simulated, true);
    const { simulated: _s, register_capacity_kwh: _c, ...older } = row;
    assert.equal(decodeMeter(older, 'meter').simulated, false);
    assert.throws(() => decodeMeter({ ...row, annual_consumption_kwh: 'lots' }, 'meter'), /annual_consumption_kwh/);
  });

  it('decodes readings keeping values as exact text, and refuses an unknown quality', () => {
    const answer = {
      meter_id: 'DE-1',
      quantity: 'energy_import',
      unit: 'kWh',
      time_zone: 'Europe/Berlin',
      resolution: 'PT15M',
      watermark: null,
      points: [
        { ts: '2025-10-25T22:00:00Z', value: '0.1250', quality: 'measured', final: true },
        { ts: '2025-10-25T22:15:00Z', value: null, quality: 'missing', final: false },
      ],
    };
    const s = decodeMeterReadings(answer, 'readings');
    const [first, second] = s.points;
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.value, '0.1250');
    assert.equal(first.ts, T0);
    assert.equal(second.final, false);
    const bad = { ...answer, points: [{ ...answer.points[0], quality: 'guessed' }] };
    assert.throws(() => decodeMeterReadings(bad, 'readings'), /quality/);
  });

  it('decodes a group load with its counts; a window without quality is missing when it has no value', () => {
    const s = decodeGroupLoad(
      {
        group: 'north',
        quantity: 'energy_import',
        unit: 'kWh',
        time_zone: 'Europe/Berlin',
        resolution: 'P1D',
        points: [
          { ts: '2025-10-25T22:00:00Z', value: '12.5', count: 96, final: true },
          { ts: '2025-10-26T23:00:00Z', value: null, count: 0, final: true },
        ],
      },
      'load',
    );
    assert.equal(s.subject, 'north');
    assert.deepEqual(
      s.points.map((p) => [p.count, p.quality]),
      [
        [96, 'measured'],
        [0, 'missing'],
      ],
    );
  });
});

describe('meter errors', () => {
  it('says what a 404, 403 and 401 mean for meter data', () => {
    assert.match(
      describeMeterError(new ApiProblem(404, 'Not Found', 'no meter x'), 'meter x'),
      /^meter x was not found, or this API key may not read it/,
    );
    assert.match(
      describeMeterError(new ApiProblem(403, 'Forbidden', 'part of the range belongs to another group'), 'meter x'),
      /^This API key may not read meter x: part of the range belongs to another group/,
    );
    assert.match(
      describeMeterError(new ApiProblem(401, 'Unauthorized', 'meter data needs an API key'), 'g'),
      /needs an API key/,
    );
    assert.equal(describeMeterError(new Error('boom'), 'meter x'), 'boom');
  });
});
