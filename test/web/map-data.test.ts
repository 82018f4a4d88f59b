import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  SCALE_STOPS,
  atParam,
  intensityColor,
  mapLimited,
  netFlows,
  parseAt,
  slotEndingAt,
  slotOf,
} from '../../web/src/map-data.ts';
import { MAP_COLUMNS, MAP_ROWS, TILE_PLACES, placedZones } from '../../web/src/map-layout.ts';

describe('map: net flows per border', () => {
  it('nets both directions of a border and points from the net exporter to the net importer', () => {
    const flows = netFlows([
      { from: 'IT_SACO_AC', to: 'IT_SARD', mw: 30 },
      { from: 'IT_SARD', to: 'IT_SACO_AC', mw: 80 },
      { from: 'DK_1', to: 'GB', mw: 102 },
    ]);
    assert.deepEqual(
      flows.map((f) => [f.from, f.to, f.mw, f.gross.length]),
      [
        ['DK_1', 'GB', 102, 1],
        ['IT_SARD', 'IT_SACO_AC', 50, 2],
      ],
    );
  });

  it('a negative stored value is a flow the other way; a zero net keeps the published direction', () => {
    assert.deepEqual(
      netFlows([{ from: 'FR', to: 'ES', mw: -400 }]).map((f) => [f.from, f.to, f.mw]),
      [['ES', 'FR', 400]],
    );
    assert.deepEqual(
      netFlows([
        { from: 'NO_2', to: 'DK_1', mw: 10 },
        { from: 'DK_1', to: 'NO_2', mw: 10 },
      ]).map((f) => [f.from, f.to, f.mw]),
      [['NO_2', 'DK_1', 0]],
    );
  });

  it('leaves out flows of a zone to itself and non-finite values', () => {
    assert.deepEqual(
      netFlows([
        { from: 'FI', to: 'FI', mw: 5 },
        { from: 'FI', to: 'EE', mw: Number.NaN },
      ]),
      [],
    );
  });
});

describe('map: colour scale', () => {
  it('is the stop colour at each stop and between neighbours in between', () => {
    for (const stop of SCALE_STOPS) assert.equal(intensityColor(stop.value).fill, stop.color);
    assert.equal(intensityColor(-5).fill, SCALE_STOPS[0]?.color);
    assert.equal(intensityColor(5000).fill, SCALE_STOPS.at(-1)?.color);
    // Halfway between #1a9850 (0) and #91cf60 (150).
    assert.equal(intensityColor(75).fill, '#56b458');
  });

  it('grows monotonically darker or redder: the text colour stays readable (light on dark fills)', () => {
    assert.equal(intensityColor(300).text, '#111827');
    assert.equal(intensityColor(800).text, '#ffffff');
  });
});

describe('map: time of the map', () => {
  it('reads ?at= as an ISO instant, a bare local time as UTC, and refuses anything else', () => {
    assert.equal(parseAt('2023-12-20T18:00Z'), Date.UTC(2023, 11, 20, 18));
    assert.equal(parseAt('2023-12-20T18:00'), Date.UTC(2023, 11, 20, 18));
    assert.equal(parseAt('2023-12-20T19:00+01:00'), Date.UTC(2023, 11, 20, 18));
    assert.equal(parseAt('yesterday'), null);
    assert.equal(parseAt(''), null);
    assert.equal(parseAt(null), null);
    assert.equal(atParam(Date.UTC(2023, 11, 20, 18)), '2023-12-20T18:00Z');
  });

  it('the data clock’s now closes a slot: the map shows the slot that ends there', () => {
    const now = Date.UTC(2024, 2, 24, 23);
    assert.equal(slotEndingAt(now), Date.UTC(2024, 2, 24, 22, 45));
    assert.equal(slotOf(Date.UTC(2024, 2, 24, 22, 59, 59)), Date.UTC(2024, 2, 24, 22, 45));
  });

  it('runs work with a limit and keeps the input order', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });
});

describe('map: the tile layout', () => {
  it('places every zone on its own cell inside the grid', () => {
    const cells = new Set<string>();
    for (const [code, place] of Object.entries(TILE_PLACES)) {
      assert.ok(place.col >= 0 && place.col < MAP_COLUMNS, `${code} column`);
      assert.ok(place.row >= 0 && place.row < MAP_ROWS, `${code} row`);
      const cell = `${place.col},${place.row}`;
      assert.ok(!cells.has(cell), `${code} shares ${cell}`);
      cells.add(cell);
    }
    assert.equal(placedZones().length, Object.keys(TILE_PLACES).length);
  });

  it('uses the zone codes of the shipped EIC area table', () => {
    const csv = readFileSync(
      fileURLToPath(new URL('../../data/reference/eic-areas.csv', import.meta.url)),
      'utf8',
    ).split('\n');
    const header = (csv[0] ?? '').split(',');
    const index = header.indexOf('code');
    const codes = new Set(csv.slice(1).map((line) => line.split(',')[index] ?? ''));
    assert.deepEqual(
      Object.keys(TILE_PLACES).filter((code) => !codes.has(code)),
      [],
    );
  });
});
