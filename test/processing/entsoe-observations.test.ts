import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { GridSeriesChunkSchema } from '../../src/contracts/index.ts';
import type { ProcessingResult } from '../../src/processing/index.ts';
import { observationsFromEntsoe } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { entsoeXml } from '../helpers/entsoe-xml.ts';
import { entsoeFixture, entsoeFixtureNames, entsoeFixtureText } from '../helpers/fixtures.ts';

const reference = loadReference();
const process = (body: string | Buffer, name = 'test'): ProcessingResult =>
  observationsFromEntsoe(parseEntsoeDocument(body), { reference, fallbackDocumentId: name });
const points = (r: ProcessingResult, pred: (c: GridSeriesChunk) => boolean = () => true) =>
  r.chunks.filter(pred).flatMap((c) =>
    c.points.map((p) => ({
      ...p,
      zone: c.zone,
      metric: c.metric,
      type: c.productionType,
      counterpart: c.counterpartZone,
      qualifier: c.qualifier,
      unit: c.unit,
    })),
  );

describe('real fixtures go through without loss', () => {
  for (const name of entsoeFixtureNames().filter((n) => /^A(75|65|44|11|09|61|69)_/.test(n))) {
    it(`${name}: steps in = steps used + steps dead-lettered, every chunk valid`, () => {
      const r = process(entsoeFixture(name), name);
      const outcome = parseEntsoeDocument(entsoeFixture(name));
      assert.equal(outcome.kind, 'series');
      assert.equal(r.stats.stepsIn, outcome.stats.steps, 'every expanded step counted');
      assert.equal(r.stats.stepsIn, r.stats.stepsUsed + r.stats.stepsRejected);
      assert.equal(r.stats.stepsRejected, 0, JSON.stringify(r.rejects));
      assert.ok(r.stats.observations > 0);
      for (const c of r.chunks) assert.doesNotThrow(() => GridSeriesChunkSchema.parse(c));
      const keys = new Set(
        points(r).map((p) => `${p.zone}|${p.metric}|${p.type}|${p.counterpart}|${p.qualifier}|${p.t}`),
      );
      assert.equal(keys.size, r.stats.observations, 'one value per key and slot');
    });
  }
});

describe('issue time', () => {
  /** One hour of FI load, without a createdDateTime. */
  const fiLoadHour = entsoeXml({
    type: 'A65',
    processType: 'A16',
    series: [
      {
        outDomain: '10YFI-1--------U',
        biddingZone: false,
        periods: [{ start: '2025-10-21T00:00Z', end: '2025-10-21T01:00Z', resolution: 'PT60M', points: [[1, 9000]] }],
      },
    ],
  });

  it("every chunk carries its document's createdDateTime as issuedAt (all real fixtures)", () => {
    let checked = 0;
    for (const name of entsoeFixtureNames().filter((n) => /^A(75|65|44|11|09|61|69)_/.test(n))) {
      const created = /<createdDateTime>([^<]+)<\/createdDateTime>/.exec(entsoeFixtureText(name))?.[1];
      assert.ok(created !== undefined, `${name} has a createdDateTime`);
      const r = observationsFromEntsoe(parseEntsoeDocument(entsoeFixture(name)), {
        reference,
        fallbackDocumentId: name,
        receivedAt: '2099-01-01T00:00:00Z',
      });
      for (const c of r.chunks) {
        assert.equal(c.issuedAt, new Date(created).toISOString().replace('.000Z', 'Z'), name);
        checked++;
      }
    }
    assert.ok(checked > 50, `${checked} chunks checked`);
  });

  it('a document without createdDateTime is issued when it was received; without either, issuedAt is absent', () => {
    const body = fiLoadHour;
    const received = observationsFromEntsoe(parseEntsoeDocument(body), {
      reference,
      fallbackDocumentId: 'x',
      receivedAt: '2025-10-21T06:00:00Z',
    });
    assert.ok(received.chunks.length > 0);
    for (const c of received.chunks) assert.equal(c.issuedAt, '2025-10-21T06:00:00Z');
    for (const c of process(body).chunks) assert.equal('issuedAt' in c, false);
  });

  it('the chunk contract takes issue times to the microsecond (what the database keeps), no finer', () => {
    const c = process(fiLoadHour).chunks[0];
    assert.ok(c !== undefined);
    const at = (issuedAt: string) => GridSeriesChunkSchema.safeParse({ ...c, issuedAt }).success;
    assert.equal(at('2025-10-21T06:00:00Z'), true);
    assert.equal(at('2025-10-21T06:00:00.123Z'), true);
    assert.equal(at('2025-10-21T06:00:00.123456Z'), true);
    assert.equal(at('2025-10-21T06:00:00.1234567Z'), false, 'two issue times 100 ns apart would be equal once stored');
    assert.equal(at('2025-10-21T06:00:00+02:00'), false, 'UTC only');
  });
});

describe('metric registry and spatial mapping', () => {
  it('A75 → generation_actual per production type; LU reports its control area as zone LU, not DE_LU', () => {
    const r = process(entsoeFixture('A75_LU_PT15M_A01_2024-05-21.xml'));
    assert.deepEqual(
      new Set(r.chunks.map((c) => `${c.zone}|${c.metric}|${c.unit}`)),
      new Set(['LU|generation_actual|MW']),
    );
    assert.ok(
      r.chunks.every((c) => /^B\d{2}$/.test(c.productionType) && c.attributes?.['productionTypeName'] !== undefined),
    );
  });
  it('LU: the production type split over two TimeSeries is merged into one key', () => {
    const text = entsoeFixtureText('A75_LU_PT15M_A01_2024-05-21.xml');
    const outcome = parseEntsoeDocument(text);
    assert.equal(outcome.kind, 'series');
    const psr = outcome.series.map((s) => s.psrType);
    const split = psr.find((p, i) => psr.indexOf(p) !== i);
    assert.ok(split);
    const r = process(text);
    const keys = r.chunks.filter((c) => c.productionType === split).map((c) => c.productionType);
    assert.ok(keys.length >= 1);
    const splitSteps = outcome.series
      .filter((s) => s.psrType === split)
      .reduce((n, s) => n + s.periods.reduce((m, p) => m + p.positions.length, 0), 0);
    assert.equal(points(r, (c) => c.productionType === split).length, splitSteps, 'both series end up under one key');
  });
  it('CZ (real document): the B10 outBiddingZone series is consumption_actual, the inBiddingZone one generation', () => {
    const name = 'A75_CZ_PT60M_A01_outBiddingZone-B10_2015-12-31.xml';
    const text = entsoeFixtureText(name);
    // Hourly values of each B10 series, read from the XML text (independent of gridstream's parser).
    const b10 = (role: 'in' | 'out'): Map<string, number> => {
      const series = text
        .split('<TimeSeries>')
        .find((s) => s.includes(`<${role}BiddingZone_Domain.mRID`) && s.includes('<psrType>B10</psrType>'));
      assert.ok(series !== undefined, `${role} B10 series`);
      const start = Date.parse(/<start>([^<]+)<\/start>/.exec(series)?.[1] ?? '');
      const out = new Map<string, number>();
      for (const m of series.matchAll(/<position>(\d+)<\/position>\s*<quantity>([^<]+)<\/quantity>/g))
        out.set(new Date(start + (Number(m[1]) - 1) * 3_600_000).toISOString(), Number(m[2]));
      return out;
    };
    const pumping = b10('out');
    const generating = b10('in');
    assert.equal(pumping.size, 24);
    assert.ok(
      [...pumping].some(([t, v]) => v !== generating.get(t)),
      'two different series, not one counted twice',
    );
    const r = process(entsoeFixture(name), name);
    assert.deepEqual(
      new Set(r.chunks.filter((c) => c.productionType === 'B10').map((c) => `${c.zone}|${c.metric}`)),
      new Set(['CZ|generation_actual', 'CZ|consumption_actual']),
    );
    const check = (metric: string, expected: Map<string, number>): void => {
      const got = points(r, (c) => c.productionType === 'B10' && c.metric === metric);
      assert.ok(got.length >= expected.size);
      for (const p of got) {
        const t = Date.parse(p.t);
        const hour = new Date(t - (t % 3_600_000)).toISOString();
        assert.equal(p.v, expected.get(hour), `${metric} at ${p.t}`);
      }
    };
    check('consumption_actual', pumping);
    check('generation_actual', generating);
  });
  it('A65 → load, A44 → price with its sequence, A11 → flow from out to in, A09 → exchange per contract type', () => {
    const load = process(entsoeFixture('A65_A01_DK2_PT60M_forecast_2023-12-28.xml'));
    assert.deepEqual(
      new Set(load.chunks.map((c) => `${c.zone}|${c.metric}`)),
      new Set(['DK_2|load_forecast_day_ahead']),
    );
    const prices = process(entsoeFixture('A44_DE-LU_PT60M-PT15M_sequences_A03_2021-01-01.xml'));
    assert.deepEqual(
      new Set(prices.chunks.map((c) => `${c.zone}|${c.metric}|${c.qualifier}|${c.unit}`)),
      new Set(['DE_LU|price_day_ahead|sequence=1|EUR/MWh', 'DE_LU|price_day_ahead|sequence=2|EUR/MWh']),
    );
    const flows = process(entsoeFixture('A11_DK1-GB_PT60M_2023-12-20_exports.xml'));
    assert.deepEqual(new Set(flows.chunks.map((c) => `${c.zone}→${c.counterpartZone}`)), new Set(['DK_1→GB']));
    const exchanges = process(entsoeFixture('A09_BE-NL_PT15M_2024-03-24_exports.xml'));
    assert.deepEqual(new Set(exchanges.chunks.map((c) => c.qualifier)), new Set(['contract=A01', 'contract=A05']));
  });
  it('an unknown EIC is dead-lettered as unmapped_area with the code; the rest of the document goes through', () => {
    const text = entsoeFixtureText('A75_FI_PT60M_A01_2023-05-08.xml').replace('10YFI-1--------U', '10YXX-UNKNOWN--Q');
    const outcome = parseEntsoeDocument(text);
    assert.equal(outcome.kind, 'series');
    const firstSeriesSteps = outcome.series[0]?.periods.reduce((n, p) => n + p.positions.length, 0) ?? 0;
    const r = process(text);
    assert.equal(r.rejects.length, 1);
    assert.equal(r.rejects[0]?.code, 'processing.unmapped_area');
    assert.equal(r.rejects[0].position['eic'], '10YXX-UNKNOWN--Q');
    assert.equal(r.rejects[0].position['seriesIndex'], 0);
    assert.equal(r.stats.stepsRejected, firstSeriesSteps);
    assert.equal(r.stats.stepsIn, r.stats.stepsUsed + r.stats.stepsRejected);
    assert.ok(r.chunks.length > 0 && r.chunks.every((c) => c.zone === 'FI'));
  });
  it('an unmodelled document type is dead-lettered as unmapped_metric; an outage document as unsupported_document', () => {
    const doc = entsoeXml({
      type: 'A72',
      processType: 'A16',
      series: [
        {
          inDomain: '10YFR-RTE------C',
          periods: [{ start: '2024-01-01T00:00Z', end: '2024-01-01T01:00Z', resolution: 'PT60M', points: [[1, 5]] }],
        },
      ],
    });
    assert.equal(process(doc).rejects[0]?.code, 'processing.unmapped_metric');
    assert.equal(
      process(entsoeFixture('A80_BE_planned-unavailability_2025-08-31.xml')).rejects[0]?.code,
      'processing.unsupported_document',
    );
  });
});

describe('temporal standardisation', () => {
  const hour = (unit: string, values: number[], resolution = 'PT60M') =>
    entsoeXml({
      type: 'A75',
      processType: 'A16',
      series: [
        {
          inDomain: '10YFR-RTE------C',
          psrType: 'B16',
          unit,
          periods: [
            {
              start: '2024-06-01T00:00Z',
              end: `2024-06-01T0${values.length}:00Z`,
              resolution,
              points: values.map((v, i) => [i + 1, v] as const),
            },
          ],
        },
      ],
    });
  it('an intensive PT60M value (MW) fills each of its four quarters, flagged split', () => {
    const r = process(hour('MAW', [100, 60]));
    assert.deepEqual(
      points(r).map((p) => [p.t, p.v, p.f]),
      [
        ['2024-06-01T00:00:00Z', 100, ['split']],
        ['2024-06-01T00:15:00Z', 100, ['split']],
        ['2024-06-01T00:30:00Z', 100, ['split']],
        ['2024-06-01T00:45:00Z', 100, ['split']],
        ['2024-06-01T01:00:00Z', 60, ['split']],
        ['2024-06-01T01:15:00Z', 60, ['split']],
        ['2024-06-01T01:30:00Z', 60, ['split']],
        ['2024-06-01T01:45:00Z', 60, ['split']],
      ],
    );
  });
  it('an extensive PT60M value (MWh) is divided evenly over its quarters', () => {
    const r = process(hour('MWH', [100]));
    assert.deepEqual(
      points(r).map((p) => p.v),
      [25, 25, 25, 25],
    );
    assert.equal(points(r)[0]?.unit, 'MWh');
  });
  it('finer than 15 minutes: PT5M intensive values are averaged, extensive summed', () => {
    const fine = (unit: string) =>
      entsoeXml({
        type: 'A75',
        processType: 'A16',
        series: [
          {
            inDomain: '10YFR-RTE------C',
            psrType: 'B16',
            unit,
            periods: [
              {
                start: '2024-06-01T00:00Z',
                end: '2024-06-01T00:15Z',
                resolution: 'PT5M',
                points: [
                  [1, 10],
                  [2, 20],
                  [3, 60],
                ],
              },
            ],
          },
        ],
      });
    assert.deepEqual(
      points(process(fine('MAW'))).map((p) => [p.v, p.f]),
      [[30, ['aggregated']]],
    );
    assert.deepEqual(
      points(process(fine('MWH'))).map((p) => [p.v, p.f]),
      [[90, ['aggregated']]],
    );
    const partial = fine('MAW').replace('<Point><position>3</position><quantity>60</quantity></Point>', '');
    assert.deepEqual(
      points(process(partial)).map((p) => [p.v, p.f]),
      [[15, ['aggregated', 'incomplete']]],
    );
  });
  it('P1D across the spring DST change: the 23-hour local day becomes 92 quarters', () => {
    const r = process(entsoeFixture('A61_ES-FR_P1D_A03_month-ahead_DST_2026-03-17_export.xml'));
    const day = points(r).filter((p) => p.t >= '2026-03-28T23:00:00Z' && p.t < '2026-03-29T22:00:00Z');
    assert.equal(day.length, 92);
    assert.ok(day.every((p) => p.v === 3000));
  });
  it('A03-filled source values stay flagged filled', () => {
    const r = process(entsoeFixture('A44_ES_PT60M-to-PT15M_A03_2025-09-29.xml'));
    assert.ok(points(r).some((p) => p.f?.includes('filled') === true));
  });
});

describe('overlapping values for one key', () => {
  const doc = (revision: number, value: number, mRID: string) =>
    entsoeXml({
      mRID,
      revision,
      type: 'A75',
      processType: 'A16',
      series: [
        {
          inDomain: '10YFR-RTE------C',
          psrType: 'B16',
          periods: [
            {
              start: '2024-06-01T00:00Z',
              end: '2024-06-01T00:30Z',
              resolution: 'PT15M',
              points: [
                [1, value],
                [2, value],
              ],
            },
          ],
        },
        {
          inDomain: '10YFR-RTE------C',
          psrType: 'B16',
          periods: [
            {
              start: '2024-06-01T00:15Z',
              end: '2024-06-01T00:45Z',
              resolution: 'PT15M',
              points: [
                [1, value + 1],
                [2, value + 1],
              ],
            },
          ],
        },
      ],
    });
  it('are resolved deterministically (later series wins at equal revision) and the choice is recorded', () => {
    const r = process(doc(1, 10, 'a'));
    assert.deepEqual(
      points(r).map((p) => [p.t.slice(11, 16), p.v, p.f ?? []]),
      [
        ['00:00', 10, []],
        ['00:15', 11, ['overlap_resolved']],
        ['00:30', 11, []],
      ],
    );
    assert.equal(r.stats.overlapsResolved, 1);
    assert.deepEqual(points(process(doc(1, 10, 'a'))), points(r), 'same input, same output');
  });
  it('a value given in the document beats one repeated by A03 at the same revision', () => {
    const text = entsoeXml({
      type: 'A44',
      series: [
        {
          inDomain: '10YFR-RTE------C',
          outDomain: '10YFR-RTE------C',
          biddingZone: false,
          currency: 'EUR',
          curveType: 'A03',
          periods: [{ start: '2024-06-01T00:00Z', end: '2024-06-01T00:30Z', resolution: 'PT15M', points: [[1, 50]] }],
        },
        {
          inDomain: '10YFR-RTE------C',
          outDomain: '10YFR-RTE------C',
          biddingZone: false,
          currency: 'EUR',
          curveType: 'A01',
          periods: [{ start: '2024-06-01T00:15Z', end: '2024-06-01T00:30Z', resolution: 'PT15M', points: [[1, 40]] }],
        },
      ],
    }).replace(/<TimeSeries><mRID>1/, '<TimeSeries><mRID>1');
    const values = points(process(text)).map((p) => p.v);
    assert.deepEqual(values, [50, 40]);
  });
});

describe('products that share a border are kept apart', () => {
  it('A61 day-ahead (hourly) and month-ahead (daily) capacities never share a key, with or without the request', () => {
    const dayAhead = process(entsoeFixture('A61_ES-FR_PT60M_A03_day-ahead_2026-03-19_export.xml'));
    const monthAhead = process(entsoeFixture('A61_ES-FR_P1D_A03_month-ahead_DST_2026-03-17_export.xml'));
    const qualifier = (r: ProcessingResult) =>
      new Set(r.chunks.map((c) => `${c.zone}|${c.counterpartZone}|${c.qualifier}`));
    assert.deepEqual(qualifier(dayAhead), new Set(['FR|ES|resolution=PT60M']));
    assert.deepEqual(qualifier(monthAhead), new Set(['FR|ES|resolution=P1D']));
    const withRequest = observationsFromEntsoe(
      parseEntsoeDocument(entsoeFixture('A61_ES-FR_P1D_A03_month-ahead_DST_2026-03-17_export.xml')),
      {
        reference,
        fallbackDocumentId: 'x',
        request: {
          documentType: 'A61',
          contractType: 'A03',
          domains: {},
          periodStart: '2026-03-16T23:00:00Z',
          periodEnd: '2026-05-18T22:00:00Z',
          zones: [],
        },
      },
    );
    assert.deepEqual(qualifier(withRequest), new Set(['FR|ES|contract=A03']));
  });
});

describe('property: mapping never loses a record', () => {
  const known = ['10YFR-RTE------C', '10YBE----------2', '10Y1001A1001A82H', '10YLU-CEGEDEL-NQ', '10YFI-1--------U'];
  const unknown = ['10YXX-NOWHERE--1', '10Y1001A1001ZZZZ'];
  it('every source step becomes an observation or is dead-lettered, whatever the areas, types and resolutions', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            eic: fc.constantFrom(...known, ...unknown),
            psr: fc.constantFrom('B16', 'B19', 'B04', 'B99'),
            resolution: fc.constantFrom('PT15M', 'PT30M', 'PT60M'),
            hours: fc.integer({ min: 1, max: 6 }),
            gaps: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (series) => {
          const doc = entsoeXml({
            type: 'A75',
            processType: 'A16',
            series: series.map((s) => {
              const minutes = Number(/\d+/.exec(s.resolution)?.[0]);
              const steps = (s.hours * 60) / minutes;
              return {
                inDomain: s.eic,
                psrType: s.psr,
                periods: [
                  {
                    start: '2024-06-01T00:00Z',
                    end: `2024-06-01T${String(s.hours).padStart(2, '0')}:00Z`,
                    resolution: s.resolution,
                    points: Array.from({ length: steps }, (_, i) => [i + 1, i * 10] as const).filter(
                      (_, i) => i % (s.gaps + 1) === 0,
                    ),
                  },
                ],
              };
            }),
          });
          const r = process(doc);
          assert.equal(r.stats.stepsIn, r.stats.stepsUsed + r.stats.stepsRejected);
          const rejectedSeries = new Set(r.rejects.map((x) => x.position['seriesIndex']));
          series.forEach((s, i) => {
            const bad = unknown.includes(s.eic) || s.psr === 'B99';
            assert.equal(
              rejectedSeries.has(i),
              bad,
              `series ${i} (${s.eic}, ${s.psr}) ${bad ? 'dead-lettered' : 'kept'}`,
            );
          });
          if (r.rejects.length === 0) assert.equal(r.stats.stepsRejected, 0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
