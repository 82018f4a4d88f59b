import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/index.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { promtoolPath } from '../helpers/services.ts';

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

const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'by', 'without', 'on', 'ignoring']);

/** The metric names an expression selects: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): Set<string> {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = m[1] ?? '';
    if (!KEYWORDS.has(name)) names.add(name);
  }
  return names;
}

async function registeredNames(): Promise<Set<string>> {
  const metrics = await createMetrics().registry.getMetricsAsJSON();
  const names = new Set<string>(['up']);
  for (const m of metrics) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
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
