import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { parseEntsoeDocument, parseEntsoeDocumentAsync } from '../src/connectors/entsoe/index.ts';
import { hostileEntsoeDocument } from '../test/helpers/hostile-entsoe.ts';
import type { Benchmark } from './figure.ts';
import { figure, interleavedMedians } from './figure.ts';

/** Production types of the synthetic year: every B-code a zone can report generation for. */
const PSR_TYPES = [
  'B01',
  'B02',
  'B03',
  'B04',
  'B05',
  'B06',
  'B07',
  'B08',
  'B09',
  'B10',
  'B11',
  'B12',
  'B13',
  'B14',
  'B15',
  'B16',
  'B17',
  'B18',
  'B19',
  'B20',
];

/**
 * A year (2024, leap: 35 136 quarter hours) of one zone at PT15M for 20 production types, built from the real
 * `A75_LU_PT15M_A01_2024-05-21.xml`: its header, its element layout and indentation, and its quantities cycled
 * in document order.
 */
export function buildYearDocument(): { bytes: Buffer; points: number } {
  const source = readFileSync(new URL('../data/entsoe/A75_LU_PT15M_A01_2024-05-21.xml', import.meta.url), 'utf8');
  const header = source
    .slice(0, source.indexOf('  <TimeSeries>'))
    .replace(
      /<time_Period\.timeInterval>[\s\S]*?<\/time_Period\.timeInterval>/,
      '<time_Period.timeInterval>\n    <start>2023-12-31T23:00Z</start>\n    <end>2024-12-31T23:00Z</end>\n  </time_Period.timeInterval>',
    );
  const values = [...source.matchAll(/<quantity>([^<]+)<\/quantity>/g)].map((m) => m[1] ?? '0');
  const steps = 366 * 96;
  const parts: string[] = [header];
  let k = 0;
  for (const psr of PSR_TYPES) {
    parts.push(
      `  <TimeSeries>\n    <mRID>${psr}</mRID>\n    <businessType>A01</businessType>\n    <objectAggregation>A08</objectAggregation>\n` +
        `    <inBiddingZone_Domain.mRID codingScheme="A01">10YLU-CEGEDEL-NQ</inBiddingZone_Domain.mRID>\n` +
        `    <quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>\n    <curveType>A01</curveType>\n` +
        `    <MktPSRType>\n      <psrType>${psr}</psrType>\n    </MktPSRType>\n    <Period>\n      <timeInterval>\n` +
        `        <start>2023-12-31T23:00Z</start>\n        <end>2024-12-31T23:00Z</end>\n      </timeInterval>\n      <resolution>PT15M</resolution>\n`,
    );
    const points: string[] = [];
    for (let position = 1; position <= steps; position++) {
      points.push(
        `      <Point>\n        <position>${position}</position>\n        <quantity>${values[k++ % values.length] ?? '0'}</quantity>\n      </Point>\n`,
      );
    }
    parts.push(points.join(''), '    </Period>\n  </TimeSeries>\n');
  }
  parts.push('</GL_MarketDocument>\n');
  return { bytes: Buffer.from(parts.join('')), points: steps * PSR_TYPES.length };
}

/** saxes with handlers that do nothing: the raw tokenising speed of the XML library the parser is built on. */
function tokenizeOnly(bytes: Buffer): number {
  let events = 0;
  const parser = new SaxesParser({ position: true });
  parser.on('opentag', () => {
    events++;
  });
  parser.on('text', () => {
    events++;
  });
  parser.on('closetag', () => {
    events++;
  });
  parser.write(bytes.toString('utf8')).close();
  return events;
}

export const entsoeParseBenchmark: Benchmark = {
  name: 'entsoe-parse',
  description:
    'ENTSO-E XML → canonical series: a year of PT15M for 20 production types vs saxes tokenising the same bytes',
  async run(emit) {
    const { bytes, points } = buildYearDocument();
    const mb = bytes.byteLength / 1e6;
    let steps = 0;
    const [parseMs, tokenMs] = await interleavedMedians(
      () => {
        const outcome = parseEntsoeDocument(bytes, { maxBytes: 512 * 1024 * 1024 });
        if (outcome.kind !== 'series') throw new Error(`unexpected outcome ${outcome.kind}`);
        steps = outcome.stats.steps;
      },
      () => tokenizeOnly(bytes),
      5,
    );
    if (steps !== points) throw new Error(`parsed ${steps} steps, expected ${points}`);
    const baseline = { name: 'saxes 6 tokenising only (no-op handlers), same bytes', value: mb / (tokenMs / 1000) };
    emit(
      figure(
        'entsoe-parse',
        'throughput',
        mb / (parseMs / 1000),
        'MB/s',
        baseline,
        `${mb.toFixed(1)} MB, ${points} points`,
      ),
    );
    emit(
      figure('entsoe-parse', 'points', points / (parseMs / 1000), 'points/s', {
        name: 'saxes tokenising only, points/s',
        value: points / (tokenMs / 1000),
      }),
    );
    // What giving the event loop a turn every 20 ms costs (the process role and the CLI parse this way).
    const [cooperativeMs, syncMs] = await interleavedMedians(
      () => parseEntsoeDocumentAsync(bytes, { maxBytes: 512 * 1024 * 1024 }),
      () => parseEntsoeDocument(bytes, { maxBytes: 512 * 1024 * 1024 }),
      5,
    );
    emit(
      figure('entsoe-parse', 'cooperative throughput', mb / (cooperativeMs / 1000), 'MB/s', {
        name: 'the same parse in one go (no turns of the event loop)',
        value: mb / (syncMs / 1000),
      }),
    );
    // A few dozen KB that would expand to 150 M steps: refused from the Periods' intervals before expanding.
    const hostile = hostileEntsoeDocument(150, 1_000_000);
    const [refuseMs, hostileTokenMs] = await interleavedMedians(
      () => {
        const outcome = parseEntsoeDocument(hostile);
        if (outcome.kind !== 'invalid') throw new Error(`150 M steps not refused: ${outcome.kind}`);
      },
      () => tokenizeOnly(hostile),
      5,
    );
    emit(
      figure(
        'entsoe-parse',
        'refusal of a 150 M-step document',
        refuseMs,
        'ms',
        { name: 'saxes tokenising the same bytes', value: hostileTokenMs, lowerIsBetter: true },
        `${(hostile.byteLength / 1e3).toFixed(0)} KB, 150 Periods of 1 000 000 PT1M steps (before the cap: ~10 s and 2 GB to parse)`,
      ),
    );
  },
};
