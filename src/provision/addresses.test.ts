import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameStatusAddresses, statusAddresses, type ServiceView } from './addresses.js';

test('statusAddresses: load balancer ingress IPs and hostnames, in order, deduplicated', () => {
  const r = statusAddresses({
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10' },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.7' }] } },
  });
  assert.deepEqual(r.addresses, [
    { type: 'IPAddress', value: '203.0.113.7' },
    { type: 'Hostname', value: 'lb.example.com' },
  ]);
  assert.equal(r.pending, false);
  assert.deepEqual(r.notAssigned, []);
});

test('statusAddresses: a pending load balancer falls back to the cluster IPs and says so', () => {
  const r = statusAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::a'] } });
  assert.deepEqual(r.addresses, [
    { type: 'IPAddress', value: '10.96.0.10' },
    { type: 'IPAddress', value: 'fd00::a' },
  ]);
  assert.equal(r.pending, true);
});

test('statusAddresses: ClusterIP Service reports its clusterIP; headless reports nothing', () => {
  assert.deepEqual(statusAddresses({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.11' } }).addresses, [{ type: 'IPAddress', value: '10.96.0.11' }]);
  assert.deepEqual(statusAddresses({ spec: { type: 'ClusterIP', clusterIP: 'None' } }).addresses, []);
  assert.equal(statusAddresses({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.11' } }).pending, false);
});

test('statusAddresses: NodePort with externalIPs reports them', () => {
  const r = statusAddresses({ spec: { type: 'NodePort', clusterIP: '10.96.0.12', externalIPs: ['192.0.2.1'] } });
  assert.deepEqual(r.addresses, [{ type: 'IPAddress', value: '192.0.2.1' }]);
});

test('statusAddresses: requested IPs the load balancer did not assign are listed (AddressNotAssigned)', () => {
  const r = statusAddresses(
    { spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } } },
    [{ type: 'IPAddress', value: '203.0.113.7' }, { type: 'IPAddress', value: '203.0.113.9' }, { type: 'Hostname', value: 'x.example.com' }, { value: '' }],
  );
  assert.deepEqual(r.notAssigned, ['203.0.113.7']);
});

test('sameStatusAddresses: a Service whose ports moved gives the same addresses; a new ingress point or cluster IP does not', () => {
  const lb = (ports: number[], ingress: { ip: string }[]) => ({
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.7', ports: ports.map((port) => ({ port })) } as ServiceView['spec'],
    status: { loadBalancer: { ingress } },
  });
  assert.equal(sameStatusAddresses(lb([80, 8080], [{ ip: '10.250.0.3' }]), lb([80, 8081], [{ ip: '10.250.0.3' }])), true);
  assert.equal(sameStatusAddresses(lb([80], []), lb([80], [{ ip: '10.250.0.3' }])), false, 'the load balancer assigned an address');
  assert.equal(sameStatusAddresses(lb([80], [{ ip: '10.250.0.3' }]), lb([80], [{ ip: '10.250.0.4' }])), false);
  assert.equal(sameStatusAddresses({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.7' } }, { spec: { type: 'ClusterIP', clusterIP: '10.96.0.8' } }), false);
});
