// KubernetesSource.stop() while API discovery is in flight: the discovery that comes back
// afterwards must start no informer (it used to, leaving list/watch connections open after the
// controller stopped, so the process never exited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '../../src/sources/kubeconfig.js';
import { Kind } from '../../src/api/names.js';
import { KubernetesSource } from '../../src/sources/kubernetes.js';

test('stop() during discovery: no informer starts when the discovery answers afterwards', async (t) => {
  const requests: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let discoveryArrived!: () => void;
  const arrived = new Promise<void>((r) => (discoveryArrived = r));
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/apis/gateway.networking.k8s.io') {
      discoveryArrived();
      void held.then(() => json({ versions: [{ version: 'v1' }] }));
    } else if (req.url === '/apis/gateway.networking.k8s.io/v1') json({ resources: [{ name: 'gateways' }] });
    else json({ kind: 'GatewayList', apiVersion: 'gateway.networking.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [] });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const source = new KubernetesSource({ kubeConfig: kc, kinds: [Kind.Gateway] });
  void source.start();
  await arrived;
  await source.stop();
  release();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(requests.filter((u) => u.includes('/gateways')), [], 'no list or watch after stop()');
  assert.equal(source.synced, false);
});
