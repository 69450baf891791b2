// Session persistence end to end: `portico run --workers 2` on manifests with an
// XBackendTrafficPolicy; the whole pipeline (file source, translator and its seed, the key sealed
// across the worker boundary, the engine) keeps a client on one endpoint whichever worker accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoBackend, freePort, json, request } from '../dataplane/helpers.js';
import { ROOT, start } from './cli.js';

test('portico run: an XBackendTrafficPolicy cookie session sticks across workers', { timeout: 90_000 }, async (t) => {
  const backends = await Promise.all(['s0', 's1', 's2'].map((n) => echoBackend(n)));
  const dir = await mkdtemp(join(tmpdir(), 'portico-session-'));
  const port = await freePort();
  await copyFile(join(ROOT, 'examples', 'gatewayclass.yaml'), join(dir, 'gatewayclass.yaml'));
  const slices = backends
    .map(
      (b, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-${i}, namespace: default, labels: {kubernetes.io/service-name: app}}
addressType: IPv4
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
ports: [{name: http, port: ${b.port}}]
`,
    )
    .join('');
  await writeFile(
    join(dir, 'app.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: portico
  listeners: [{name: http, protocol: HTTP, port: ${port}}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{name: http, port: 80}]}
${slices}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
    - backendRefs: [{name: app, port: 80}]
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XBackendTrafficPolicy
metadata: {name: sticky, namespace: default}
spec:
  targetRefs: [{group: '', kind: Service, name: app}]
  sessionPersistence: {sessionName: app-session, absoluteTimeout: 1h}
`,
  );
  const run = start(['run', dir, '--workers', '2']);
  t.after(async () => {
    await run.stop('SIGKILL');
    for (const b of backends) await b.close();
    await rm(dir, { recursive: true, force: true });
  });
  await run.waitFor(new RegExp(`listening:\\n.*:${port}`));
  const seen = new Set<string>();
  for (let k = 0; k < 4; k++) {
    const first = await request(port, '/', { agent: false });
    assert.equal(first.status, 200, first.body);
    const cookie = first.headers['set-cookie']?.[0]?.split(';')[0];
    assert.ok(cookie?.startsWith('app-session='), String(first.headers['set-cookie']));
    const pinned = json(first).backend;
    seen.add(pinned);
    // New connections: either worker accepts them; both hold the same key.
    for (let i = 0; i < 8; i++) assert.equal(json(await request(port, '/', { agent: false, headers: { cookie } })).backend, pinned);
  }
  assert.ok(seen.size > 1, 'new sessions are balanced over the endpoints');
  assert.match(run.output(), /XBackendTrafficPolicy/);
});
