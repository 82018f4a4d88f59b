import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gridstream } from '../helpers/cli.ts';
import { DATA } from '../helpers/fixtures.ts';

const entsoe = (name: string) => join(DATA, 'entsoe', name);
const emaps = (name: string) => join(DATA, 'electricitymaps', name);

describe('gridstream process', () => {
  it('CSV starts with the documented columns; ENTSO-E and Electricity Maps files together', async () => {
    const r = await gridstream([
      'process',
      entsoe('A75_SE4_PT60M_A03_2025-10-20.xml'),
      emaps('v3_carbon-intensity_history_DE_2024-03-05.json'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^zone,metric,production_type,counterpart_zone,slot_start_utc,value,unit/);
    assert.ok(lines.some((l) => l.startsWith('SE_4,generation_actual,B')));
    assert.ok(lines.some((l) => l.startsWith('DE,carbon_intensity_consumption,,,2024-03-05T20:00:00Z,599,gCO2eq/kWh')));
  });
  it('NDJSON rows carry flags and attributes', async () => {
    const r = await gridstream(['process', entsoe('A44_ES_PT60M-to-PT15M_A03_2025-09-29.xml'), '--format', 'ndjson']);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { flags: string[]; unit: string });
    assert.equal(rows.length, 384);
    assert.ok(rows.some((x) => x.flags.includes('filled')));
    assert.ok(rows.every((x) => x.unit === 'EUR/MWh'));
  });
  it('rejects are reported with their position and exit 1; unmodelled documents only warn', async () => {
    const r = await gridstream(['process', emaps('v3_carbon-intensity_latest_US-CAR-DUK_2024-03-06.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rejected \(processing.unmapped_area\).*zone=US-CAR-DUK/);
    const a80 = await gridstream(['process', entsoe('A80_BE_planned-unavailability_2025-08-31.xml')]);
    assert.equal(a80.code, 0);
    assert.match(a80.stderr, /skipped \(processing.unsupported_document\)/);
  });
});

describe('gridstream carbon', () => {
  it('prints the documented header and one row per zone and slot', async () => {
    const r = await gridstream(['carbon', entsoe('A75_FI_PT60M_A01_2023-05-08.xml')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'zone,slot_start_utc,production_lifecycle,production_direct,consumption_lifecycle,renewable_share,fossil_free_share,completeness',
    );
    assert.equal(lines.length, 1 + 48 * 4, 'two days of PT60M data, four quarters an hour');
    const [zone, slot, lifecycle, direct, consumption] = (lines[1] ?? '').split(',');
    assert.equal(zone, 'FI');
    assert.equal(slot, '2023-05-08T07:00:00Z');
    assert.ok(Number(lifecycle) > 0 && Number(direct) >= 0);
    assert.equal(consumption, '', 'no flows in the input: consumption column empty');
  });
});
