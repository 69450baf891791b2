import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot } from '../store/snapshot.js';
import type { Resource } from '../api/types.js';
import type { SourceChange } from '../sources/kubernetes.js';
import { classify, ReferencedNames, referencedNames } from './relevance.js';

const route: Resource = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'app' },
  spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }, { name: 'other', namespace: 'x', port: 80 }] }] },
};
const gateway: Resource = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'infra' },
  spec: { gatewayClassName: 'portico', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } }] },
};
const refs = referencedNames(new Snapshot([{ resource: route }, { resource: gateway }]));
const obj = (kind: string, namespace: string, name: string, extra: Partial<Resource> = {}): Resource => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace, resourceVersion: '1' },
  ...extra,
});
const change = (c: Partial<SourceChange> & Pick<SourceChange, 'resource'>): SourceChange => ({
  type: 'add',
  kind: c.resource.kind as SourceChange['kind'],
  ...c,
});

test('backendRefs, certificateRefs and cross-namespace refs are indexed', () => {
  for (const k of ['app/web', 'x/other', 'infra/cert']) assert.ok(refs.has(k), k);
});

test('only referenced Secrets/Services/EndpointSlices trigger a rebuild', () => {
  assert.equal(classify(change({ resource: obj('Secret', 'infra', 'cert') }), refs), 'rebuild');
  assert.equal(classify(change({ resource: obj('Secret', 'infra', 'unrelated') }), refs), 'unreferenced');
  assert.equal(classify(change({ resource: obj('Service', 'app', 'web') }), refs), 'rebuild');
  assert.equal(classify(change({ resource: obj('Service', 'other-ns', 'web') }), refs), 'unreferenced');
  const slice = obj('EndpointSlice', 'app', 'web-abc', { metadata: { name: 'web-abc', namespace: 'app', labels: { 'kubernetes.io/service-name': 'web' } } });
  assert.equal(classify(change({ resource: slice }), refs), 'rebuild');
  const unrelated = obj('EndpointSlice', 'app', 'db-abc', { metadata: { name: 'db-abc', namespace: 'app', labels: { 'kubernetes.io/service-name': 'db' } } });
  assert.equal(classify(change({ resource: unrelated }), refs), 'unreferenced');
  assert.equal(classify(change({ resource: obj('Namespace', '', 'app') }), refs), 'rebuild');
});

test('an update that only touched status (and resourceVersion/managedFields) is status-only', () => {
  const old = { ...route, metadata: { ...route.metadata, resourceVersion: '5' } };
  const statusOnly = { ...route, metadata: { ...route.metadata, resourceVersion: '6' }, status: { parents: [] } };
  assert.equal(classify(change({ type: 'update', resource: statusOnly, old }), refs), 'status-only');
  const specChange = { ...statusOnly, metadata: { ...statusOnly.metadata, generation: 2 }, spec: { ...(route.spec as object), hostnames: ['a.example'] } };
  assert.equal(classify(change({ type: 'update', resource: specChange, old }), refs), 'rebuild');
  const labelChange = { ...old, metadata: { ...old.metadata, labels: { a: 'b' } } };
  assert.equal(classify(change({ type: 'update', resource: labelChange, old }), refs), 'rebuild');
});

test('Ingress backends, spec.tls Secrets and the custom-headers ConfigMap count as referenced (Ingresses are served directly)', () => {
  const ingress: Resource = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'legacy', namespace: 'shop', annotations: { 'nginx.ingress.kubernetes.io/custom-headers': 'shop/extra' } },
    spec: { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } }, rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }], tls: [{ hosts: ['a.example.com'], secretName: 'a-cert' }] },
  };
  const r = referencedNames(new Snapshot([{ resource: ingress }]));
  for (const n of ['shop/web', 'shop/fallback', 'shop/a-cert', 'shop/extra']) assert.ok(r.has(n), n);
  const slice = obj('EndpointSlice', 'shop', 'web-1', { metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } } });
  assert.equal(classify(change({ resource: slice }), r), 'rebuild');
});

test('ReferencedNames kept from snapshot deltas equals referencedNames of each snapshot', () => {
  const routeTo = (name: string, ns: string, backends: string[]): Resource => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns },
    spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: [{ backendRefs: backends.map((b) => ({ name: b, port: 80 })) }] },
  });
  const kept = new ReferencedNames();
  let objects = new Map<string, Resource>([['gw', gateway]]);
  let snap: Snapshot | undefined;
  const step = (edit: (m: Map<string, Resource>) => void) => {
    objects = new Map(objects);
    edit(objects);
    snap = new Snapshot([...objects.values()].map((resource) => ({ resource })), snap);
    kept.update(snap);
    const full = referencedNames(snap);
    for (const n of full) assert.ok(kept.has(n), `${n} is referenced`);
    for (const n of ['app/web', 'app/db', 'x/other', 'shop/web', 'infra/cert', 'infra/gw', 'app/gone']) assert.equal(kept.has(n), full.has(n), n);
  };
  step(() => {});
  step((m) => m.set('a', routeTo('a', 'app', ['web', 'db'])));
  step((m) => m.set('b', routeTo('b', 'app', ['web'])));
  // one of two routes naming app/web goes: still referenced
  step((m) => m.delete('a'));
  step((m) => m.set('b', routeTo('b', 'app', ['gone'])));
  step((m) => m.set('c', routeTo('c', 'shop', ['web'])));
  step((m) => m.delete('gw'));
  // a snapshot not built from the last one: counted again from scratch
  snap = undefined;
  step((m) => m.set('gw', gateway));
});
