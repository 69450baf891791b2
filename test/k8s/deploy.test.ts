// deploy/ validated against the real local API server: every manifest passes a server-side
// dry-run apply, and the RBAC is both sufficient (SubjectAccessReviews for everything the
// controller does) and least-privilege (what it must not do is denied).
//
//   eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/deploy.test.ts   (or hack/validate-deploy.sh)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { ALL_KINDS, GROUP_OF, ROUTE_KINDS, Kind } from '../../src/api/names.js';
import { ROOT, apply, installGatewayApiCrds, kubeConfigFrom, remove, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/deploy.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[] };
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

const docs: Doc[] = parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy/manifests/portico.yaml'), 'utf8'))
  .map((d) => d.toJS() as Doc | null)
  .filter((d): d is Doc => !!d);
const NS = docs.find((d) => d.kind === 'Namespace')!.metadata.name;
const SA = `system:serviceaccount:${NS}:${docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name}`;

const PLURAL: Record<string, string> = {
  GatewayClass: 'gatewayclasses', Gateway: 'gateways', HTTPRoute: 'httproutes', GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes', TCPRoute: 'tcproutes', UDPRoute: 'udproutes', ReferenceGrant: 'referencegrants',
  BackendTLSPolicy: 'backendtlspolicies', Service: 'services', EndpointSlice: 'endpointslices',
  Secret: 'secrets', ConfigMap: 'configmaps', Namespace: 'namespaces',
};

test('RBAC rules are least privilege by construction: no wildcards, writes only on */status and leases', () => {
  for (const d of docs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const r of d.rules ?? []) {
      for (const field of [r.apiGroups, r.resources, r.verbs]) assert.ok(!field.includes('*'), `${d.metadata.name}: wildcard in ${JSON.stringify(r)}`);
      const writes = r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length === 0) continue;
      if (d.kind === 'ClusterRole') {
        assert.ok(r.resources.every((x) => x.endsWith('/status')), `${d.metadata.name}: cluster-wide writes only on status: ${JSON.stringify(r)}`);
        assert.deepEqual([...writes].sort(), ['patch', 'update']);
      } else {
        assert.deepEqual(r.resources, ['leases'], `${d.metadata.name}: namespaced writes only on leases`);
      }
    }
  }
});

describe('deploy/ against a real API server', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  const rbac = docs.filter((d) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(d.kind));
  let createdNamespace = false;

  before(async () => {
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    // a previous run's namespace may still be terminating: nothing can be created in it until it is gone
    await waitFor(`namespace ${NS} not terminating`, async () => {
      const res = await client.request('GET', `/api/v1/namespaces/${NS}`);
      return res.status === 404 || (res.body as { status?: { phase?: string } }).status?.phase !== 'Terminating';
    }, 120000);
    createdNamespace = (await client.request('GET', `/api/v1/namespaces/${NS}`)).status === 404;
    // RBAC is applied for real (SubjectAccessReviews need it); the workload only as a dry run.
    for (const d of rbac) await apply(client, d as Parameters<typeof apply>[1]);
  });

  after(async () => {
    if (!client) return;
    for (const d of [...rbac].reverse()) {
      if (d.kind === 'Namespace' && !createdNamespace) continue;
      await remove(client, d).catch(() => {});
    }
  });

  test('every manifest passes a server-side dry-run apply', async () => {
    for (const d of docs) {
      const out = await apply(client, d as Parameters<typeof apply>[1], true);
      assert.equal(out.kind, d.kind, `${d.kind}/${d.metadata.name}`);
    }
  });

  async function allowed(attrs: { group: string; resource: string; verb: string; namespace?: string; subresource?: string }) {
    const review = await client.json<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: SA,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
          resourceAttributes: attrs,
        },
      },
    });
    return review.status.allowed;
  }

  test('the service account may do everything the controller does', async () => {
    for (const kind of ALL_KINDS) {
      for (const verb of ['get', 'list', 'watch']) {
        assert.ok(await allowed({ group: GROUP_OF[kind], resource: PLURAL[kind]!, verb }), `${verb} ${kind}`);
      }
    }
    for (const kind of [Kind.GatewayClass, Kind.Gateway, ...ROUTE_KINDS, Kind.BackendTLSPolicy]) {
      assert.ok(await allowed({ group: GROUP_OF[kind], resource: PLURAL[kind]!, subresource: 'status', verb: 'update', namespace: 'app' }), `update ${kind}/status`);
    }
    for (const verb of ['get', 'create', 'update']) {
      assert.ok(await allowed({ group: 'coordination.k8s.io', resource: 'leases', verb, namespace: NS }), `${verb} leases in ${NS}`);
    }
  });

  test('and nothing more', async () => {
    const denied = [
      { group: 'gateway.networking.k8s.io', resource: 'gateways', verb: 'update', namespace: 'app' },
      { group: 'gateway.networking.k8s.io', resource: 'httproutes', verb: 'delete', namespace: 'app' },
      { group: '', resource: 'secrets', verb: 'update', namespace: 'app' },
      { group: '', resource: 'services', verb: 'create', namespace: 'app' },
      { group: '', resource: 'pods', verb: 'list' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'default' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'delete', namespace: NS },
      { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate' },
    ];
    for (const a of denied) assert.equal(await allowed(a), false, `must be denied: ${JSON.stringify(a)}`);
  });
});
