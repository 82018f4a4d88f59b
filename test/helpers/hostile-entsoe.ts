import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './fixtures.ts';

const RESOLUTION_MS = { PT1M: 60_000, PT15M: 900_000, PT60M: 3_600_000 } as const;

/**
 * A big ENTSO-E document built from the real `A44_BE_PT60M_A03_2024-10-08.xml`: its header and first TimeSeries,
 * whose Period is repeated `periods` times, each stretched to `stepsPerPeriod` steps of `resolution` with one Point
 * (curveType A03 repeats it to the end). Small bytes, huge expansion: 150 Periods of 1 000 000 PT1M steps are a few
 * dozen KB and 150 M steps. `sequential` puts the Periods one after the other instead of over the same interval.
 */
export function hostileEntsoeDocument(
  periods = 150,
  stepsPerPeriod = 1_000_000,
  options: { readonly resolution?: keyof typeof RESOLUTION_MS; readonly sequential?: boolean } = {},
): Buffer {
  const resolution = options.resolution ?? 'PT1M';
  const source = readFileSync(join(DATA, 'entsoe', 'A44_BE_PT60M_A03_2024-10-08.xml'), 'utf8');
  const seriesStart = source.indexOf('<TimeSeries>');
  const head = source.slice(0, source.indexOf('<Period>'));
  const spanMs = stepsPerPeriod * RESOLUTION_MS[resolution];
  const minute = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
  const parts: string[] = [];
  for (let i = 0; i < periods; i++) {
    const startMs = Date.parse('2000-01-01T00:00:00Z') + (options.sequential === true ? i * spanMs : 0);
    parts.push(
      `<Period>\n            <timeInterval>\n              <start>${minute(startMs)}Z</start>\n              <end>${minute(startMs + spanMs)}Z</end>\n` +
        `            </timeInterval>\n            <resolution>${resolution}</resolution>\n              <Point>\n` +
        `                <position>1</position>\n                 <price.amount>64.98</price.amount>\n              </Point>\n          </Period>\n`,
    );
  }
  const rest = source.slice(source.indexOf('</TimeSeries>', seriesStart));
  const closing = rest.slice(rest.lastIndexOf('</'));
  return Buffer.from(`${head}${parts.join('')}        </TimeSeries>\n${closing}`);
}
