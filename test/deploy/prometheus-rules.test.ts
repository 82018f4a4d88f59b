import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/fixtures.ts';
import { promtoolPath } from '../helpers/services.ts';
import { metricNames, registeredNames } from './promql.ts';

const RULES = 'deploy/prometheus/gridstream-alerts.yaml';
const RULE_TESTS = 'deploy/prometheus/gridstream-alerts.test.yaml';
const rules = readFileSync(join(ROOT, RULES), 'utf8');

/** The `expr:` values of the rule file: inline, or a block scalar (`|`, `>`) of the more indented lines after it. */
function expressions(text: string): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(line);
    if (m === null) continue;
    const indent = (m[1] ?? '').length;
    const value = (m[2] ?? '').trim();
    if (!/^[|>][-+]?$/.test(value)) {
      found.push(value.replace(/^'(.*)'$/, '$1'));
      continue;
    }
    const body: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.length - next.trimStart().length <= indent) break;
      body.push(next);
    }
    found.push(body.join('\n'));
  }
  return found;
}

describe('Prometheus operations alerts (deploy/prometheus/)', () => {
  it('pass `promtool check rules` and their unit tests (`promtool test rules`)', async (t) => {
    const promtool = await promtoolPath(t);
    if (promtool === undefined) return;
    const check = spawnSync(promtool, ['check', 'rules', RULES], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check rules: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
    const test = spawnSync(promtool, ['test', 'rules', RULE_TESTS], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(test.status, 0, `promtool test rules: ${test.stdout}${test.stderr}`);
    assert.match(`${test.stdout}${test.stderr}`, /SUCCESS/);
  });

  it('select only metrics that createMetrics() registers', async () => {
    const known = await registeredNames();
    const exprs = expressions(rules);
    assert.ok(exprs.length >= 10, `expected the rule file's expressions, found ${exprs.length}`);
    const used = new Set(exprs.flatMap((e) => [...metricNames(e)]));
    for (const name of used) assert.ok(known.has(name), `${RULES} selects ${name}, which gridstream does not expose`);
    // A second net under the parser: every gridstream_… word anywhere in the file is a registered metric.
    for (const m of rules.matchAll(/\bgridstream_[a-z_]+\b/g)) {
      assert.ok(known.has(m[0]), `${RULES} names ${m[0]}, which gridstream does not expose`);
    }
    for (const name of ['gridstream_consumer_lag', 'gridstream_records_rejected_total', 'up']) {
      assert.ok(used.has(name), `the parser finds ${name}`);
    }
  });

  it('point every alert to its section of docs/OPERATIONS-ALERTS.md, and each alert is tested', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'OPERATIONS-ALERTS.md'), 'utf8');
    const anchors = new Set(
      [...docs.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
        (m[1] ?? '')
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const tests = readFileSync(join(ROOT, RULE_TESTS), 'utf8');
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1] ?? '');
    assert.ok(alerts.length >= 10);
    for (const alert of alerts) {
      assert.ok(
        rules.includes(`runbook_url: docs/OPERATIONS-ALERTS.md#${alert.toLowerCase()}\n`),
        `${alert} has a runbook_url`,
      );
      assert.ok(anchors.has(alert.toLowerCase()), `docs/OPERATIONS-ALERTS.md has a section ${alert}`);
      assert.match(
        tests,
        new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`),
        `${alert} fires in a test`,
      );
      assert.match(
        tests,
        new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`),
        `${alert} stays silent in a test`,
      );
    }
  });
});
