// The controller reports an Ingress's status.loadBalancer as it reports its Gateway's
// addresses: a wildcard bind address becomes the reachable one (--gateway-address / POD_IP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportedIngress } from './loop.js';

const report = (bound: string) => (bound === '0.0.0.0' ? '10.1.2.3' : undefined);

test('a wildcard address becomes the reported one, others and hostnames stay, duplicates go', () => {
  const s = reportedIngress({ kind: 'Ingress', namespace: 'shop', name: 'legacy', status: { loadBalancer: { ingress: [{ ip: '0.0.0.0' }, { ip: '127.0.0.5' }, { hostname: 'lb.example.com' }, { ip: '0.0.0.0' }] } } }, report);
  assert.deepEqual(s.status, { loadBalancer: { ingress: [{ ip: '10.1.2.3' }, { ip: '127.0.0.5' }, { hostname: 'lb.example.com' }] } });
});

test('no address yet: the status is left as it is', () => {
  const o = { kind: 'Ingress', namespace: 'shop', name: 'legacy', status: { loadBalancer: {} } };
  assert.equal(reportedIngress(o, report), o);
});
