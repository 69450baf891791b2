// planProvisioning: a provisioned data plane's Service carries the ports of the ListenerSets the
// translator accepted for its Gateway, and not those of ListenerSets it refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import { planProvisioning } from './provision-plan.js';

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
