// compact-endpoints.ts: a compacted EndpointSlice reads the same as the original, field for field
// and, serialized, in the same key order; it shares its conditions and leaves the original alone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactEndpointSlice } from './compact-endpoints.js';
import { checkObject, parseText } from './file-parse.js';

const slice = () => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 's-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 's' } },
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['10.0.0.1'], conditions: { ready: true } },
    { addresses: ['10.0.0.2'], conditions: { ready: true } },
    { addresses: ['10.0.0.3'], conditions: { ready: false, terminating: true } },
    { conditions: { ready: true }, addresses: ['10.0.0.4'] },
    { addresses: ['10.0.0.5'], conditions: { ready: true }, hostname: 'h5', targetRef: { kind: 'Pod', name: 'p5' } },
    { addresses: ['10.0.0.6'] },
    { addresses: ['10.0.0.7'], conditions: { ready: 'yes' } },
  ],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

test('a compacted slice reads as the original does, serializes to it key for key, and the original is not changed', () => {
  const original = slice();
  const before = JSON.stringify(original);
  const compact = compactEndpointSlice(original);
  assert.notEqual(compact, original);
  assert.equal(JSON.stringify(compact), before);
  assert.equal(JSON.stringify(original), before);
  assert.deepEqual(JSON.parse(JSON.stringify(compact)), slice());
  const { endpoints, ...rest } = compact;
  const { endpoints: want, ...wantRest } = slice();
  assert.deepEqual(rest, wantRest);
  endpoints.forEach((e, i) => {
    const w = want[i] as Record<string, unknown>;
    for (const k of Object.keys(w)) assert.deepEqual((e as Record<string, unknown>)[k], w[k], `endpoint ${i} .${k}`);
  });
});

test('an endpoint of one address keeps no array of its own; each read of addresses is a fresh array', () => {
  const e = compactEndpointSlice(slice()).endpoints[0]!;
  assert.ok(!Object.prototype.hasOwnProperty.call(e, 'addresses'));
  assert.deepEqual(e.addresses, ['10.0.0.1']);
  assert.notEqual(e.addresses, e.addresses);
  const two = compactEndpointSlice({ endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'], conditions: { ready: true } }] }).endpoints[0]!;
  assert.ok(Object.prototype.hasOwnProperty.call(two, 'addresses'), 'two addresses stay a plain object');
});

test('equal boolean conditions are one frozen object; other conditions and endpoints without any are kept as they are', () => {
  const original = slice();
  const c = compactEndpointSlice(original).endpoints;
  assert.equal(c[0]!.conditions, c[1]!.conditions);
  assert.equal(c[0]!.conditions, c[3]!.conditions);
  assert.equal(c[0]!.conditions, c[4]!.conditions);
  assert.ok(Object.isFrozen(c[0]!.conditions));
  assert.notEqual(c[2]!.conditions, c[0]!.conditions);
  assert.equal(c[2]!.conditions, compactEndpointSlice(slice()).endpoints[2]!.conditions);
  assert.equal(c[5], original.endpoints[5]);
  assert.equal(c[6], original.endpoints[6]);
  assert.equal(c[4]!.targetRef, original.endpoints[4]!.targetRef);
});

test('a slice without endpoints is returned as it is', () => {
  const empty = { ...slice(), endpoints: [] };
  assert.equal(compactEndpointSlice(empty), empty);
  const none = { kind: 'EndpointSlice' };
  assert.equal(compactEndpointSlice(none), none);
});

test('the file source keeps EndpointSlices compacted, equal to what was written', () => {
  const text = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: s-1
  namespace: ns
  labels:
    kubernetes.io/service-name: s
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  conditions:
    ready: true
- addresses: [10.0.0.2]
  conditions:
    ready: true
`;
  const { docs, syntax } = parseText(text, 'slice.yaml');
  assert.deepEqual(syntax, []);
  const o = docs[0]!.value as Record<string, unknown>;
  const { errors, resource } = checkObject(o, 'EndpointSlice', o.metadata as Record<string, unknown>);
  assert.deepEqual(errors, []);
  const eps = (resource as unknown as { endpoints: { addresses: string[]; conditions: object }[] }).endpoints;
  assert.deepEqual(
    eps.map((e) => e.addresses[0]),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.equal(eps[0]!.conditions, eps[1]!.conditions);
});
