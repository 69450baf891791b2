// What provisioned data planes add to the translator's statuses (./provisioned-status.ts), on
// statuses the real translator computes with dataPlanes: per-gateway.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, Resource } from '../api/types.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import type { ObjectStatus } from '../translate/types.js';
import type { GatewaySyncStatus } from '../sync/server.js';
import { planProvisioning } from './provision-plan.js';
import { decorateProvisioned } from './provisioned-status.js';

const CTL = 'portico.dev/gateway-controller';
const settings = { image: 'portico:test', syncAddress: 'portico-sync.portico-system.svc:18000' };
const GC: Resource = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: CTL } };
const gateway = (spec: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'ns', uid: 'u1' },
  spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'tcp', port: 5432, protocol: 'TCP' }], ...spec },
});
const service = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'gw-portico', namespace: 'ns' },
  spec,
  status,
});
const noSync = (gateway: string): GatewaySyncStatus => ({ gateway, version: 1, clients: [] });

function run(resources: Resource[], o: { sync?: (g: string) => GatewaySyncStatus; applyErrors?: Map<string, string> } = {}) {
  const snapshot = new Snapshot(resources.map((resource) => ({ resource })));
  const { statuses } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway' });
  const plan = planProvisioning(snapshot, statuses, CTL, settings);
  const out = decorateProvisioned(statuses, { snapshot, plan, applyErrors: o.applyErrors ?? new Map(), sync: o.sync ?? noSync });
  const of = (kind: string) => out.find((s: ObjectStatus) => s.kind === kind)!.status as { conditions: Condition[]; addresses?: unknown; listeners?: { name: string; conditions: Condition[] }[] };
  const cond = (kind: string, type: string) => of(kind).conditions.find((c) => c.type === type)!;
  return { of, cond };
}

test('status.addresses: load-balancer ingress, else the cluster IP; Programmed stays True', () => {
  const lb = run([GC, gateway(), service({ type: 'LoadBalancer', clusterIP: '10.96.0.9' }, { loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } })]);
  assert.deepEqual(lb.of('Gateway').addresses, [{ type: 'IPAddress', value: '203.0.113.5' }]);
  assert.equal(lb.cond('Gateway', 'Programmed').status, 'True');
  const pending = run([GC, gateway(), service({ type: 'LoadBalancer', clusterIP: '10.96.0.9' })]);
  assert.deepEqual(pending.of('Gateway').addresses, [{ type: 'IPAddress', value: '10.96.0.9' }]);
});

test('no Service yet: Programmed False, Pending', () => {
  const r = run([GC, gateway()]);
  assert.deepEqual([r.cond('Gateway', 'Programmed').status, r.cond('Gateway', 'Programmed').reason], ['False', 'Pending']);
  assert.deepEqual(r.of('Gateway').addresses, []);
});

test('a second address on a LoadBalancer Service is AddressNotUsable; a requested one not given is AddressNotAssigned', () => {
  const two = [{ type: 'IPAddress', value: '203.0.113.5' }, { type: 'IPAddress', value: '203.0.113.6' }];
  const r = run([GC, gateway({ addresses: two }), service({ type: 'LoadBalancer', clusterIP: '10.96.0.9' }, { loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } })]);
  assert.equal(r.cond('Gateway', 'Programmed').reason, 'AddressNotUsable');
  const one = run([GC, gateway({ addresses: two.slice(0, 1) }), service({ type: 'LoadBalancer', clusterIP: '10.96.0.9' }, { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } })]);
  assert.equal(one.cond('Gateway', 'Programmed').reason, 'AddressNotAssigned');
  assert.match(one.cond('Gateway', 'Programmed').message, /203\.0\.113\.5/);
});

test('invalid parameters: Accepted False InvalidParameters on the Gateway, or on its GatewayClass', () => {
  const ref = { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'missing' };
  const gw = run([GC, gateway({ infrastructure: { parametersRef: ref } })]);
  assert.deepEqual([gw.cond('Gateway', 'Accepted').status, gw.cond('Gateway', 'Accepted').reason], ['False', 'InvalidParameters']);
  assert.match(gw.cond('Gateway', 'Accepted').message, /not found/);
  assert.equal(gw.cond('Gateway', 'Programmed').status, 'False');
  const gc = run([{ ...GC, spec: { controllerName: CTL, parametersRef: { ...ref, namespace: 'infra' } } }, gateway()]);
  assert.deepEqual([gc.cond('GatewayClass', 'Accepted').status, gc.cond('GatewayClass', 'Accepted').reason], ['False', 'InvalidParameters']);
  assert.equal(gc.cond('Gateway', 'Programmed').status, 'False');
});

test('a NACK or an apply error: Programmed False with the message', () => {
  const svc = service({ type: 'ClusterIP', clusterIP: '10.96.0.9' });
  const nack = run([GC, gateway(), svc], {
    sync: (g) => ({ ...noSync(g), lastNack: { gateway: g, pod: 'gw-1', epoch: 'e', version: 3, code: 'SYNC_APPLY_FAILED', message: 'boom', at: new Date(0) } }),
  });
  assert.equal(nack.cond('Gateway', 'Programmed').status, 'False');
  assert.match(nack.cond('Gateway', 'Programmed').message, /gw-1 refused config version 3: SYNC_APPLY_FAILED: boom/);
  const err = run([GC, gateway(), svc], { applyErrors: new Map([['ns/gw', 'PATCH ...: 403 forbidden']]) });
  assert.match(err.cond('Gateway', 'Programmed').message, /403 forbidden/);
});

test('a port a data plane could not bind: that listener is Accepted False PortUnavailable and not programmed', () => {
  const svc = service({ type: 'ClusterIP', clusterIP: '10.96.0.9' });
  const unbound = (ports: string[]) => (g: string): GatewaySyncStatus => ({
    ...noSync(g),
    clients: [{ pod: 'gw-1', remote: '10.0.0.1:1', connectedAt: new Date(0), acked: { version: 1, unbound: ports.map((port) => ({ port, error: 'EADDRINUSE' })) } }],
  });
  const r = run([GC, gateway(), svc], { sync: unbound(['0.0.0.0:5432/TCP']) });
  const tcp = r.of('Gateway').listeners!.find((l) => l.name === 'tcp')!;
  assert.deepEqual(tcp.conditions.filter((c) => c.type === 'Accepted' || c.type === 'Programmed').map((c) => [c.status, c.reason]), [['False', 'PortUnavailable'], ['False', 'Invalid']]);
  assert.equal(r.cond('Gateway', 'Programmed').status, 'True', 'the http listener still serves');
  const all = run([GC, gateway(), svc], { sync: unbound(['0.0.0.0:5432/TCP', '0.0.0.0:80/HTTP']) });
  assert.equal(all.cond('Gateway', 'Programmed').status, 'False');
});

test("merged mode: each Gateway's addresses are the shared Service's, its own spec.addresses are AddressNotUsable, the class's data plane's NACK is every member's", () => {
  const merging: Resource[] = [
    { ...GC, spec: { controllerName: CTL, parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'p', namespace: 'portico-system' } } },
    { apiVersion: 'gateway.portico.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'p', namespace: 'portico-system' }, spec: { mergeGateways: true } },
    { ...service({ type: 'LoadBalancer', clusterIP: '10.96.0.7' }, { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } }), metadata: { name: 'portico', namespace: 'portico-system' } },
  ];
  const runMerged = (gw: Resource, sync?: (g: string) => GatewaySyncStatus) => {
    const snapshot = new Snapshot([...merging, gw].map((resource) => ({ resource })));
    const s = { ...settings, namespace: 'portico-system' };
    const { statuses } = translate(snapshot, { controllerName: CTL, dataPlanes: 'per-gateway', mergedGatewayClasses: new Set(['portico']) });
    const plan = planProvisioning(snapshot, statuses, CTL, s);
    const out = decorateProvisioned(statuses, { snapshot, plan, applyErrors: new Map(), sync: sync ?? noSync });
    const st = out.find((x: ObjectStatus) => x.kind === 'Gateway')!.status as { conditions: Condition[]; addresses?: unknown };
    return { st, programmed: st.conditions.find((c) => c.type === 'Programmed')!, accepted: st.conditions.find((c) => c.type === 'Accepted')! };
  };
  const plain = runMerged(gateway());
  assert.deepEqual(plain.st.addresses, [{ type: 'IPAddress', value: '203.0.113.9' }]);
  assert.equal(plain.programmed.status, 'True');
  const addressed = runMerged(gateway({ addresses: [{ type: 'IPAddress', value: '203.0.113.50' }] }));
  assert.deepEqual([addressed.programmed.status, addressed.programmed.reason], ['False', 'AddressNotUsable']);
  assert.match(addressed.programmed.message, /merges its Gateways into one data plane/);
  const nacked = runMerged(gateway(), (g) =>
    g === 'GatewayClass/portico' ? { ...noSync(g), lastNack: { gateway: g, pod: 'portico-1', epoch: 'e', version: 2, code: 'SYNC_APPLY_FAILED', message: 'boom', at: new Date(0) } } : noSync(g),
  );
  assert.match(nacked.programmed.message, /portico-1 refused config version 2/);
  const own = runMerged(gateway({ infrastructure: { parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'p' } } }));
  assert.deepEqual([own.accepted.status, own.accepted.reason], ['False', 'InvalidParameters']);
});
