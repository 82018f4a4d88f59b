import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../helpers/fixtures.ts';
import { isRecord } from './kustomize.ts';
import { metricNames, registeredNames } from './promql.ts';

/**
 * deploy/grafana as files (Grafana does not run on this machine): the dashboards are valid JSON with unique uids and
 * panel ids, laid out without overlaps, every data source they name is provisioned, the provisioning files point
 * where the dashboards are mounted, and every PromQL expression selects only metrics gridstream registers.
 */

const GRAFANA = join(ROOT, 'deploy', 'grafana');
const DASHBOARDS = join(GRAFANA, 'dashboards');

type Json = Record<string, unknown>;
const obj = (v: unknown, what: string): Json => {
  assert.ok(isRecord(v), `${what} is an object`);
  return v;
};
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isRecord) : []);

function dashboards(): { file: string; json: Json }[] {
  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 2, 'the dashboards are there');
  return files.map((file) => ({
    file,
    json: obj(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as unknown, file),
  }));
}

/** Every panel, rows' nested panels included. */
function panels(dashboard: Json): Json[] {
  const out: Json[] = [];
  const walk = (ps: unknown): void => {
    for (const p of list(ps)) {
      out.push(p);
      walk(p['panels']);
    }
  };
  walk(dashboard['panels']);
  return out;
}

/** The provisioned data sources by uid, with their type. */
function datasources(): Map<string, string> {
  const file = obj(parse(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'gridstream.yaml'), 'utf8')), 'ds');
  assert.equal(file['apiVersion'], 1);
  const out = new Map<string, string>();
  for (const d of list(file['datasources'])) {
    assert.equal(typeof d['uid'], 'string', `data source ${String(d['name'])} has a uid`);
    assert.ok(!out.has(String(d['uid'])), `data source uid ${String(d['uid'])} is unique`);
    out.set(String(d['uid']), String(d['type']));
  }
  return out;
}

/** The data source references of a dashboard: panels, their targets and templating variables. */
function references(dashboard: Json): { where: string; ref: unknown }[] {
  const out: { where: string; ref: unknown }[] = [];
  for (const p of panels(dashboard)) {
    if (p['type'] === 'row') continue;
    out.push({ where: `panel ${String(p['id'])} ${String(p['title'])}`, ref: p['datasource'] });
    for (const t of list(p['targets']))
      out.push({ where: `panel ${String(p['id'])} target ${String(t['refId'])}`, ref: t['datasource'] });
  }
  for (const v of list(obj(dashboard['templating'] ?? { list: [] }, 'templating')['list']))
    if (v['type'] === 'query') out.push({ where: `variable ${String(v['name'])}`, ref: v['datasource'] });
  return out;
}

/** The PromQL of every target on a Prometheus data source. */
function promql(dashboard: Json, prometheus: ReadonlySet<string>): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of panels(dashboard))
    for (const t of list(p['targets'])) {
      const uid = obj(t['datasource'] ?? p['datasource'], 'datasource')['uid'];
      if (prometheus.has(String(uid)))
        out.push({ where: `panel ${String(p['id'])} ${String(p['title'])}`, expr: String(t['expr']) });
    }
  return out;
}

describe('Grafana dashboards and provisioning (deploy/grafana), as files', () => {
  it('are valid JSON with unique dashboard uids and unique panel ids', () => {
    const uids = new Set<string>();
    for (const { file, json } of dashboards()) {
      assert.equal(typeof json['uid'], 'string', `${file} has a uid`);
      assert.ok(String(json['uid']).length <= 40, `${file}: Grafana uids are at most 40 characters`);
      assert.ok(!uids.has(String(json['uid'])), `${file}: uid ${String(json['uid'])} is unique`);
      uids.add(String(json['uid']));
      assert.equal(typeof json['title'], 'string', `${file} has a title`);
      assert.equal(json['id'] ?? null, null, `${file}: no instance id in a provisioned dashboard`);
      const ids = panels(json).map((p) => p['id']);
      assert.ok(ids.length > 5, `${file} has panels`);
      for (const id of ids) assert.ok(Number.isInteger(id), `${file}: panel id ${String(id)}`);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    }
  });

  it('lay panels out on the 24-column grid without overlaps', () => {
    for (const { file, json } of dashboards()) {
      const boxes = panels(json).map((p) => {
        const g = obj(p['gridPos'], `${file} panel ${String(p['id'])} gridPos`);
        const [x, y, w, h] = [g['x'], g['y'], g['w'], g['h']].map(Number) as [number, number, number, number];
        assert.ok(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${file} panel ${String(p['id'])} fits the grid`);
        return { id: p['id'], x, y, w, h };
      });
      for (const [i, a] of boxes.entries())
        for (const b of boxes.slice(i + 1))
          assert.ok(
            a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y,
            `${file}: panels ${String(a.id)} and ${String(b.id)} overlap`,
          );
    }
  });

  it('name only provisioned data sources, of the type provisioned', () => {
    const provisioned = datasources();
    for (const { file, json } of dashboards()) {
      const refs = references(json);
      assert.ok(refs.length > 5, file);
      for (const { where, ref } of refs) {
        const r = obj(ref, `${file} ${where} datasource`);
        assert.ok(
          provisioned.has(String(r['uid'])),
          `${file} ${where}: data source ${String(r['uid'])} is provisioned`,
        );
        assert.equal(r['type'], provisioned.get(String(r['uid'])), `${file} ${where}: data source type`);
      }
    }
  });

  it('provision the dashboards from where they are mounted, into the gridstream folder', () => {
    const file = obj(
      parse(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'gridstream.yaml'), 'utf8')),
      'dashboard provisioning',
    );
    assert.equal(file['apiVersion'], 1);
    const [provider, ...others] = list(file['providers']);
    assert.ok(provider !== undefined && others.length === 0, 'one provider');
    assert.equal(provider['type'], 'file');
    assert.equal(provider['folder'], 'gridstream');
    const path = String(obj(provider['options'], 'options')['path']);
    // Every documented way of running Grafana mounts deploy/grafana/dashboards at the provider's path.
    const readme = readFileSync(join(GRAFANA, 'README.md'), 'utf8');
    const mounts = [...readme.matchAll(/deploy\/grafana\/dashboards:([^:\s"]+)/g)].map((m) => m[1]);
    assert.ok(mounts.length > 0, 'README.md shows how the dashboards are mounted');
    for (const m of mounts) assert.equal(m, path, 'mounted where the provider looks');
    // So does every compose file under deploy/ with a Grafana service, and it sets what the data sources read.
    const provisioned = JSON.stringify(
      parse(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'gridstream.yaml'), 'utf8')),
    );
    const variables = [...new Set([...provisioned.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] ?? ''))];
    assert.ok(variables.length >= 5, 'the data sources read their settings from the environment');
    for (const v of variables) assert.match(readme, new RegExp(`-e ${v}=`), `README.md's Grafana sets ${v}`);
    const deploy = join(ROOT, 'deploy');
    for (const f of readdirSync(deploy).filter((x) => /\.ya?ml$/.test(x))) {
      const services = obj(parse(readFileSync(join(deploy, f), 'utf8')) as unknown, f)['services'];
      for (const [name, service] of Object.entries(isRecord(services) ? services : {})) {
        const text = JSON.stringify(service);
        const mount = /grafana\/dashboards:([^:"]+)/.exec(text)?.[1];
        if (mount === undefined) continue;
        assert.equal(mount, path, `${f} ${name}: mounted where the provider looks`);
        for (const v of variables) assert.ok(text.includes(v), `${f} ${name} sets ${v}`);
      }
    }
  });

  it('select only metrics that gridstream registers in their PromQL', async () => {
    const known = await registeredNames();
    const prometheus = new Set([...datasources()].filter(([, type]) => type === 'prometheus').map(([uid]) => uid));
    let count = 0;
    for (const { file, json } of dashboards())
      for (const { where, expr } of promql(json, prometheus)) {
        count += 1;
        const names = metricNames(expr);
        assert.ok(names.size > 0, `${file} ${where}: no metric found in ${expr}`);
        for (const name of names)
          assert.ok(known.has(name), `${file} ${where} selects ${name}, not a gridstream metric`);
      }
    assert.ok(count >= 20, `checked ${count} expressions`);
    assert.ok(metricNames('sum(rate(gridstream_nope_total[$__rate_interval]))').has('gridstream_nope_total'));
  });

  it('count consumer lag once when several api processes report it (max over instances, then sum)', () => {
    for (const { file, json } of dashboards())
      for (const p of panels(json))
        for (const t of list(p['targets'])) {
          const expr = typeof t['expr'] === 'string' ? t['expr'] : '';
          if (!expr.includes('gridstream_consumer_lag')) continue;
          assert.match(
            expr,
            /max by \(group, topic, partition\) \(gridstream_consumer_lag\)/,
            `${file} panel ${String(p['id'])}: every api process reports the same lag`,
          );
        }
  });
});
