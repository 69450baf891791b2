// endpointsFor(): a Service port's endpoints from its EndpointSlices, sorted by address then port,
// each address and port once however many slices list it, unready endpoints left out, and the
// answer frozen (it is shared between translations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointsFor } from '../../src/translate/backends.js';
import type { EndpointSlice, ServicePort } from '../../src/api/types.js';

const slice = (name: string, port: number, endpoints: { addresses: string[]; ready?: boolean }[]): EndpointSlice =>
  ({
    metadata: { name, namespace: 'app', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: e.addresses, ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
  }) as unknown as EndpointSlice;

const sp: ServicePort = { name: 'http', port: 80, protocol: 'TCP' } as ServicePort;

test('endpoints of several slices: sorted, each address and port once, unready ones out, frozen', () => {
  const got = endpointsFor(
    [
      slice('web-1', 8080, [{ addresses: ['10.0.0.9'] }, { addresses: ['10.0.0.10', '10.0.0.2'] }, { addresses: ['10.0.0.3'], ready: false }]),
      // Another slice listing some of the same addresses (a rollout moves endpoints between slices), one on another port.
      slice('web-2', 8080, [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.9'] }, { addresses: ['10.0.0.1'] }]),
      slice('web-3', 9090, [{ addresses: ['10.0.0.2'] }]),
    ],
    sp,
  );
  assert.deepEqual(got, [
    { address: '10.0.0.1', port: 8080 },
    { address: '10.0.0.10', port: 8080 },
    { address: '10.0.0.2', port: 8080 },
    { address: '10.0.0.2', port: 9090 },
    { address: '10.0.0.9', port: 8080 },
  ]);
  assert.ok(Object.isFrozen(got));
  assert.ok(got.every((e) => Object.isFrozen(e)));
});

test('the same slices again: the same frozen answer, not a new one', () => {
  const slices = [slice('web-1', 8080, [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.1'] }])];
  const first = endpointsFor(slices, sp);
  assert.deepEqual(first, [{ address: '10.0.0.1', port: 8080 }]);
  assert.equal(endpointsFor(slices, sp), first);
});
