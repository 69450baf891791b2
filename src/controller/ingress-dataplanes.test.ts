// Served Ingresses with provisioned data planes (./ingress-dataplanes.ts): the generated Gateway
// gets a data plane owned by its IngressClass, and each served Ingress's status.loadBalancer is
// that data plane's Service address. Real translator, real serve.ts, real planProvisioning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import type { ObjectStatus } from '../translate/types.js';
import { serveIngresses } from '../convert/serve.js';
import type { GatewaySyncStatus } from '../sync/server.js';
import { planProvisioning } from './provision-plan.js';
import { decorateProvisioned } from './provisioned-status.js';
import { IngressDataPlanes } from './ingress-dataplanes.js';
import { Provisioner } from './provisioner.js';
import { MASTER_KEY, MASTER_SECRET, SyncKeys } from './sync-keys.js';
import type { ApiClient } from '../sources/kubernetes.js';

const CTL = 'portico.dev/gateway-controller';
const ING_CTL = 'portico.dev/ingress-controller';
const settings = { image: 'portico:test', syncAddress: 'portico-sync.portico-system.svc:18000' };
const noSync = (gateway: string): GatewaySyncStatus => ({ gateway, version: 1, clients: [] });

const ingressClass = (name: string, controller = ING_CTL): Resource => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, uid: `uid-${name}` },
  spec: { controller },
});
const ingress = (name: string, className: string, host: string): Resource => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop', generation: 3 },
  spec: { ingressClassName: className, rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
});
const backend: Resource = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };

function rebuild(resources: Resource[]) {
  const snapshot = new Snapshot(resources.map((resource) => ({ resource })));
  const planes = new IngressDataPlanes(ING_CTL);
  const t = planes.outer(serveIngresses(planes.inner(translate), { ingressController: ING_CTL }));
  const { statuses } = t(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
  const plan = planProvisioning(snapshot, statuses, CTL, settings, planes.generated());
  const out = planes.ingressStatuses(statuses, (list) => decorateProvisioned(list, { snapshot, plan, applyErrors: new Map(), sync: noSync }));
  return { plan, out, generated: planes.generated() };
}

const lbOf = (out: ObjectStatus[], name: string) => out.find((s) => s.kind === 'Ingress' && s.name === name)?.status;

test('the generated Ingress Gateway gets its own data plane, owned by the IngressClass', () => {
  const { plan, out, generated } = rebuild([ingressClass('portico'), ingressClass('nginx', 'k8s.io/ingress-nginx'), ingress('shop', 'portico', 'shop.example.com'), backend]);
  assert.deepEqual(generated.classes, ['portico-ingress-portico']);
  const [key] = [...plan.streams.keys()];
  assert.equal(plan.streams.size, 1);
  const stream = plan.streams.get(key!)!;
  assert.equal(stream.gateway?.metadata.name, 'portico-ingress-portico');
  assert.equal(stream.result.namespace, stream.gateway?.metadata.namespace);
  assert.deepEqual(
    stream.result.objects.map((o) => [o.kind, o.metadata.ownerReferences]),
    ['ServiceAccount', 'Service', 'Deployment'].map((k) => [k, [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', name: 'portico', uid: 'uid-portico', controller: true, blockOwnerDeletion: true }]]),
  );
  const svc = stream.result.objects.find((o) => o.kind === 'Service')!;
  assert.deepEqual((svc.spec!.ports as { port: number }[]).map((p) => p.port), [80]);
  assert.ok(plan.classLabels.has('portico-ingress-portico'), 'the sweep owns generated data planes of the class');
  // No Service yet: nothing to report on the Ingress; the generated Gateway's status is not written.
  assert.deepEqual(lbOf(out, 'shop'), { loadBalancer: {} });
  assert.ok(!out.some((s) => s.kind === 'Gateway' || s.kind === 'GatewayClass'));
});

test('the data plane is named after the generated Gateway once; objects under the old doubled name are swept', async () => {
  const master: Resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name: MASTER_SECRET, namespace: 'portico-system' }, data: { [MASTER_KEY]: Buffer.alloc(32, 7).toString('base64') } } as Resource;
  const resources = [ingressClass('portico'), ingress('shop', 'portico', 'shop.example.com'), backend, master];
  const { plan } = rebuild(resources);
  const stream = [...plan.streams.values()][0]!;
  assert.equal(stream.result.name, 'portico-ingress-portico', 'not portico-ingress-portico-portico-ingress-portico');
  assert.deepEqual([...new Set(stream.result.objects.map((o) => o.metadata.name))], ['portico-ingress-portico']);

  // What an earlier version provisioned for this IngressClass, still in the cluster: same class label, owned by the IngressClass.
  const old = 'portico-ingress-portico-portico-ingress-portico';
  const labels = { 'app.kubernetes.io/managed-by': 'portico', 'app.kubernetes.io/component': 'dataplane', 'gateway.networking.k8s.io/gateway-class-name': 'portico-ingress-portico' };
  const listedAs = (name: string) => [{ metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels, ownerReferences: [{ kind: 'IngressClass', uid: 'uid-portico' }] } }];
  const listed: Record<string, unknown[]> = {
    serviceaccounts: listedAs(old),
    secrets: listedAs(`${old}-sync`),
    services: [...listedAs(old), ...listedAs('portico-ingress-portico')],
    deployments: listedAs(old),
  };
  const calls: string[] = [];
  const client = {
    json: async (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      return method === 'GET' ? { items: listed[path.split('/').pop()!] ?? [] } : {};
    },
    request: async () => ({ status: 404, body: undefined }),
  } as unknown as ApiClient;
  const snapshot = new Snapshot(resources.map((resource) => ({ resource })));
  const keys = new SyncKeys({ get: (kind, ns, name) => snapshot.get(kind, ns, name) }, 'portico-system');
  const p = new Provisioner({ client, keys, isLeader: () => true, log: () => undefined, resyncMs: 3_600_000 });
  p.update(plan);
  await p.idle();
  await p.stop();
  const tail = (c: string) => c.split('/').slice(-2).join('/');
  assert.deepEqual(calls.filter((c) => c.startsWith('PATCH')).map(tail), [
    'serviceaccounts/portico-ingress-portico', 'secrets/portico-ingress-portico-sync', 'services/portico-ingress-portico', 'deployments/portico-ingress-portico',
  ]);
  assert.deepEqual(calls.filter((c) => c.startsWith('DELETE')).map(tail).sort(), [
    `deployments/${old}`, `secrets/${old}-sync`, `serviceaccounts/${old}`, `services/${old}`,
  ]);
});

test("status.loadBalancer is the data plane Service's load-balancer address", () => {
  const first = rebuild([ingressClass('portico'), ingress('shop', 'portico', 'shop.example.com'), backend]);
  const stream = [...first.plan.streams.values()][0]!;
  const lbService: Resource = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: stream.result.name, namespace: stream.result.namespace },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.7' },
    status: { loadBalancer: { ingress: [{ ip: '172.18.255.201' }] } },
  };
  const { out } = rebuild([ingressClass('portico'), ingress('shop', 'portico', 'shop.example.com'), backend, lbService]);
  assert.deepEqual(lbOf(out, 'shop'), { loadBalancer: { ingress: [{ ip: '172.18.255.201' }] } });
});

test('no Ingress served: no data plane, but the class stays swept', () => {
  const { plan, generated } = rebuild([ingressClass('portico'), backend]);
  assert.equal(plan.streams.size, 0);
  assert.deepEqual(generated.gateways, []);
  assert.ok(plan.classLabels.has('portico-ingress-portico'));
});

test('--ingress-gateway: the Ingress reports the user Gateway data plane address, nothing is generated', () => {
  const gc: Resource = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: CTL } };
  const gw: Resource = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'edge', namespace: 'infra', uid: 'g1' },
    spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
  };
  const svc: Resource = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge-portico', namespace: 'infra' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.8' }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }] } } };
  const snapshot = new Snapshot([gc, gw, svc, ingressClass('portico'), ingress('shop', 'portico', 'shop.example.com'), backend].map((resource) => ({ resource })));
  const planes = new IngressDataPlanes(ING_CTL);
  const t = planes.outer(serveIngresses(planes.inner(translate), { ingressController: ING_CTL, gateway: { namespace: 'infra', name: 'edge' } }));
  const { statuses } = t(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
  const plan = planProvisioning(snapshot, statuses, CTL, settings, planes.generated());
  assert.deepEqual([...plan.streams.keys()], ['infra/edge']);
  const out = planes.ingressStatuses(statuses, (list) => decorateProvisioned(list, { snapshot, plan, applyErrors: new Map(), sync: noSync }));
  assert.deepEqual(lbOf(out, 'shop'), { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }] } });
});
