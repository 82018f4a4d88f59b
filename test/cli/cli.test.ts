import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gridstream, spawnGridstream } from '../helpers/cli.ts';
import { COMMANDS } from '../../src/cli/index.ts';
import { DATA } from '../helpers/fixtures.ts';

const fixture = (name: string) => join(DATA, 'entsoe', name);

describe('gridstream CLI', () => {
  it('--help lists every command; every command answers --help with exit 0', async () => {
    const top = await gridstream(['--help']);
    assert.equal(top.code, 0);
    for (const c of COMMANDS) {
      assert.match(top.stdout, new RegExp(c.name));
      const help = await gridstream([...c.name.split(' '), '--help']);
      assert.equal(help.code, 0, c.name);
      assert.match(help.stdout, new RegExp(`usage: gridstream ${c.name}`));
    }
  });
  it('smoke test of the real binary: the entry point runs a command and returns its exit code', async () => {
    const version = await spawnGridstream(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^gridstream \d+\.\d+\.\d+\n$/);
    const unknown = await spawnGridstream(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
  it('an unknown command is a usage error', async () => {
    const r = await gridstream(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  });
});

describe('gridstream entsoe parse', () => {
  it('prints the exact CSV header and one row per step in document order', async () => {
    const r = await gridstream(['entsoe', 'parse', fixture('A44_NL_PT60M_A01_DST-spring-23h_2016-03-27.xml')]);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'start_utc,end_utc,series_index,in_domain,out_domain,psr_type,business_type,resolution,value,unit',
    );
    assert.equal(lines.length, 1 + 47);
    assert.equal(
      lines[1],
      '2016-03-26T23:00:00Z,2016-03-27T00:00:00Z,0,10YNL----------L,10YNL----------L,,A62,PT60M,7.33,EUR/MWH',
    );
    assert.equal(
      lines[2],
      '2016-03-27T00:00:00Z,2016-03-27T01:00:00Z,0,10YNL----------L,10YNL----------L,,A62,PT60M,15,EUR/MWH',
    );
    assert.match(lines[24] ?? '', /^2016-03-27T22:00:00Z,2016-03-27T23:00:00Z,1,/);
  });
  it('NDJSON carries every field of the canonical record', async () => {
    const r = await gridstream([
      'entsoe',
      'parse',
      fixture('A09_BE-NL_PT15M_2024-03-24_exports.xml'),
      '--format',
      'ndjson',
    ]);
    assert.equal(r.code, 0);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rows.length, 576);
    const row = rows[0] ?? {};
    for (const key of [
      'start_utc',
      'end_utc',
      'series_index',
      'document_mrid',
      'document_type',
      'contract_type',
      'in_domain',
      'out_domain',
      'resolution',
      'position',
      'value',
      'unit',
      'filled',
      'curve_type',
    ]) {
      assert.ok(key in row, key);
    }
    assert.deepEqual(new Set(rows.map((x) => x['contract_type'])), new Set(['A01', 'A05']));
  });
  it('an acknowledgement prints no rows, its reason on stderr, and exits 0', async () => {
    const r = await gridstream(['entsoe', 'parse', fixture('ACK_999_no-matching-data_A44_NL_2023-02-19.xml')]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /999.*No matching data found/);
  });
  it('an unreadable body exits 2 with a clear message', async () => {
    const r = await gridstream(['entsoe', 'parse', fixture('HTTP401_unauthorized_html-body.xml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /html_body/);
    assert.equal((await gridstream(['entsoe', 'parse', '/nonexistent.xml'])).code, 2);
    assert.equal(
      (await gridstream(['entsoe', 'parse', fixture('A44_FR_PT60M_A01_2023-05-07.xml'), '--format', 'xml'])).code,
      2,
    );
  });
});
