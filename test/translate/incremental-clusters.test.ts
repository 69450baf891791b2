// An EndpointSlice change replaces a few clusters of the last result's record (ir/record-patch.ts),
// and a route change after a run of them builds its record from the one before the run: either
// way the config stream's encoder learns from keysBetween() which clusters can differ from the last
// record it sent, instead of walking all of them. The results still equal a full translate().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../src/api/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import { keysBetween } from '../../src/ir/record-patch.js';

const GW = 'gateway.networking.k8s.io/v1';
const SERVICES = 40;

const slice = (i: number, address: string): Resource =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-1`, namespace: 'app', labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }) as unknown as Resource;

const route = (name: string, svc: number): Resource => ({
  apiVersion: GW,
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'app' },
  spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name: `svc-${svc}`, port: 80 }] }] },
});

function world(): Resource[] {
  const out: Resource[] = [
    { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    { apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'app' }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] } },
  ];
  for (let i = 0; i < SERVICES; i++) {
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'app' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    out.push(slice(i, `10.0.0.${i}`), route(`r-${i}`, i));
  }
  return out;
}

const options = { addressFor: () => '127.0.0.1', sessionSeed: 'test' };

test('EndpointSlice changes, then route changes: each record is a few replaced clusters away from the one before', () => {
  const inc = incrementalTranslate(translate);
  let all = world();
  let snapshot = new Snapshot(all.map((resource) => ({ resource })));
  let prev = inc(snapshot, options).ir.clusters;
  const step = (edit: (all: Resource[]) => Resource[], moved: string[]) => {
    all = edit(all);
    snapshot = new Snapshot(all.map((resource) => ({ resource })), snapshot);
    const got = inc(snapshot, options);
    assert.deepEqual(got.ir, translate(snapshot, options).ir);
    const between = keysBetween(got.ir.clusters, prev);
    assert.ok(between, 'made from a record the last one came from');
    for (const k of moved) assert.ok(between.includes(k), `${k} among ${between}`);
    assert.ok(between.length <= 4, `only the replaced clusters: ${between}`);
    for (const k of Object.keys(got.ir.clusters)) if (!between.includes(k)) assert.equal(got.ir.clusters[k], prev[k], k);
    prev = got.ir.clusters;
  };
  const moveSlice = (i: number, address: string) => (xs: Resource[]) => xs.map((r) => (r.kind === 'EndpointSlice' && r.metadata.name === `svc-${i}-1` ? slice(i, address) : r));
  // A run of EndpointSlice changes, then a route change that names a Service already served.
  step(moveSlice(3, '10.1.0.3'), ['app/svc-3:80']);
  step(moveSlice(7, '10.1.0.7'), ['app/svc-7:80']);
  step(moveSlice(3, '10.2.0.3'), ['app/svc-3:80']);
  const rePath = (xs: Resource[]) => xs.map((r) => (r.kind === 'HTTPRoute' && r.metadata.name === 'r-5' ? { ...route('r-5', 5), spec: { ...route('r-5', 5).spec, hostnames: ['five.example'] } } : r));
  step(rePath, []);
  // And again after the route change.
  step(moveSlice(12, '10.1.0.12'), ['app/svc-12:80']);
  step((xs) => [...xs, route('added', 12)], []);
  assert.equal(inc.stats.full, 1);
  assert.equal(inc.stats.endpointsOnly, 4);
  assert.equal(inc.stats.routesSpliced, 2);
});

test('keysBetween: the keys replaced on either side of a common record, and nothing without one', async () => {
  const { patchRecord } = await import('../../src/ir/record-patch.js');
  const r0 = { a: 1, b: 2, c: 3, d: 4 };
  const r1 = patchRecord(r0, new Map([['a', 10]]))!;
  const r2 = patchRecord(r1, new Map([['b', 20]]))!;
  const s1 = patchRecord(r0, new Map([['c', 30]]))!;
  assert.deepEqual(keysBetween(r2, r1), ['b']);
  assert.deepEqual([...keysBetween(s1, r2)!].sort(), ['a', 'b', 'c']);
  assert.deepEqual([...keysBetween(r2, s1)!].sort(), ['a', 'b', 'c']);
  assert.deepEqual(keysBetween(r1, r0), ['a']);
  assert.deepEqual(keysBetween(r0, r1), ['a']);
  assert.equal(keysBetween(r2, { ...r0 }), undefined);
  assert.equal(keysBetween(r2, undefined), undefined);
});
