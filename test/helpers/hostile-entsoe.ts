import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './fixtures.ts';

/**
 * A hostile ENTSO-E document built from the real `A44_BE_PT60M_A03_2024-10-08.xml`: its header and first TimeSeries,
 * whose Period is repeated `periods` times, each stretched to `stepsPerPeriod` steps of PT1M with one Point (curveType
 * A03 repeats it to the end). Small bytes, huge expansion: 150 Periods of 1 000 000 steps are ~85 KB.
 */
export function hostileEntsoeDocument(periods = 150, stepsPerPeriod = 1_000_000): Buffer {
  const source = readFileSync(join(DATA, 'entsoe', 'A44_BE_PT60M_A03_2024-10-08.xml'), 'utf8');
  const seriesStart = source.indexOf('<TimeSeries>');
  const periodStart = source.indexOf('<Period>');
  const head = source.slice(0, periodStart);
  const startMs = Date.parse('2020-01-01T00:00:00Z');
  const end = new Date(startMs + stepsPerPeriod * 60_000).toISOString().slice(0, 16);
  const period =
    `<Period>\n            <timeInterval>\n              <start>2020-01-01T00:00Z</start>\n              <end>${end}Z</end>\n` +
    `            </timeInterval>\n            <resolution>PT1M</resolution>\n              <Point>\n` +
    `                <position>1</position>\n                 <price.amount>64.98</price.amount>\n              </Point>\n          </Period>\n`;
  const tail = source.slice(source.indexOf('</TimeSeries>', seriesStart));
  const rootClose = tail.slice(tail.indexOf('</TimeSeries>') + '</TimeSeries>'.length);
  const closing = rootClose.slice(rootClose.lastIndexOf('</'));
  return Buffer.from(`${head}${period.repeat(periods)}        </TimeSeries>\n${closing}`);
}
