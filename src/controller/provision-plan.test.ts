// planProvisioning: a provisioned data plane's Service carries the ports of the ListenerSets the
// translator accepted for its Gateway, and not those of ListenerSets it refused; merged mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import { sliceForGateways } from '../ir/slice.js';
import { mergedClassesOf, planProvisioning } from './provision-plan.js';

const CTL = 'portico.dev/gateway-controller';
const GW = 'gateway.networking.k8s.io/v1';
const GC: Resource = { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: CTL } };
const gateway = (name: string, allowed: string): Resource => ({
  apiVersion: GW,
  kind: 'Gateway',
  metadata: { name, namespace: 'ns', uid: `u-${name}` },
  spec: { gatewayClassName: 'portico', allowedListeners: { namespaces: { from: allowed } }, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
});
const listenerSet = (name: string, parent: string, port: number, protocol = 'TCP'): Resource => ({
  apiVersion: GW,
  kind: 'ListenerSet',
  metadata: { name, namespace: 'ns' },
  spec: { parentRef: { name: parent }, listeners: [{ name: 'extra', port, protocol }] },
});

function servicePorts(resources: Resource[], gatewayKey: string): string[] {
  const snapshot = new Snapshot([GC, ...resources].map((resource) => ({ resource })));
  const { statuses } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
  const result = planProvisioning(snapshot, statuses, CTL, { image: 'portico:test', syncAddress: 'sync:18000' }).gateways.get(gatewayKey)!.result;
  assert.ok(result.ok);
  const svc = result.objects.find((o) => o.kind === 'Service')!;
  return ((svc as { spec: { ports: { port: number; protocol: string }[] } }).spec.ports).map((p) => `${p.port}/${p.protocol}`);
}

test("an accepted ListenerSet's ports go on its Gateway's Service; a refused one's do not", () => {
  const resources = [gateway('open', 'Same'), gateway('closed', 'None'), listenerSet('db', 'open', 5432), listenerSet('dns', 'open', 53, 'UDP'), listenerSet('nope', 'closed', 6379)];
  assert.deepEqual(servicePorts(resources, 'ns/open'), ['53/UDP', '80/TCP', '5432/TCP']);
  assert.deepEqual(servicePorts(resources, 'ns/closed'), ['80/TCP']);
});

// Merged mode (GatewayParameters mergeGateways on the GatewayClass): one data plane for the class.
const merging = (mergeGateways: boolean): Resource[] => [
  { ...GC, spec: { controllerName: CTL, parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'p', namespace: 'portico-system' } } },
  { apiVersion: 'gateway.portico.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'p', namespace: 'portico-system' }, spec: { mergeGateways } },
];
const onPort = (ns: string, name: string, created: string, listeners: unknown[]): Resource => ({
  apiVersion: GW,
  kind: 'Gateway',
  metadata: { name, namespace: ns, uid: `u-${ns}-${name}`, creationTimestamp: created },
  spec: { gatewayClassName: 'portico', listeners },
});
const http = (port: number, hostname: string) => ({ name: 'http', port, protocol: 'HTTP', hostname });

test('merged mode: one data plane for the class, the union of ports, conflicts across its Gateways as with one shared data plane', () => {
  const gws = [
    onPort('a', 'first', '2026-01-01T00:00:00Z', [http(80, 'a.example.com')]),
    onPort('b', 'second', '2026-01-02T00:00:00Z', [http(80, 'b.example.com'), { name: 'db', port: 5432, protocol: 'TCP' }]),
    onPort('c', 'late', '2026-01-03T00:00:00Z', [http(80, 'a.example.com')]),
  ];
  const settings = { image: 'portico:test', syncAddress: 'sync:18000', namespace: 'portico-system' };
  const listenerConds = (statuses: readonly { kind: string; namespace?: string; name: string; status: unknown }[], ns: string) =>
    (statuses.find((s) => s.kind === 'Gateway' && s.namespace === ns)!.status as { listeners: { conditions: { type: string; status: string; reason: string }[] }[] }).listeners[0]!.conditions;

  const snapshot = new Snapshot([...merging(true), ...gws].map((resource) => ({ resource })));
  const merged = mergedClassesOf(CTL, settings)(snapshot);
  assert.deepEqual([...merged], ['portico']);
  const { statuses, ir } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway', mergedGatewayClasses: merged });
  // The newest Gateway's listener repeats a hostname on a port the older one holds.
  assert.ok(listenerConds(statuses, 'c').some((c) => c.type === 'Conflicted' && c.status === 'True' && c.reason === 'HostnameConflict'));
  assert.ok(!listenerConds(statuses, 'a').some((c) => c.type === 'Conflicted' && c.status === 'True'));
  const plan = planProvisioning(snapshot, statuses, CTL, settings);
  assert.deepEqual([...plan.streams.keys()], ['GatewayClass/portico']);
  const stream = plan.streams.get('GatewayClass/portico')!;
  // Its only listener conflicted, the late Gateway is not accepted: not served, its port not added.
  assert.equal(plan.gateways.get('c/late')!.accepted, false);
  assert.deepEqual([...stream.members], ['a/first', 'b/second']);
  const svc = stream.result.objects.find((o) => o.kind === 'Service')!;
  assert.equal(svc.metadata.namespace, 'portico-system');
  assert.deepEqual((svc.spec as { ports: { port: number }[] }).ports.map((p) => p.port), [80, 5432]);
  for (const k of ['a/first', 'b/second', 'c/late']) assert.equal(plan.gateways.get(k)!.stream, 'GatewayClass/portico');
  // What the merged data plane is sent: every member's listeners, none conflicted.
  const slice = sliceForGateways(ir, stream.members);
  assert.deepEqual(slice.ports.flatMap((p) => p.listeners.map((l) => l.name)).sort(), ['a/first/http', 'b/second/db', 'b/second/http']);

  // Without mergeGateways every Gateway has its own data plane and nothing conflicts across them.
  const own = new Snapshot([...merging(false), ...gws].map((resource) => ({ resource })));
  assert.equal(mergedClassesOf(CTL, settings)(own).size, 0);
  const t = translate(own, { controllerName: CTL, dataPlanes: 'per-gateway' });
  assert.ok(!listenerConds(t.statuses, 'c').some((c) => c.type === 'Conflicted' && c.status === 'True'));
  assert.deepEqual([...planProvisioning(own, t.statuses, CTL, settings).streams.keys()].sort(), ['a/first', 'b/second', 'c/late']);
});

test('mergedClassesOf keeps the same Set while the answer is the same (incremental translation compares options by identity)', () => {
  const of = mergedClassesOf(CTL, { image: 'portico:test', syncAddress: 'sync:18000' });
  const s1 = of(new Snapshot(merging(true).map((resource) => ({ resource }))));
  const s2 = of(new Snapshot(merging(true).map((resource) => ({ resource }))));
  assert.equal(s1, s2);
  assert.notEqual(of(new Snapshot(merging(false).map((resource) => ({ resource })))), s1);
});

test('a Gateway whose GatewayClass and GatewayParameters are the same objects keeps its provisioned result object; a changed parameter makes a new one', () => {
  const settings = { image: 'portico:test', syncAddress: 'sync:18000' };
  const params = (replicas: number): Resource => ({ apiVersion: 'gateway.portico.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'p', namespace: 'portico-system' }, spec: { deployment: { replicas } } });
  const gc: Resource = { ...GC, spec: { controllerName: CTL, parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'p', namespace: 'portico-system' } } };
  const gw = gateway('web', 'Same');
  const route = (n: number): Resource => ({ apiVersion: GW, kind: 'HTTPRoute', metadata: { name: `r${n}`, namespace: 'ns' }, spec: { parentRefs: [{ name: 'web' }] } });
  const plan = (...rest: Resource[]) => {
    const snapshot = new Snapshot([gc, gw, ...rest].map((resource) => ({ resource })));
    const { statuses } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
    return planProvisioning(snapshot, statuses, CTL, settings).gateways.get('ns/web')!.result;
  };
  const p1 = params(2);
  const first = plan(p1, route(1));
  assert.ok(first.ok);
  // A route added: nothing provision() reads changed.
  assert.equal(plan(p1, route(1), route(2)), first);
  // The parameters changed (a new object): provisioned again, with the new replica count.
  const second = plan(params(3), route(1));
  assert.notEqual(second, first);
  assert.ok(second.ok);
  const replicas = (r: typeof second) => (r.ok ? (r.objects.find((o) => o.kind === 'Deployment') as { spec: { replicas?: number } }).spec.replicas : undefined);
  assert.deepEqual([replicas(first), replicas(second)], [2, 3]);
});
