import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import type { Resource } from '../api/types.js';
import { translate } from '../translate/index.js';
import { changeMatters, referenceGrantsKey } from './relevance.js';
import { Snapshot } from './snapshot.js';

const docs = YAML.parseAllDocuments(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: portico
  listeners:
    - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs: [{name: foo, port: 80}, {name: not-yet, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: foo, namespace: default}
spec: {ports: [{port: 80}]}
`).map((d) => ({ resource: d.toJS() as Resource }));

const refs = new Set(translate(new Snapshot(docs)).references);
const obj = (kind: string, name: string, extra: Partial<Resource['metadata']> = {}): Resource => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'default', ...extra },
});

test('referenced objects matter, found or not', () => {
  assert.equal(changeMatters(refs, obj('Secret', 'cert')), true, 'listener certificate (missing today) appears');
  assert.equal(changeMatters(refs, obj('Service', 'foo')), true);
  assert.equal(changeMatters(refs, obj('Service', 'not-yet')), true, 'a Service the route waits for appears');
  assert.equal(changeMatters(refs, obj('EndpointSlice', 'foo-x1', { labels: { 'kubernetes.io/service-name': 'foo' } })), true);
});

test('unreferenced Secrets, Services, slices and ConfigMaps do not', () => {
  assert.equal(changeMatters(refs, obj('Secret', 'unrelated')), false);
  assert.equal(changeMatters(refs, obj('Service', 'bar')), false);
  assert.equal(changeMatters(refs, obj('EndpointSlice', 'bar-x1', { labels: { 'kubernetes.io/service-name': 'bar' } })), false);
  assert.equal(changeMatters(refs, obj('EndpointSlice', 'orphan')), false);
  assert.equal(changeMatters(refs, obj('ConfigMap', 'settings')), false);
  assert.equal(changeMatters(refs, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }), false);
});

test('Gateway API objects always matter, and so does everything before a first translation', () => {
  assert.equal(changeMatters(refs, obj('HTTPRoute', 'anything')), true);
  assert.equal(changeMatters(undefined, obj('Secret', 'unrelated')), true);
});

test('a ReferenceGrant matters only where a reference into its namespace was checked', () => {
  assert.equal(changeMatters(refs, obj('ReferenceGrant', 'g')), false, 'no cross-namespace reference in these documents');
  const asked = new Set([...refs, referenceGrantsKey('backends')]);
  assert.equal(changeMatters(asked, obj('ReferenceGrant', 'g', { namespace: 'backends' })), true);
  assert.equal(changeMatters(asked, obj('ReferenceGrant', 'g', { namespace: 'elsewhere' })), false);
});

test('Ingresses and IngressClasses always matter: they become routes (convert/serve.ts)', () => {
  assert.equal(changeMatters(refs, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'legacy', namespace: 'default' } }), true);
  assert.equal(changeMatters(refs, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'portico' } }), true);
});
