// `portico convert --from-cluster` against the real local API server: Ingresses, an
// IngressClass, a Service with a named port and a custom-headers ConfigMap are created in a
// namespace of their own; the command reads them through the kubeconfig, resolves the named
// port and the ConfigMap, and --verify passes for this class.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/convert.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { portico } from '../e2e/cli.js';
import { kubeConfigFrom } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-convert-${RUN}`;
const CLASS = `convert-${RUN}`;

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: unknown };

const path = (o: Obj) => {
  const plural = { Namespace: 'namespaces', Service: 'services', ConfigMap: 'configmaps', Ingress: 'ingresses', IngressClass: 'ingressclasses' }[o.kind]!;
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return `${base}${o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : ''}/${plural}/${o.metadata.name}`;
};

const objects: Obj[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: CLASS }, spec: { controller: 'k8s.io/ingress-nginx' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { ports: [{ name: 'http', port: 8080 }] } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'headers', namespace: NS }, data: { 'X-Frame-Options': 'DENY' } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: NS, annotations: { 'nginx.ingress.kubernetes.io/custom-headers': `${NS}/headers`, 'nginx.ingress.kubernetes.io/limit-rps': '5' } },
    spec: { ingressClassName: CLASS, rules: [{ host: `${RUN}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web-canary', namespace: NS, annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary' } },
    spec: { ingressClassName: CLASS, rules: [{ host: `${RUN}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-v2', port: { number: 80 } } } }] } }] },
  },
];

describe('portico convert --from-cluster', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  before(async () => {
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    for (const o of objects) {
      const res = await client.request('PATCH', path(o), { body: o, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'portico-test', force: 'true' } });
      assert.ok(res.status < 300, `apply ${o.kind} ${o.metadata.name}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  });
  after(async () => {
    // The namespace takes its objects with it; the IngressClass is cluster-scoped.
    for (const o of [objects[1]!, objects[0]!]) await client?.request('DELETE', path(o));
  });

  test('reads Ingresses, IngressClass, Services and the named ConfigMap through the kubeconfig', { timeout: 60_000 }, async () => {
    const r = await portico(['convert', '--from-cluster', '--verify'], 60_000, undefined);
    const mine = r.stdout.split(/^---$/m).filter((d) => d.includes(NS) || d.includes(`name: ${CLASS}\n`));
    const route = mine.find((d) => d.includes('kind: HTTPRoute'));
    assert.ok(route, r.stdout + r.stderr);
    assert.match(route!, /name: web\n +port: 8080/, 'the named port resolved through the Service read from the cluster');
    assert.match(route!, /name: X-Frame-Options\n +value: DENY/, 'custom-headers read from the ConfigMap in the cluster');
    assert.match(route!, /name: X-Canary\n +value: always/);
    assert.ok(mine.some((d) => d.includes('kind: Gateway\n') && d.includes(`gatewayClassName: ${CLASS}`)));
    assert.match(r.stderr, new RegExp(`${NS}/web +limit-rps +NOT CONVERTED`));
    const rows = r.stderr.split('\n').filter((l) => l.includes(`${RUN}.example.com`));
    assert.ok(rows.length > 5, r.stderr);
    assert.deepEqual(rows.filter((l) => !l.startsWith('PASS')), []);
  });
});
