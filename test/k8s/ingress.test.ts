// `portico controller` serving an Ingress directly (issue 14, "serve both") against the real
// local API server: an Ingress of an IngressClass whose spec.controller is ours and a new
// HTTPRoute run side by side on one Gateway (--ingress-gateway), both answer over real
// sockets, the Ingress gets status.loadBalancer (the Gateway's address), an annotation that
// does not convert is logged as a warning naming the Ingress and is a Warning Event on it; moving the Ingress to another
// controller's IngressClass stops serving it and clears the status.loadBalancer Portico wrote; deleting the Ingress
// leaves the HTTPRoute serving. Everything created is removed after.
//
//   flock /root/.cache/portico/cluster-use.lock bash -c 'hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/ingress.test.ts'

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunningController } from '../../src/controller/index.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import { apply, getObj, httpGet, installGatewayApiCrds, kubeConfigFrom, remove, startBackend, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/ingress.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

const GW = 'gateway.networking.k8s.io/v1';
const NET = 'networking.k8s.io/v1';
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-ing-${RUN}`;
const CLASS = `portico-ing-${RUN}`;
const OTHER_CLASS = `other-ing-${RUN}`;
// Names of our own: Portico installs or other tests sharing the cluster never serve these objects.
const CONTROLLER = `portico.dev/k8s-ingress-test-${RUN}`;
const INGRESS_CONTROLLER = `portico.dev/ingress-test-${RUN}`;
const PORT = 18090;

// The API server refuses loopback addresses in EndpointSlices: backends listen on this machine's own address.
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))?.address;

const meta = (apiVersion: string, kind: string, name: string, namespace: string | undefined = NS) => ({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name } });

function serviceWithEndpoints(name: string, port: number) {
  return [
    { ...meta('v1', 'Service', name), spec: { ports: [{ name: 'http', port: 8080, targetPort: port, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [HOST_IP!], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

const INGRESS = {
  ...meta(NET, 'Ingress', 'legacy'),
  metadata: { name: 'legacy', namespace: NS, annotations: { 'nginx.ingress.kubernetes.io/configuration-snippet': 'more_set_headers "X-A: b";' } },
  spec: {
    ingressClassName: CLASS,
    rules: [{ host: 'legacy.example.com', http: { paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'legacy', port: { name: 'http' } } } }] } }],
  },
};

interface IngressStatus {
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

describe('portico controller serves an Ingress next to an HTTPRoute', { skip: (!KUBECONFIG && 'PORTICO_KUBECONFIG is unset') || (!HOST_IP && 'no non-loopback IPv4 address for the backends') }, () => {
  let client: ApiClient;
  let translate: TranslateFn;
  let createEngine: (o: EngineOptions) => Engine;
  let engine: Engine | undefined;
  let controller: RunningController | undefined;
  const backends: { close(): Promise<void> }[] = [];
  const logs: string[] = [];

  before(async () => {
    ({ translate, createEngine } = await loadPipeline());
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    const legacy = await startBackend('legacy', HOST_IP);
    const next = await startBackend('next', HOST_IP);
    backends.push(legacy, next);
    await apply(client, meta('v1', 'Namespace', NS, undefined));
    for (const o of [...serviceWithEndpoints('legacy', legacy.port), ...serviceWithEndpoints('next', next.port)]) await apply(client, o);
    await apply(client, { ...meta(GW, 'GatewayClass', CLASS, undefined), spec: { controllerName: CONTROLLER } });
    await apply(client, { ...meta(NET, 'IngressClass', CLASS, undefined), spec: { controller: INGRESS_CONTROLLER } });
    // Another controller's class (nothing runs it here): an Ingress moved to it is no longer Portico's.
    await apply(client, { ...meta(NET, 'IngressClass', OTHER_CLASS, undefined), spec: { controller: `example.com/other-ingress-${RUN}` } });
    await apply(client, { ...meta(GW, 'Gateway', 'web'), spec: { gatewayClassName: CLASS, listeners: [{ name: 'http', port: PORT, protocol: 'HTTP' }] } });
    await apply(client, {
      ...meta(GW, 'HTTPRoute', 'next'),
      spec: { parentRefs: [{ name: 'web' }], hostnames: ['next.example.com'], rules: [{ backendRefs: [{ name: 'next', port: 8080 }] }] },
    });
    await apply(client, INGRESS);
  });

  after(async () => {
    await controller?.stop();
    await engine?.close(0);
    for (const b of backends) await b.close();
    if (client) {
      await remove(client, meta(NET, 'IngressClass', CLASS, undefined)).catch(() => {});
      await remove(client, meta(NET, 'IngressClass', OTHER_CLASS, undefined)).catch(() => {});
      await remove(client, meta(GW, 'GatewayClass', CLASS, undefined)).catch(() => {});
      await remove(client, meta('v1', 'Namespace', NS, undefined)).catch(() => {});
    }
  });

  test('both hosts answer on the Gateway, the Ingress gets status.loadBalancer, the snippet is a warning; moved to another class it is cleared; deleting the Ingress leaves the HTTPRoute', { timeout: 120_000 }, async () => {
    engine = createEngine({});
    controller = await runController({
      kubeConfig: kubeConfigFrom(KUBECONFIG!),
      engine,
      translate,
      controllerName: CONTROLLER,
      addressMode: 'loopback',
      loopbackRange: '127.81.0.0/16',
      debounceMs: 50,
      backoffMaxMs: 1000,
      admin: '127.0.0.1:0',
      ingress: { ingressController: INGRESS_CONTROLLER, gateway: { namespace: NS, name: 'web' }, httpPort: PORT },
      log: (m) => {
        logs.push(m);
        if (process.env.PORTICO_TEST_VERBOSE) console.error(`[ingress] ${m}`);
      },
    });
    await controller.started;

    const gwAddress = await waitFor('Gateway web programmed with an address', async () => {
      const g = await getObj<{ status?: { addresses?: { value: string }[] } }>(client, meta(GW, 'Gateway', 'web'));
      return g?.status?.addresses?.[0]?.value;
    });
    const lb = await waitFor('Ingress legacy status.loadBalancer', async () => (await getObj<IngressStatus>(client, INGRESS))?.status?.loadBalancer?.ingress);
    assert.deepEqual(lb, [{ ip: gwAddress }]);

    const legacy = await waitFor('legacy.example.com served', async () => {
      const r = await httpGet(gwAddress, PORT, '/app/x', { host: 'legacy.example.com' });
      return r.status === 200 ? (JSON.parse(r.body) as { backend: string }) : undefined;
    });
    assert.equal(legacy.backend, 'legacy');
    assert.equal((await httpGet(gwAddress, PORT, '/other', { host: 'legacy.example.com' })).status, 404, 'Prefix /app only');
    const next = await httpGet(gwAddress, PORT, '/', { host: 'next.example.com' });
    assert.equal(next.status, 200);
    assert.equal((JSON.parse(next.body) as { backend: string }).backend, 'next');
    assert.ok(logs.some((l) => l.includes(`warning: Ingress ${NS}/legacy: configuration-snippet: not-converted`)), logs.join('\n'));
    const event = await waitFor('a Warning Event on the Ingress for configuration-snippet', async () => {
      const list = await client.json<{ items: { type: string; reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>('GET', `/api/v1/namespaces/${NS}/events`);
      return list.items.find((e) => e.involvedObject.kind === 'Ingress' && e.involvedObject.name === 'legacy' && e.message.startsWith('configuration-snippet:'));
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.reason, 'NotConverted');

    // The Ingress moves to another controller's IngressClass: Portico stops serving it and
    // takes back the status.loadBalancer it wrote (ingress-nginx does the same).
    await apply(client, { ...INGRESS, spec: { ...INGRESS.spec, ingressClassName: OTHER_CLASS } });
    await waitFor('legacy.example.com no longer served', async () => ((await httpGet(gwAddress, PORT, '/app/x', { host: 'legacy.example.com' })).status === 404 ? true : undefined));
    const cleared = await waitFor('Ingress legacy status.loadBalancer cleared', async () => {
      const lb = (await getObj<IngressStatus>(client, INGRESS))?.status?.loadBalancer;
      return (lb?.ingress ?? []).length === 0 ? (lb ?? {}) : undefined;
    });
    assert.deepEqual(cleared, {});

    // Phase 2: the team deletes its Ingress; the HTTPRoute keeps serving.
    await remove(client, INGRESS);
    const still = await httpGet(gwAddress, PORT, '/', { host: 'next.example.com' });
    assert.equal((JSON.parse(still.body) as { backend: string }).backend, 'next');
  });
});
