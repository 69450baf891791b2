// ListenerSet listeners are served like the Gateway's own (translated from manifests, served by
// the engine): a ListenerSet adds a port and hostnames; routes reach them only through parentRef
// kind ListenerSet, and a ListenerSet the Gateway does not allow adds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { createEngine } from '../../src/dataplane/engine.js';
import { echoBackend } from './helpers.js';
import { freePort, LOOPBACK } from '../fixtures/l4.js';
import { irOf, service } from '../fixtures/translate.js';

const manifests = (gwPort: number, lsPort: number, allowed: string, target: number): string[] => [
  `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  allowedListeners: { namespaces: { from: ${allowed} } }
  listeners:
    - { name: http, port: ${gwPort}, protocol: HTTP, hostname: gw.example.com }
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: team, namespace: default }
spec:
  parentRef: { name: gw }
  listeners:
    - { name: same-port, port: ${gwPort}, protocol: HTTP, hostname: team.example.com }
    - { name: own-port, port: ${lsPort}, protocol: HTTP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: via-gateway, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /gw } }], backendRefs: [{ name: svc, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: via-listenerset, namespace: default }
spec:
  parentRefs: [{ kind: ListenerSet, name: team }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /team } }], backendRefs: [{ name: svc, port: 80 }] }]
`,
  service('svc', 80, target),
];

function get(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: LOOPBACK, port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('ListenerSet listeners: served on the Gateway, reached through parentRef kind ListenerSet only', async () => {
  const web = await echoBackend('web');
  const [gwPort, lsPort] = [await freePort('tcp'), await freePort('tcp')];
  const engine = createEngine({});
  try {
    assert.deepEqual((await engine.apply(irOf(...manifests(gwPort, lsPort, 'Same', web.port)))).unbound, []);
    // The Gateway's listener: its routes only.
    assert.equal(await get(gwPort, 'gw.example.com', '/gw'), 200);
    assert.equal(await get(gwPort, 'gw.example.com', '/team'), 404);
    // The ListenerSet's hostname on the Gateway's port, and its own port: the ListenerSet's routes only.
    assert.equal(await get(gwPort, 'team.example.com', '/team'), 200);
    assert.equal(await get(gwPort, 'team.example.com', '/gw'), 404);
    assert.equal(await get(lsPort, 'anything.example.com', '/team'), 200);
    assert.equal(await get(lsPort, 'anything.example.com', '/gw'), 404);
    assert.equal(web.hits.length, 3);

    // allowedListeners None: the ListenerSet's port closes, its hostname is no longer served.
    await engine.apply(irOf(...manifests(gwPort, lsPort, 'None', web.port)));
    assert.equal(await get(gwPort, 'team.example.com', '/team'), 404);
    await assert.rejects(get(lsPort, 'anything.example.com', '/team'), /ECONNREFUSED/);
    assert.equal(await get(gwPort, 'gw.example.com', '/gw'), 200);
  } finally {
    await engine.close(100);
    await web.close();
  }
});
