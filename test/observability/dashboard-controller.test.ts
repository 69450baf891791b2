// The dashboard on the controller's admin listener (src/controller/admin.ts): statuses the
// translator computed, the in-process engine's traffic from its metrics snapshot, no manifest
// problems section (Kubernetes mode); the health listener does not serve it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import { startAdmin } from '../../src/controller/admin.js';
import { ControlPlaneMetrics } from '../../src/observability/metrics/controlplane.js';
import { echoBackend, freePort } from '../dataplane/helpers.js';
import { GATEWAY_CLASS, service, translateYaml } from '../fixtures/translate.js';

test('controller admin: / and /dashboard/state over the in-process engine', async () => {
  const echo = await echoBackend('app');
  const port = await freePort();
  const result = translateYaml(
    GATEWAY_CLASS,
    `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: web, namespace: default }
spec: { gatewayClassName: portico, listeners: [{ name: http, protocol: HTTP, port: ${port} }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app, namespace: default }
spec: { parentRefs: [{ name: web }], rules: [{ backendRefs: [{ name: app, port: 80 }] }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: elsewhere, namespace: default }
spec: { parentRefs: [{ name: web, sectionName: https }], rules: [{ backendRefs: [{ name: app, port: 80 }] }] }
`,
    service('app', 80, echo.port),
  );
  const engine = createEngine({ metrics: true });
  const cp = new ControlPlaneMetrics();
  const state = {
    ready: () => ({ ok: true }),
    ir: () => result.ir,
    metrics: async () => '',
    dashboard: { mode: 'kubernetes' as const, ir: () => result.ir, statuses: () => result.statuses, metrics: () => [cp.registry, engine] },
  };
  const admin = await startAdmin('127.0.0.1:0', state);
  const health = await startAdmin('127.0.0.1:0', state, { role: 'health' });
  try {
    await engine.apply(result.ir);
    for (let i = 0; i < 7; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/x`)).status, 200);
    const base = `http://127.0.0.1:${admin.address.port}`;
    assert.match((await fetch(`${base}/`)).headers.get('content-type')!, /^text\/html/);
    const s = (await (await fetch(`${base}/dashboard/state`)).json()) as {
      mode: string;
      problems: unknown[];
      routes: { name: string; parents: { parentRef: string; conditions: { type: string; status: string; reason: string }[] }[] }[];
      traffic: { route: string; backend: string; total: number }[];
    };
    assert.equal(s.mode, 'kubernetes');
    assert.deepEqual(s.problems, []);
    assert.deepEqual(s.traffic.map((t) => [t.route, t.backend, t.total]), [['HTTPRoute/default/app', 'default/app:80', 7]]);
    const elsewhere = s.routes.find((r) => r.name === 'elsewhere')!;
    assert.deepEqual(elsewhere.parents.map((p) => [p.parentRef, p.conditions.find((c) => c.type === 'Accepted')?.status]), [['default/web/https', 'False']]);
    for (const p of ['/', '/dashboard/state']) assert.equal((await fetch(`http://127.0.0.1:${health.address.port}${p}`)).status, 404, p);
  } finally {
    await Promise.all([admin.close(), health.close(), engine.close(0)]);
    await echo.close();
  }
});
