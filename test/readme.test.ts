import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../src/cli/index.ts';
import { OBSERVATION_CSV_HEADER } from '../src/cli/commands/process.ts';
import { CONFIG_VARIABLES, configTableMarkdown } from '../src/config/index.ts';
import { ROOT } from './helpers/fixtures.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README stays true', () => {
  it('gives exactly two quick-start commands, and both exist', () => {
    const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quick
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l !== '');
    assert.deepEqual(commands, ['npm ci && npm start', 'npm ci && npm test']);
    assert.ok(pkg.scripts['start'] !== undefined && pkg.scripts['test'] !== undefined);
  });
  it('documents every CLI command', () => {
    for (const c of COMMANDS) assert.ok(readme.includes(`gridstream ${c.name}`), `README lists "gridstream ${c.name}"`);
  });
  it('its configuration table is the one generated from the declarations (names, defaults, meanings)', () => {
    const table = /\| variable \| default \| meaning \|\n[\s\S]*?\n\n/.exec(readme)?.[0].trim() ?? '';
    assert.equal(table, configTableMarkdown());
    for (const [name] of CONFIG_VARIABLES) assert.ok(table.includes(`\`${name}\``), `README lists ${name}`);
  });
  it('gives the CSV headers the CLI prints', () => {
    assert.ok(readme.includes(`\`${OBSERVATION_CSV_HEADER}\``), 'README gives the `gridstream process` header');
  });
  it('CI runs the README test command', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    assert.match(ci, /^npm ci && npm test$/m);
  });
});
