// docs/grafana/portico.json: it parses as a Grafana dashboard, and every metric its PromQL names
// is one Portico exports, with labels that metric has. What Portico exports is read from the
// registries the engine and the control plane build (not a list kept here), so a renamed or
// removed family fails this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataplaneMetrics } from '../../src/observability/metrics/dataplane.ts';
import { ControlPlaneMetrics } from '../../src/observability/metrics/controlplane.ts';

/** Every series name Portico can expose, with its label names (histograms: _bucket with le, _sum, _count). */
function exported(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of [...new DataplaneMetrics().registry.snapshot(), ...new ControlPlaneMetrics().registry.snapshot()]) {
    if (f.type === 'histogram') {
      out.set(`${f.name}_bucket`, new Set([...f.labelNames, 'le']));
      out.set(`${f.name}_sum`, new Set(f.labelNames));
      out.set(`${f.name}_count`, new Set(f.labelNames));
    } else out.set(f.name, new Set(f.labelNames));
  }
  return out;
}

const FUNCTIONS = new Set(['rate', 'irate', 'increase', 'sum', 'max', 'min', 'avg', 'count', 'histogram_quantile', 'time', 'scalar', 'topk', 'bottomk', 'clamp_min', 'label_values', 'vector', 'abs']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

/** Metric names a PromQL expression selects, with the label names its matchers use. */
export function selectors(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  const s = expr
    .replace(/\[[^\]]*\]/g, ' ') // range selectors, [$__rate_interval]
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // name{matchers}, or a bare name; string literals only ever sit inside matchers
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?|\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}|"(?:[^"\\]|\\.)*"|[^a-zA-Z_:{"]+/g;
  for (const m of s.matchAll(re)) {
    const name = m[1];
    if (!name) continue;
    if (FUNCTIONS.has(name) || KEYWORDS.has(name) || name.startsWith('$')) continue;
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!);
    out.push({ metric: name, labels });
  }
  return out;
}

type Panel = { type: string; title: string; targets?: { expr: string }[]; panels?: Panel[] };

test('selectors: what the PromQL reader finds', () => {
  assert.deepEqual(selectors('sum by (side) (rate(portico_http_5xx_responses_total{gateway_name=~"$gateway", route_name=~"a}b"}[$__rate_interval])) / on() group_left() sum(rate(portico_http_requests_total[5m]))'), [
    { metric: 'portico_http_5xx_responses_total', labels: ['gateway_name', 'route_name'] },
    { metric: 'portico_http_requests_total', labels: [] },
  ]);
  assert.deepEqual(selectors('time() - max(up)'), [{ metric: 'up', labels: [] }]);
});

test('docs/grafana/portico.json: parses, every panel queries, every metric and label is one Portico exports', () => {
  const dash = JSON.parse(readFileSync(new URL('../../docs/grafana/portico.json', import.meta.url), 'utf8')) as {
    title: string;
    uid: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  };
  assert.equal(dash.title, 'Portico');
  assert.ok(dash.uid && dash.schemaVersion >= 36);
  const names = exported();
  const exprs: [string, string][] = [];
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  for (const p of panels) {
    assert.ok(p.targets && p.targets.length > 0, `panel ${p.title} has queries`);
    for (const t of p.targets) exprs.push([p.title, t.expr]);
  }
  for (const v of dash.templating.list.filter((x) => x.type === 'query')) exprs.push([`variable ${v.name}`, typeof v.query === 'string' ? v.query : v.query.query]);
  const used = new Set<string>();
  for (const [where, expr] of exprs) {
    // Grafana's label_values(selector, label): the label must be one of the selected metric's.
    const lv = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(expr);
    const sel = lv ? selectors(lv[1]!).map((x) => ({ ...x, labels: [...x.labels, lv[2]!] })) : selectors(expr);
    assert.ok(sel.length > 0, `${where}: ${expr} selects no metric`);
    for (const { metric, labels } of sel) {
      const have = names.get(metric);
      assert.ok(have, `${where}: ${metric} is not a metric Portico exports`);
      for (const l of labels) assert.ok(have.has(l), `${where}: ${metric} has no label ${l}`);
      used.add(metric.replace(/_(bucket|sum|count)$/, ''));
    }
  }
  // What the issue asks the dashboard to show: request rate, error rate by side, latency, backends, control plane.
  for (const m of ['portico_http_requests_total', 'portico_http_5xx_responses_total', 'portico_http_request_duration_seconds', 'portico_backend_endpoints_ready', 'portico_translations_total', 'portico_config_last_good_timestamp_seconds'])
    assert.ok(used.has(m), `the dashboard shows ${m}`);
  assert.ok(panels.length >= 20, `${panels.length} panels`);

  // PromQL syntax: promtool parses every query as a recording rule ($__rate_interval as 5m).
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) {
    if (process.env.CI) assert.fail('promtool is missing: install the Debian package prometheus');
    return;
  }
  const rules = exprs
    .filter(([where]) => !where.startsWith('variable '))
    .map(([, expr], i) => `      - record: portico:dashboard:${i}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m'))}`);
  const file = join(mkdtempSync(join(tmpdir(), 'portico-grafana-')), 'rules.yaml');
  writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});
