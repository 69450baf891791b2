// XBackendTrafficPolicy against a real API server: the controller discovers and watches the
// experimental kind, writes its GEP-713 status (Accepted on the ancestor Gateway, Conflicted for
// a younger policy on the same Service), and the data plane serves the policy's session cookie.
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/traffic-policy.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunningController } from '../../src/controller/index.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import { apply, httpGet, installGatewayApiCrds, kubeConfigFrom, remove, startBackend, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
const GW = 'gateway.networking.k8s.io/v1';
const XGW = 'gateway.networking.x-k8s.io/v1alpha1';
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-btp-${RUN}`;
const CLASS = `portico-btp-${RUN}`;
const CONTROLLER = `portico.dev/k8s-test-${RUN}`;
const PORT = 18081;
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))?.address;

interface Cond {
  type: string;
  status: string;
  reason: string;
}
interface PolicyStatus {
  ancestors?: { ancestorRef: { name: string }; controllerName: string; conditions: Cond[] }[];
}
const meta = (kind: string, name: string, namespace: string | undefined = NS, apiVersion = GW) => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});
const policyPath = (name: string) => `/apis/${XGW}/namespaces/${NS}/xbackendtrafficpolicies/${name}`;
const policy = (name: string, sessionName: string) => ({
  ...meta('XBackendTrafficPolicy', name, NS, XGW),
  spec: { targetRefs: [{ group: '', kind: 'Service', name: 'app' }], sessionPersistence: { sessionName } },
});

describe('XBackendTrafficPolicy through the controller', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  let translate: TranslateFn;
  let createEngine: (o: EngineOptions) => Engine;
  let engine: Engine;
  let controller: RunningController | undefined;
  const backends: { close(): Promise<void> }[] = [];

  const applyPolicy = (o: ReturnType<typeof policy>) =>
    client.json('PATCH', policyPath(o.metadata.name), { body: o, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'portico-test', force: 'true' } });
  const ours = async (name: string) => {
    const r = await client.request('GET', policyPath(name));
    const st = (r.body as { status?: PolicyStatus }).status;
    return (st?.ancestors ?? []).filter((a) => a.controllerName === CONTROLLER);
  };

  before(async () => {
    ({ translate, createEngine } = await loadPipeline());
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    await apply(client, meta('Namespace', NS, undefined, 'v1'));
    const ports: number[] = [];
    for (const n of ['a', 'b']) {
      const b = await startBackend(n, HOST_IP ?? '127.0.0.1');
      backends.push(b);
      ports.push(b.port);
    }
    if (HOST_IP) {
      // One Service, two endpoints (same address, two ports: one EndpointSlice each).
      await apply(client, { ...meta('Service', 'app', NS, 'v1'), spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } });
      for (const [i, port] of ports.entries())
        await apply(client, {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: `app-${i}`, namespace: NS, labels: { 'kubernetes.io/service-name': 'app' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: [HOST_IP], conditions: { ready: true } }],
          ports: [{ name: 'http', port, protocol: 'TCP' }],
        });
    } else {
      await apply(client, { ...meta('Service', 'app', NS, 'v1'), spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'http', port: ports[0]!, protocol: 'TCP' }] } });
    }
    await apply(client, { ...meta('GatewayClass', CLASS, undefined), spec: { controllerName: CONTROLLER } });
    await apply(client, { ...meta('Gateway', 'gw'), spec: { gatewayClassName: CLASS, listeners: [{ name: 'http', port: PORT, protocol: 'HTTP' }] } });
    await apply(client, {
      ...meta('HTTPRoute', 'app'),
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'app', port: HOST_IP ? 8080 : ports[0]! }] }] },
    });
    engine = createEngine({});
    controller = await runController({
      kubeConfig: kubeConfigFrom(KUBECONFIG!),
      engine,
      translate,
      controllerName: CONTROLLER,
      addressMode: 'loopback',
      loopbackRange: '127.78.0.0/16',
      debounceMs: 50,
      backoffMaxMs: 1000,
      rediscoverMs: 5000,
    });
  });

  after(async () => {
    await controller?.stop();
    await engine?.close(0);
    for (const b of backends) await b.close();
    if (client) {
      await remove(client, meta('GatewayClass', CLASS, undefined)).catch(() => {});
      await remove(client, meta('Namespace', NS, undefined, 'v1')).catch(() => {});
    }
  });

  test('status per ancestor, Conflicted for the younger policy, and the session cookie on the wire', async () => {
    await controller!.started;
    await applyPolicy(policy('sticky', 'app-session'));
    const accepted = await waitFor('policy Accepted on Gateway gw', async () => {
      const a = await ours('sticky');
      return a.length === 1 && a[0]!.conditions.some((c) => c.type === 'Accepted' && c.status === 'True') ? a : undefined;
    }).catch(async (err: Error) => {
      // What the controller saw, for the failure message.
      const dump = async (p: string) => JSON.stringify((await client.request('GET', p)).body).slice(0, 1500);
      throw new Error(`${err.message}\nroute: ${await dump(`/apis/${GW}/namespaces/${NS}/httproutes/app`)}\npolicy: ${await dump(policyPath('sticky'))}\ngateway: ${await dump(`/apis/${GW}/namespaces/${NS}/gateways/gw`)}`);
    });
    assert.equal(accepted[0]!.ancestorRef.name, 'gw');

    const addr = await waitFor('Gateway address', async () => {
      const r = await client.request('GET', `/apis/${GW}/namespaces/${NS}/gateways/gw`);
      return (r.body as { status?: { addresses?: { value: string }[] } }).status?.addresses?.[0]?.value;
    });
    const first = await waitFor('a session cookie from the gateway', async () => {
      const r = await httpGet(addr, PORT, '/');
      return r.status === 200 && String(r.headers['set-cookie'] ?? '').startsWith('app-session=') ? r : undefined;
    });
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    const pinned = (JSON.parse(first.body) as { backend: string }).backend;
    for (let i = 0; i < 6; i++) assert.equal((JSON.parse((await httpGet(addr, PORT, '/', { cookie })).body) as { backend: string }).backend, pinned);

    // Created later, so younger: Conflicted.
    await applyPolicy(policy('younger', 'other'));
    const conflicted = await waitFor('younger policy Conflicted', async () => {
      const a = await ours('younger');
      return a.find((x) => x.conditions.some((c) => c.type === 'Accepted' && c.status === 'False' && c.reason === 'Conflicted'));
    });
    assert.equal(conflicted.ancestorRef.name, 'gw');
  });
});
