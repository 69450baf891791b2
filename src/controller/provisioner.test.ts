// The provisioner against a recording API client: only the leader writes; unchanged Gateways are
// not re-applied; the sweep deletes what dropped out and nothing of another controller's classes
// or of a Gateway that keeps its objects (not accepted, invalid parameters).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import { ApiError, type ApiClient } from '../sources/kubernetes.js';
import { planProvisioning } from './provision-plan.js';
import { Provisioner } from './provisioner.js';
import { MASTER_KEY, MASTER_SECRET, SyncKeys } from './sync-keys.js';

const CTL = 'portico.dev/gateway-controller';
const GC: Resource = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: CTL } };
const gw = (name: string, uid: string, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: 'ns', uid },
  spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }], ...extra },
});
const MASTER: Resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name: MASTER_SECRET, namespace: 'portico-system' }, data: { [MASTER_KEY]: Buffer.alloc(32, 7).toString('base64') } } as Resource;

type Listed = { metadata: { name: string; namespace: string; uid: string; labels: Record<string, string>; ownerReferences?: { kind: string; uid: string }[] } };

function fakeClient(listed: Record<string, Listed[]> = {}) {
  const calls: string[] = [];
  /** Requests and answers (`answered <request>`) in the order they happened. */
  const events: string[] = [];
  const client = {
    json: async (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      events.push(`${method} ${path}`);
      if (method === 'GET') return { items: listed[path.split('/').pop()!] ?? [] };
      // An answer takes a turn of the event loop, as a real one does: what is sent before it is concurrent.
      await new Promise((r) => setImmediate(r));
      events.push(`answered ${method} ${path}`);
      return {};
    },
    request: async () => ({ status: 404, body: undefined }),
  } as unknown as ApiClient;
  return { client, calls, events };
}

function setup(resources: Resource[], leader: boolean, listed?: Record<string, Listed[]>) {
  const snapshot = new Snapshot([GC, MASTER, ...resources].map((resource) => ({ resource })));
  const { statuses } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
  const plan = planProvisioning(snapshot, statuses, CTL, { image: 'portico:test', syncAddress: 'sync:18000' });
  const { client, calls, events } = fakeClient(listed);
  const keys = new SyncKeys({ get: (kind, ns, name) => snapshot.get(kind, ns, name) }, 'portico-system');
  const p = new Provisioner({ client, keys, isLeader: () => leader, log: () => undefined, resyncMs: 3_600_000 });
  return { p, plan, calls, events };
}

test('a standby (not the leader) writes nothing', async () => {
  const { p, plan, calls } = setup([gw('a', 'u-a')], false);
  p.update(plan);
  await p.idle();
  await p.stop();
  assert.deepEqual(calls, []);
});

test('the leader applies ServiceAccount, -sync Secret and Service together, the Deployment once they are in; once while nothing changes', async () => {
  const { p, plan, calls, events } = setup([gw('a', 'u-a')], true);
  p.update(plan);
  await p.idle();
  const writes = events.filter((c) => c.includes('PATCH')).map((c) => `${c.startsWith('answered') ? 'answered ' : ''}${c.split('/').slice(-2).join('/')}`);
  assert.deepEqual(writes.slice(0, 3), ['serviceaccounts/a-portico', 'secrets/a-portico-sync', 'services/a-portico'], 'sent before any answer');
  assert.deepEqual(writes.slice(3, 6).sort(), ['answered secrets/a-portico-sync', 'answered serviceaccounts/a-portico', 'answered services/a-portico']);
  assert.deepEqual(writes.slice(6), ['deployments/a-portico', 'answered deployments/a-portico']);
  calls.length = 0;
  p.update(plan);
  await p.idle();
  await p.stop();
  assert.deepEqual(calls.filter((c) => !c.startsWith('GET')), [], 'unchanged: not applied again');
});

test('a listener moved to another port applies the Service alone; the Deployment is not applied again', async () => {
  // Both ports above 1024: a port below it changes the pod template too (its sysctl).
  const { p, plan, events } = setup([gw('a', 'u-a', { listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] })], true);
  p.update(plan);
  await p.idle();
  const moved = gw('a', 'u-a', { listeners: [{ name: 'http', port: 8081, protocol: 'HTTP' }] });
  const snapshot = new Snapshot([GC, MASTER, moved].map((resource) => ({ resource })));
  const next = planProvisioning(snapshot, translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' }).statuses, CTL, { image: 'portico:test', syncAddress: 'sync:18000' });
  events.length = 0;
  p.update(next);
  await p.idle();
  await p.stop();
  assert.deepEqual(events.filter((c) => c.startsWith('PATCH')).map((c) => c.split('/').slice(-2).join('/')), ['services/a-portico']);
});

test('the sweep deletes what no accepted Gateway wants, and spares other classes and Gateways keeping their objects', async () => {
  const labels = (cls: string) => ({ 'app.kubernetes.io/managed-by': 'portico', 'app.kubernetes.io/component': 'dataplane', 'gateway.networking.k8s.io/gateway-class-name': cls });
  const obj = (name: string, cls: string, owner: string): Listed => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: labels(cls), ownerReferences: [{ kind: 'Gateway', uid: owner }] } });
  const listed = {
    poddisruptionbudgets: [obj('a-portico', 'portico', 'u-a'), obj('x-other', 'other', 'u-x'), obj('bad-portico', 'portico', 'u-bad')],
    deployments: [obj('a-portico', 'portico', 'u-a'), obj('a-renamed', 'portico', 'u-a')],
  };
  const invalid = { infrastructure: { parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'missing' } } };
  const { p, plan, calls } = setup([gw('a', 'u-a'), gw('bad', 'u-bad', invalid)], true, listed);
  p.update(plan);
  await p.idle();
  await p.stop();
  assert.deepEqual(calls.filter((c) => c.startsWith('DELETE')).map((c) => c.split('/').slice(-2).join('/')).sort(), [
    'deployments/a-renamed', 'poddisruptionbudgets/a-portico',
  ]);
});

test('a partial plan (made before the routes were listed) applies what it plans and deletes nothing; the whole plan after it sweeps', async () => {
  const labels = { 'app.kubernetes.io/managed-by': 'portico', 'app.kubernetes.io/component': 'dataplane', 'gateway.networking.k8s.io/gateway-class-name': 'portico' };
  // What an Ingress's generated Gateway had provisioned: no Gateway object in the early snapshot plans it.
  const listed = { deployments: [{ metadata: { name: 'portico-ingress-web', namespace: 'ns', uid: 'uid-i', labels, ownerReferences: [{ kind: 'IngressClass', uid: 'u-ic' }] } }] };
  const { p, plan, calls } = setup([gw('a', 'u-a')], true, listed);
  p.update({ ...plan, partial: true });
  await p.idle();
  const applied = calls.filter((c) => c.startsWith('PATCH'));
  assert.equal(applied.length, 4, calls.join('\n'));
  assert.ok(applied.some((c) => c.includes('/deployments/a')), calls.join('\n'));
  assert.deepEqual(calls.filter((c) => c.startsWith('GET') || c.startsWith('DELETE')), []);
  calls.length = 0;
  p.update(plan);
  await p.idle();
  await p.stop();
  assert.deepEqual(calls.filter((c) => c.startsWith('PATCH')), [], 'the whole plan finds the objects applied');
  assert.ok(calls.some((c) => c.startsWith('GET')), 'the whole plan sweeps');
  assert.deepEqual(calls.filter((c) => c.startsWith('DELETE')).map((c) => c.split('/').slice(-2).join('/')), ['deployments/portico-ingress-web']);
});

test('a Service refused for an immutable field (a new static clusterIP) is deleted and created again', async () => {
  const { p, plan, calls } = setup([gw('a', 'u-a')], true);
  const client = (p as unknown as { o: { client: { json: (m: string, path: string) => Promise<unknown> } } }).o.client;
  const json = client.json;
  let refused = false;
  client.json = async (method, path) => {
    if (method === 'PATCH' && path.includes('/services/') && !refused) {
      refused = true;
      calls.push(`${method} ${path}`);
      throw new ApiError(422, `PATCH ${path}: 422 Service "a-portico" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.20"]: may not change once set`);
    }
    return json(method, path);
  };
  p.update(plan);
  await p.idle();
  await p.stop();
  const services = calls.filter((c) => c.includes('/services/')).map((c) => c.split(' ')[0]);
  assert.deepEqual(services, ['PATCH', 'DELETE', 'PATCH']);
  assert.equal(p.errors.size, 0);
});

test('a resync asked while a reconcile runs (our Service deleted as its writes were answered) applies everything again after it', async () => {
  const { p, plan, calls, events } = setup([gw('a', 'u-a')], true);
  p.update(plan);
  // The deletion arrives once the Service's write is answered, while the Deployment's is still out:
  // that reconcile then records the Service as applied.
  while (!events.includes('answered PATCH /api/v1/namespaces/ns/services/a-portico')) await new Promise((r) => setImmediate(r));
  p.resync();
  await p.idle();
  await p.stop();
  const services = calls.filter((c) => c.startsWith('PATCH') && c.endsWith('/services/a-portico'));
  assert.equal(services.length, 2, `the Service applied again after the reconcile that ran: ${calls.join(', ')}`);
});
