import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { EntsoeParseOutcome, EntsoeSeries } from '../../../src/connectors/entsoe/index.ts';
import type { EntsoePeriod } from '../../../src/connectors/entsoe/index.ts';
import { parseEntsoeDocument, periodSteps } from '../../../src/connectors/entsoe/index.ts';
import { formatUtc, parseResolution } from '../../../src/time/index.ts';
import {
  entsoeFixture,
  entsoeFixtureNames,
  entsoeFixtureText,
  entsoeManifest,
  extraEntsoeDocuments,
} from '../../helpers/fixtures.ts';

const stepsOf = (p: EntsoePeriod | undefined) => (p === undefined ? [] : [...periodSteps(p)]);

type SeriesOutcome = Extract<EntsoeParseOutcome, { kind: 'series' }>;

function parseSeries(name: string): SeriesOutcome {
  const outcome = parseEntsoeDocument(entsoeFixture(name));
  assert.equal(outcome.kind, 'series', `${name}: ${JSON.stringify(outcome).slice(0, 300)}`);
  return outcome;
}

function steps(s: EntsoeSeries): { start: string; end: string; value: string; filled: boolean }[] {
  return s.periods.flatMap((p) =>
    stepsOf(p).map((st) => ({
      start: formatUtc(st.start),
      end: formatUtc(st.end),
      value: st.value,
      filled: st.filled,
    })),
  );
}

/** Invariants every series outcome must satisfy, whatever the document. */
function checkInvariants(name: string, text: string, outcome: SeriesOutcome): void {
  const pointElements = (text.match(/<(\w+:)?Point>/g) ?? []).length;
  const seriesElements = (text.match(/<(\w+:)?TimeSeries>/g) ?? []).length;
  assert.equal(outcome.stats.points, pointElements, `${name}: every <Point> is read`);
  assert.equal(outcome.series.length, seriesElements, `${name}: every <TimeSeries> is read`);
  let steps = 0;
  for (const s of outcome.series) {
    for (const p of s.periods) {
      const resolution = parseResolution(p.resolution);
      assert.ok(resolution, `${name}: resolution ${p.resolution}`);
      let previousEnd: number | undefined;
      let previousPosition = 0;
      for (const st of stepsOf(p)) {
        assert.ok(st.start >= p.start && st.end <= p.end && st.start < st.end, `${name}: step inside its Period`);
        assert.ok(st.position > previousPosition, `${name}: steps in position order`);
        if (resolution.kind === 'fixed') assert.equal(st.end - st.start, resolution.ms, `${name}: fixed step length`);
        assert.match(st.value, /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/, `${name}: normalised decimal`);
        if (s.curveType === 'A03' && previousEnd !== undefined)
          assert.equal(st.start, previousEnd, `${name}: A03 is contiguous`);
        if (s.curveType === 'A01') assert.equal(st.filled, false, `${name}: A01 never fills`);
        previousEnd = st.end;
        previousPosition = st.position;
      }
      steps += stepsOf(p).length;
    }
  }
  assert.equal(outcome.stats.steps, steps);
}

describe('parseEntsoeDocument on every shipped fixture', () => {
  const manifest = entsoeManifest();
  it('the manifest lists every data file', () => {
    const listed = new Set(manifest.map((r) => r.file));
    for (const name of entsoeFixtureNames()) {
      if (/^(ACK|HTTP401|A80)_/.test(name)) continue;
      assert.ok(listed.has(name), `${name} has a manifest row`);
    }
    assert.ok(manifest.length >= 30);
  });
  for (const row of manifest) {
    if (/^(ACK|HTTP401|A80)_/.test(row.file)) continue;
    it(`${row.file}: ${row.timeSeries} TimeSeries, ${row.points} points, ${row.expandedSteps} steps`, () => {
      const outcome = parseSeries(row.file);
      assert.equal(outcome.series.length, row.timeSeries);
      assert.equal(outcome.stats.points, row.points);
      assert.equal(outcome.stats.steps, row.expandedSteps);
      assert.deepEqual(outcome.rejects, []);
      checkInvariants(row.file, entsoeFixtureText(row.file), outcome);
    });
  }
  for (const doc of extraEntsoeDocuments(process.env)) {
    it(`never throws and keeps its invariants on ${doc.name}`, () => {
      const bytes = readFileSync(doc.path);
      const outcome = parseEntsoeDocument(bytes);
      if (outcome.kind === 'series') checkInvariants(doc.name, bytes.toString('utf8'), outcome);
    });
  }
});

describe('replies without data', () => {
  it('an Acknowledgement "no matching data" is a typed no_data result with reason code and text', () => {
    const outcome = parseEntsoeDocument(entsoeFixture('ACK_999_no-matching-data_A44_NL_2023-02-19.xml'));
    assert.equal(outcome.kind, 'no_data');
    assert.equal(outcome.reasonCode, '999');
    assert.match(outcome.reasonText, /^No matching data found for Data item Day-ahead Prices \[12\.1\.D\]/);
  });
  it('the bad-request acknowledgement is also no_data, with its own text', () => {
    const outcome = parseEntsoeDocument(entsoeFixture('ACK_999_bad-request_2023-08-08.xml'));
    assert.equal(outcome.kind, 'no_data');
    assert.equal(outcome.reasonText, 'Bad request message from API');
    assert.equal(outcome.acknowledgement.mRID, '312c6f8d-0bae-4');
  });
  it('an HTML 401 page is a typed html_body error quoting the page', () => {
    const outcome = parseEntsoeDocument(entsoeFixture('HTTP401_unauthorized_html-body.xml'));
    assert.equal(outcome.kind, 'invalid');
    assert.equal(outcome.error.code, 'entsoe.html_body');
    assert.equal(outcome.error.retryable, false);
    assert.match(outcome.error.message, /Unauthorized\. Missing or invalid security token/);
  });
  it('an A80 outage document is unsupported, naming its type', () => {
    const outcome = parseEntsoeDocument(entsoeFixture('A80_BE_planned-unavailability_2025-08-31.xml'));
    assert.deepEqual(outcome, { kind: 'unsupported', root: 'Unavailability_MarketDocument', documentType: 'A80' });
  });
});

describe('values checked against the documents', () => {
  it('NL DST spring day: 23 hourly prices, then 24; trailing zeros dropped', () => {
    const [day1, day2] = parseSeries('A44_NL_PT60M_A01_DST-spring-23h_2016-03-27.xml').series;
    assert.ok(day1 && day2);
    const a = steps(day1);
    const b = steps(day2);
    assert.equal(a.length, 23);
    assert.equal(b.length, 24);
    assert.deepEqual(a[0], {
      start: '2016-03-26T23:00:00Z',
      end: '2016-03-27T00:00:00Z',
      value: '7.33',
      filled: false,
    });
    assert.equal(a[22]?.end, '2016-03-27T22:00:00Z');
    assert.equal(a[22].value, '18.5'); // written "18.50"
    assert.equal(b[0]?.value, '12.88');
    assert.equal(b[23]?.value, '17.37');
    assert.equal(a[1]?.value, '15'); // written "15.00"
    assert.equal(day1.unit, 'EUR/MWH');
    assert.equal(day1.inDomain, '10YNL----------L');
  });

  it('ES P1D month-ahead capacity: one point repeated over 63 local days, the DST day is 23 hours', () => {
    const [s] = parseSeries('A61_ES-FR_P1D_A03_month-ahead_DST_2026-03-17_export.xml').series;
    assert.ok(s);
    const all = steps(s);
    assert.equal(all.length, 63);
    assert.ok(all.every((x) => x.value === '3000'));
    assert.deepEqual(all[0], {
      start: '2026-03-16T23:00:00Z',
      end: '2026-03-17T23:00:00Z',
      value: '3000',
      filled: false,
    });
    assert.ok(all.slice(1).every((x) => x.filled));
    const dstDay = all.find((x) => x.start === '2026-03-28T23:00:00Z');
    assert.equal(dstDay?.end, '2026-03-29T22:00:00Z');
    assert.equal(all.at(-1)?.end, '2026-05-18T22:00:00Z');
    assert.equal(s.timeZone, 'Europe/Madrid');
  });

  it('ES prices across the 15-minute switch: A03 gaps repeat the previous value', () => {
    const outcome = parseSeries('A44_ES_PT60M-to-PT15M_A03_2025-09-29.xml');
    const text = entsoeFixtureText('A44_ES_PT60M-to-PT15M_A03_2025-09-29.xml');
    const periods = outcome.series.flatMap((s) => s.periods);
    assert.deepEqual(
      periods.map((p) => [p.resolution, stepsOf(p).length]),
      [
        ['PT60M', 24],
        ['PT60M', 24],
        ['PT15M', 96],
        ['PT15M', 96],
      ],
    );
    // Independently: the positions written in each Period, read with a regex from the raw XML.
    const rawPeriods = text.split('<Period>').slice(1);
    periods.forEach((p, i) => {
      const given = [...(rawPeriods[i] ?? '').matchAll(/<position>(\d+)<\/position>\s*<price\.amount>([^<]+)</g)].map(
        (m) => [Number(m[1]), m[2]] as const,
      );
      for (const [position, raw] of given) {
        const step = stepsOf(p).find((st) => st.position === position);
        assert.equal(step?.value, String(Number(raw)), `given point ${position} kept`);
        assert.equal(step.filled, false);
      }
      for (const st of stepsOf(p).filter((x) => x.filled)) {
        const previous = given.filter(([pos]) => pos < st.position).at(-1);
        assert.equal(st.value, String(Number(previous?.[1])), `position ${st.position} repeats ${previous?.[0]}`);
      }
    });
    assert.ok(periods.some((p) => stepsOf(p).some((st) => st.filled)));
  });

  it('BE mixed resolutions: three Periods of PT15M, PT15M and PT60M in one TimeSeries', () => {
    const [s] = parseSeries('A44_BE_mixed-resolution-periods_A03_2024-10-06.xml').series;
    const rawPoints = entsoeFixtureText('A44_BE_mixed-resolution-periods_A03_2024-10-06.xml')
      .split('<Period>')
      .slice(1)
      .map((p) => (p.match(/<Point>/g) ?? []).length);
    assert.deepEqual(
      s?.periods.map((p) => [p.resolution, p.pointCount, stepsOf(p).length]),
      [
        ['PT15M', rawPoints[0], 96],
        ['PT15M', rawPoints[1], 96],
        ['PT60M', 24, 24],
      ],
    );
    const third = stepsOf(s.periods[2]).map((x) => x.value);
    const plain = stepsOf(parseSeries('A44_BE_PT60M_A03_2024-10-08.xml').series[0]?.periods[0]).map((x) => x.value);
    assert.deepEqual(third, plain, 'the manifest says the third Period equals the plain PT60M file');
    assert.ok(s.periods.flatMap((p) => stepsOf(p)).some((x) => x.value === '-0.01'));
  });

  it('DE-LU sequences stay apart: classificationSequence 1 is PT60M, 2 is PT15M', () => {
    const outcome = parseSeries('A44_DE-LU_PT60M-PT15M_sequences_A03_2021-01-01.xml');
    const bySequence = new Map<string, string[]>();
    for (const s of outcome.series) {
      bySequence.set(s.classificationSequence ?? '', [
        ...(bySequence.get(s.classificationSequence ?? '') ?? []),
        ...s.periods.map((p) => p.resolution),
      ]);
      assert.equal(s.auctionType, 'A01');
      assert.equal(s.contractType, 'A01');
    }
    assert.deepEqual(bySequence.get('1'), ['PT60M', 'PT60M']);
    assert.deepEqual(bySequence.get('2'), ['PT15M', 'PT15M']);
  });

  it('A09 keeps contract types apart (A01 daily vs A05 total)', () => {
    const outcome = parseSeries('A09_BE-NL_PT15M_2024-03-24_exports.xml');
    const types = outcome.series.map((s) => s.contractType);
    assert.ok(types.includes('A01') && types.includes('A05'));
    assert.ok(outcome.series.every((s) => s.inDomain === '10YNL----------L' && s.outDomain === '10YBE----------2'));
  });

  it('two concatenated documents: series indexes continue across them', () => {
    const outcome = parseSeries('A11_FR-DE_two-concatenated-documents_2023-05.xml');
    assert.equal(outcome.documents.length, 2);
    assert.deepEqual(
      outcome.series.map((s) => [s.index, s.document.index]),
      [
        [0, 0],
        [1, 1],
      ],
    );
  });

  it('FR prices without a document mRID: mRID is null, everything else is read', () => {
    const outcome = parseSeries('A44_FR_PT60M_A01_2023-05-07.xml');
    assert.equal(outcome.documents[0]?.mRID, null);
    assert.equal(outcome.documents[0].type, 'A44');
    assert.equal(outcome.stats.steps, 48);
  });

  it('CZ single-point load: a one-year Period with one point gives one step, nothing invented', () => {
    const [s] = parseSeries('A65_A16_CZ_PT60M_single-point_guide-sample_2016.xml').series;
    assert.equal(stepsOf(s?.periods[0]).length, 1);
    assert.equal(s?.outDomain, '10YCZ-CEPS-----N');
  });

  it('SE4 negative prices are exact', () => {
    const [s] = parseSeries('A44_SE4_PT60M_A01_2023-08-07.xml').series;
    assert.equal(stepsOf(s?.periods[0])[0]?.value, '-0.19');
    assert.equal(stepsOf(s?.periods[0])[1]?.value, '-1.2');
  });

  it('LU generation: one production type split over two TimeSeries, each kept with its psrType', () => {
    const outcome = parseSeries('A75_LU_PT15M_A01_2024-05-21.xml');
    const psr = outcome.series.map((s) => s.psrType);
    const repeated = psr.filter((p, i) => psr.indexOf(p) !== i);
    assert.ok(repeated.length > 0, `some psrType appears in two TimeSeries: ${psr.join(',')}`);
    assert.ok(outcome.series.every((s) => s.inDomain === '10YLU-CEGEDEL-NQ' && s.unit === 'MAW'));
  });

  it('A65 load uses outBiddingZone_Domain', () => {
    const outcome = parseSeries('A65_A01_DK2_PT60M_forecast_2023-12-28.xml');
    assert.ok(outcome.series.every((s) => s.outDomain === '10YDK-2--------M' && s.inDomain === null));
    assert.equal(outcome.documents[0]?.processType, 'A01');
  });
});
