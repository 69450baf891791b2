// The dashboard's arithmetic (src/observability/dashboard/rates.js, run by the browser): rates
// and error ratios from two polls, quantiles as Prometheus' histogram_quantile() computes them,
// counters that start over; and the server's state built from a real registry's snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error plain ES module shipped to the browser, no type declarations
import { figures, group, quantile } from '../../src/observability/dashboard/rates.js';
import { DURATION_BUCKETS, Registry, observe } from '../../src/observability/metrics/registry.js';
import { trafficView } from '../../src/observability/dashboard.ts';

const bounds = [0.1, 0.2, 0.4];

test('quantile: linear inside the bucket, the last finite bound past it, NaN when empty', () => {
  // 10 observations: 4 in (0, 0.1], 4 in (0.1, 0.2], 2 in (0.2, 0.4]
  const counts = [4, 4, 2, 0];
  assert.equal(quantile(0.5, bounds, counts), 0.1 + 0.1 * ((5 - 4) / 4));
  assert.equal(quantile(0.2, bounds, counts), 0.05);
  assert.ok(Math.abs(quantile(0.9, bounds, counts) - (0.2 + 0.2 * ((9 - 8) / 2))) < 1e-12);
  assert.equal(quantile(0.99, bounds, [0, 0, 1, 5]), 0.4);
  assert.ok(Number.isNaN(quantile(0.5, bounds, [0, 0, 0, 0])));
  // empty buckets below the rank are skipped, not interpolated into
  assert.equal(quantile(0.5, bounds, [0, 0, 2, 0]), 0.2 + 0.2 * 0.5);
});

const row = (route: string, backend: string, total: number, errors: number, buckets: number[]) => ({ route, backend, unit: 'http', total, errors, buckets });

test('figures: per route and per backend over the window, restarts, no traffic', () => {
  const older = { time: 10_000, bounds, traffic: [row('HTTPRoute/ns/a', 'ns/x:80', 100, 0, [100, 0, 0, 0]), row('HTTPRoute/ns/a', 'ns/y:80', 50, 5, [0, 50, 0, 0]), row('HTTPRoute/ns/b', 'ns/x:80', 500, 0, [500, 0, 0, 0])] };
  const newer = { time: 15_000, bounds, traffic: [row('HTTPRoute/ns/a', 'ns/x:80', 140, 0, [120, 20, 0, 0]), row('HTTPRoute/ns/a', 'ns/y:80', 60, 10, [0, 60, 0, 0]), row('HTTPRoute/ns/b', 'ns/x:80', 7, 7, [0, 0, 7, 0]), row('HTTPRoute/ns/c', 'ns/z:80', 0, 0, [])] };
  const byRoute = figures(older, newer, (r: { route: string }) => r.route);
  const a = byRoute.get('HTTPRoute/ns/a');
  assert.equal(a.rate, 50 / 5); // (40 + 10) requests in 5 s
  assert.equal(a.errorRatio, 5 / 50);
  assert.equal(a.p50, 0.1 + 0.1 * ((25 - 20) / 30)); // 20 in the first bucket, 30 in the second
  // b's counter went down: the process started over, its 7 are the window's.
  const b = byRoute.get('HTTPRoute/ns/b');
  assert.deepEqual([b.rate, b.errorRatio], [7 / 5, 1]);
  const c = byRoute.get('HTTPRoute/ns/c');
  assert.equal(c.rate, 0);
  assert.ok(Number.isNaN(c.errorRatio) && Number.isNaN(c.p99));
  const byBackend = figures(older, newer, (r: { backend: string }) => r.backend);
  assert.equal(byBackend.get('ns/x:80').rate, (40 + 7) / 5); // a's increase plus b's restart
  assert.equal(group(newer.traffic, (r: { backend: string }) => (r.backend === 'ns/y:80' ? null : r.backend)).has('ns/y:80'), false);
});

test('trafficView: a registry snapshot summed per route x backend over listeners, rules and codes', () => {
  const reg = new Registry();
  const labels = ['gateway_namespace', 'gateway_name', 'listener', 'route_kind', 'route_namespace', 'route_name', 'rule', 'backend'];
  const req = reg.counter('portico_http_requests_total', 'h', [...labels, 'code']);
  const dur = reg.histogram('portico_http_request_duration_seconds', 'h', labels);
  const l4 = reg.counter('portico_l4_connections_total', 'h', labels.filter((l) => l !== 'rule'));
  const r0 = ['ns', 'gw', 'http', 'HTTPRoute', 'ns', 'a', '0', 'ns/x:80'];
  const r1 = ['ns', 'gw', 'https', 'HTTPRoute', 'ns', 'a', '1', 'ns/x:80'];
  req.child([...r0, '200']).v = 8;
  req.child([...r1, '503']).v = 2;
  req.child([...r1, '5xx']).v = 1;
  req.child(['ns', 'gw', 'http', '', '', '', '', '', '404']).v = 3;
  observe(dur.child(r0), 0.0007);
  observe(dur.child(r1), 0.002);
  l4.child(['ns', 'gw', 'tcp', 'TCPRoute', 'ns', 't', 'ns/db:5432']).v = 4;
  const { traffic, bounds: b } = trafficView(reg.snapshot());
  assert.deepEqual(b, DURATION_BUCKETS);
  const a = traffic.find((t) => t.route === 'HTTPRoute/ns/a')!;
  assert.deepEqual([a.total, a.errors, a.buckets.reduce((x, y) => x + y, 0), a.buckets[1], a.buckets[2]], [11, 3, 2, 1, 1]);
  assert.deepEqual(traffic.find((t) => t.route === '')?.total, 3);
  assert.deepEqual(traffic.find((t) => t.unit === 'l4'), { route: 'TCPRoute/ns/t', backend: 'ns/db:5432', unit: 'l4', total: 4, errors: 0, buckets: [] });
});

test('dashboardState: without the engine families (--metrics off) the page says so instead of showing zero traffic', async () => {
  const { dashboardState } = await import('../../src/observability/dashboard.ts');
  const { ControlPlaneMetrics } = await import('../../src/observability/metrics/controlplane.ts');
  const { DataplaneMetrics } = await import('../../src/observability/metrics/dataplane.ts');
  const base = { mode: 'file' as const, ir: () => undefined, statuses: () => [] };
  const off = await dashboardState({ ...base, metrics: () => [new ControlPlaneMetrics().registry] });
  assert.deepEqual([off.metrics, off.traffic], [false, []]);
  const on = await dashboardState({ ...base, metrics: () => [new ControlPlaneMetrics().registry, new DataplaneMetrics().registry] });
  assert.deepEqual([on.metrics, on.traffic], [true, []]);
  const problems = await dashboardState({
    ...base,
    problems: () => [{ severity: 'error', file: 'a.yaml', line: 3, kind: 'Secret', namespace: 'ns', name: 's', path: 'data[tls.key]', message: 'not base64' }],
  });
  assert.deepEqual(problems.problems, [{ severity: 'error', file: 'a.yaml', line: 3, object: 'Secret ns/s', path: 'data[tls.key]', message: 'not base64' }]);
});
