import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../src/cli/index.ts';
import { ERROR_CODES } from '../src/common/index.ts';
import { VARIABLES } from '../src/config/index.ts';
import { registeredNames } from './deploy/promql.ts';
import { ROOT } from './helpers/fixtures.ts';

/** docs/RUNBOOK.md names only what exists: metrics, commands, codes, variables, links and their anchors. */

const FILE = join(ROOT, 'docs', 'RUNBOOK.md');
const text = readFileSync(FILE, 'utf8');

const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
const anchors = (file: string): Set<string> =>
  new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,4} (.+)$/gm)].map((m) => anchor(m[1] ?? '')));

describe('docs/RUNBOOK.md', () => {
  it('names only metrics gridstream registers', async () => {
    const known = await registeredNames();
    const named = [...text.matchAll(/\bgridstream_[a-z_]+\b/g)].map((m) => m[0]);
    assert.ok(named.length >= 10, `found ${named.length} metric names`);
    for (const name of named) assert.ok(known.has(name), `${name} is not a gridstream metric`);
    assert.ok(named.includes('gridstream_disk_full_errors_total'));
  });

  it('names only commands the CLI has', () => {
    const commands = new Set(COMMANDS.map((c) => c.name));
    const named = [...text.matchAll(/`gridstream ([a-z]+(?: [a-z]+)*)/g)].map((m) => m[1] ?? '');
    assert.ok(named.length >= 8, `found ${named.length} commands`);
    for (const words of named) {
      const parts = words.split(' ');
      // The longest prefix of the words that is a command (`dlq list dlq-processing` → `dlq list`).
      const found = parts.some((_, i) => commands.has(parts.slice(0, parts.length - i).join(' ')));
      assert.ok(found, `gridstream ${words}: no such command`);
    }
  });

  it('names only registered error codes and declared variables', () => {
    const codes = new Set(Object.keys(ERROR_CODES));
    const named = [...text.matchAll(/`((?:db|log|kafka)\.[a-z_]+)`/g)].map((m) => m[1] ?? '');
    assert.ok(named.length >= 5);
    for (const code of named) assert.ok(codes.has(code), `${code} is not a registered code`);
    const variables = new Set(Object.values(VARIABLES).map((v) => v.name));
    for (const m of text.matchAll(/`((?:GRIDSTREAM|ENTSOE|ELECTRICITYMAPS|KAFKA|DATABASE)_[A-Z_]+)`/g))
      assert.ok(variables.has(m[1] ?? ''), `${m[1] ?? ''} is not a declared variable`);
  });

  it('links to files and sections that exist, and to OPERATIONS-ALERTS.md rather than repeating it', () => {
    const links = [...text.matchAll(/\]\(([^)#]+)(?:#([^)]+))?\)/g)];
    assert.ok(links.length >= 10);
    for (const [, path = '', hash] of links) {
      const target = join(dirname(FILE), path);
      assert.ok(existsSync(target), `link to ${path}`);
      if (hash !== undefined)
        assert.ok(anchors(target.endsWith('.md') ? target : join(target, 'README.md')).has(hash), `${path}#${hash}`);
    }
    for (const [, hash] of text.matchAll(/\]\(#([^)]+)\)/g)) assert.ok(anchors(FILE).has(hash ?? ''), `#${hash ?? ''}`);
    const alerts = text.match(/OPERATIONS-ALERTS\.md#gridstream\w+/g) ?? [];
    assert.ok(alerts.length >= 6, 'each signal links to its alert');
    for (const heading of [
      'Consumer lag',
      'Dead letters growing',
      'Watermark stuck',
      'Upstream ban',
      'Database full',
      'Broker down',
      'Recover',
      'Replay',
      'Re-backfill',
    ])
      assert.ok(anchors(FILE).has(anchor(heading)), `a section ${heading}`);
  });
});
