// deploy/ validated against the real local API server: every manifest passes a server-side
// dry-run apply, and the RBAC is both sufficient (SubjectAccessReviews for everything the
// controller does) and least-privilege (what it must not do is denied). The Helm chart is
// rendered with `helm template` (helm built from the Go module proxy by hack/build-tools.sh on
// first use): it must make the same objects as the manifests, with the same RBAC, and pass the
// same dry run, with default and with non-default values.
//
//   eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/deploy.test.ts   (or hack/validate-deploy.sh)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { ALL_KINDS, DEFAULT_CONTROLLER_NAME, GROUP_OF, ROUTE_KINDS, Kind } from '../../src/api/names.js';
import { provision } from '../../src/provision/index.js';
import { ROOT, apply, installGatewayApiCrds, kubeConfigFrom, remove, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/deploy.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[]; [k: string]: unknown };
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type PodSpec = { containers: { args?: string[]; [k: string]: unknown }[]; [k: string]: unknown };
type DeploymentSpec = { replicas: number; template: { spec: PodSpec } };

const parseDocs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc | null).filter((d): d is Doc => !!d);
/** The in-process install (`helm ... --set dataplane.mode=in-process`). */
const docs = parseDocs(fs.readFileSync(path.join(ROOT, 'deploy/manifests/portico-in-process.yaml'), 'utf8'));
/** The default install: provisioned data planes (`helm ...`, dataplane.mode=provisioned). */
const provisionedDocs = parseDocs(fs.readFileSync(path.join(ROOT, 'deploy/manifests/portico.yaml'), 'utf8'));
const IN_PROCESS = ['--set', 'dataplane.mode=in-process'];
/** What the controller creates, updates and deletes for provisioned data planes (any Gateway namespace). */
const PROVISIONED_RESOURCES = ['serviceaccounts', 'services', 'secrets', 'deployments', 'horizontalpodautoscalers', 'poddisruptionbudgets', 'gateways/finalizers', 'gatewayclasses/finalizers', 'ingressclasses/finalizers'];
const NS = docs.find((d) => d.kind === 'Namespace')!.metadata.name;
const SA = `system:serviceaccount:${NS}:${docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name}`;

const CHART = path.join(ROOT, 'deploy/helm/portico');
const HELM = path.join(process.env.PORTICO_CLUSTER_BIN ?? path.join(ROOT, '.cache/cluster/bin'), 'helm');
const renderChart = (release: string, args: string[] = []): Doc[] =>
  parseDocs(execFileSync(HELM, ['template', release, CHART, '--namespace', NS, ...args], { encoding: 'utf8' }));
const id = (d: Doc) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
const deploymentOf = (list: Doc[]) => list.find((d) => d.kind === 'Deployment')!.spec as DeploymentSpec;

const PLURAL: Record<string, string> = {
  GatewayClass: 'gatewayclasses', Gateway: 'gateways', ListenerSet: 'listenersets', HTTPRoute: 'httproutes', GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes', TCPRoute: 'tcproutes', UDPRoute: 'udproutes', ReferenceGrant: 'referencegrants',
  BackendTLSPolicy: 'backendtlspolicies', Service: 'services', EndpointSlice: 'endpointslices',
  XBackendTrafficPolicy: 'xbackendtrafficpolicies', BackendLBPolicy: 'backendlbpolicies',
  Secret: 'secrets', ConfigMap: 'configmaps', Namespace: 'namespaces',
  Ingress: 'ingresses', IngressClass: 'ingressclasses',
};

test('RBAC rules are least privilege by construction: no wildcards, writes only on */status, leases and creating events (and the provisioned kinds with provisioned data planes)', () => {
  for (const d of [...docs, ...provisionedDocs].filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const r of d.rules ?? []) {
      for (const field of [r.apiGroups, r.resources, r.verbs]) assert.ok(!field.includes('*'), `${d.metadata.name}: wildcard in ${JSON.stringify(r)}`);
      const writes = r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length === 0) continue;
      if (d.kind === 'ClusterRole' && r.resources.length === 1 && r.resources[0] === 'events') {
        // Warning Events on served Ingresses (controller/ingress-events.ts): create, nothing else
        assert.deepEqual(r.verbs, ['create'], JSON.stringify(r));
      } else if (d.kind === 'ClusterRole' && !r.resources.every((x) => x.endsWith('/status'))) {
        assert.ok(provisionedDocs.includes(d), `${d.metadata.name}: in-process mode writes only status: ${JSON.stringify(r)}`);
        assert.ok(r.resources.every((x) => PROVISIONED_RESOURCES.includes(x)), `${d.metadata.name}: writes only what provisioning makes: ${JSON.stringify(r)}`);
        assert.ok(!r.verbs.includes('deletecollection') && !r.verbs.includes('escalate') && !r.verbs.includes('bind'), JSON.stringify(r));
      } else if (d.kind === 'ClusterRole') {
        assert.deepEqual([...writes].sort(), ['patch', 'update']);
      } else {
        assert.deepEqual(r.resources, ['leases'], `${d.metadata.name}: namespaced writes only on leases`);
      }
    }
  }
});

type Probe = { httpGet: { path: string; port: string | number } };
type Container = { args?: string[]; ports?: { name: string; containerPort: number }[]; readinessProbe?: Probe; livenessProbe?: Probe };

/** Issue 10: /ir reveals the configuration, so only the health listener may face the pod network. */
function assertAdminPrivate(spec: DeploymentSpec, what: string): void {
  const c = spec.template.spec.containers[0] as Container;
  const args = c.args ?? [];
  assert.ok(!args.includes('--admin-allow-remote'), `${what}: --admin-allow-remote`);
  for (const a of args.filter((x) => x.startsWith('--admin='))) assert.match(a, /^--admin=(127\.[\d.]+|\[::1\]|localhost):\d+$/, `${what}: admin must stay on loopback`);
  const health = args.find((a) => a.startsWith('--health='));
  assert.ok(health, `${what}: a --health listener for probes and metrics`);
  const port = Number(/:(\d+)$/.exec(health)![1]);
  assert.match(health, /^--health=(0\.0\.0\.0)?:\d+$/, `${what}: kubelet reaches the health listener on the pod IP`);
  for (const probe of [c.readinessProbe, c.livenessProbe]) {
    assert.ok(probe, `${what}: probes`);
    const named = c.ports?.find((p) => p.name === probe.httpGet.port)?.containerPort ?? probe.httpGet.port;
    assert.equal(named, port, `${what}: ${probe.httpGet.path} probes the health listener`);
  }
  assert.ok(!c.ports?.some((p) => p.containerPort === 9090 || p.name === 'admin'), `${what}: no admin container port`);
}

test('the admin listener (/ir) stays on loopback; probes go to the health listener', () => {
  assertAdminPrivate(deploymentOf(docs), 'deploy/manifests/portico-in-process.yaml');
  assertAdminPrivate(deploymentOf(provisionedDocs), 'deploy/manifests/portico.yaml');
});

describe('deploy/ against a real API server', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  const rbac = docs.filter((d) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(d.kind));
  let createdNamespace = false;
  let chart: Doc[] = [];

  before(async () => {
    // no-op when helm is built and its module unchanged; a cold build takes about 3 minutes
    execFileSync(path.join(ROOT, 'hack/build-tools.sh'), ['helm'], { stdio: ['ignore', 2, 2] });
    chart = renderChart('portico', IN_PROCESS);
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

  test('the Helm chart renders the same objects (the Namespace aside: helm install --create-namespace makes it)', () => {
    assert.deepEqual(chart.map(id).sort(), docs.filter((d) => d.kind !== 'Namespace').map(id).sort());
  });

  test('with the same RBAC, Service, GatewayClass and pod spec, so the RBAC checks below hold for it too', () => {
    for (const m of docs.filter((d) => d.kind !== 'Namespace')) {
      const c = chart.find((d) => id(d) === id(m))!;
      const what = `${m.kind}/${m.metadata.name}`;
      if (m.kind.endsWith('Role')) assert.deepEqual(c.rules, m.rules, what);
      if (m.kind.endsWith('RoleBinding')) assert.deepEqual([c.roleRef, c.subjects], [m.roleRef, m.subjects], what);
      if (m.kind === 'GatewayClass') assert.deepEqual(c.spec, m.spec, what);
      if (m.kind === 'Service') {
        const { selector: _m, ...ms } = m.spec as Record<string, unknown>;
        const { selector: _c, ...cs } = c.spec as Record<string, unknown>;
        assert.deepEqual(cs, ms, what);
      }
    }
    const [m, c] = [deploymentOf(docs), deploymentOf(chart)];
    assertAdminPrivate(c, 'the chart');
    assert.equal(c.replicas, m.replicas);
    const withoutArgs = (p: PodSpec) => ({ ...p, containers: p.containers.map(({ args: _, ...rest }) => rest) });
    assert.deepEqual(withoutArgs(c.template.spec), withoutArgs(m.template.spec));
    // the chart spells out what the manifests leave to the flags' defaults, and nothing else
    const defaults = [`--controller-name=${DEFAULT_CONTROLLER_NAME}`, '--leader-elect-name=portico-controller',
      '--leader-elect-lease-duration=15s', '--leader-elect-renew-deadline=10s', '--leader-elect-retry-period=2s'];
    assert.deepEqual([...c.template.spec.containers[0]!.args!].sort(), [...m.template.spec.containers[0]!.args!, ...defaults].sort());
  });

  test('every object the chart renders passes a server-side dry-run apply', async () => {
    for (const d of chart) {
      const out = await apply(client, d as Parameters<typeof apply>[1], true);
      assert.equal(out.kind, d.kind, `${d.kind}/${d.metadata.name}`);
    }
  });

  test('and so does the chart with its optional values set', async () => {
    const edge = renderChart('edge', [
      ...IN_PROCESS,
      '--set', 'leaderElection.enabled=false', '--set', 'gatewayClass.create=false', '--set', 'gatewayAddress=203.0.113.7',
      '--set', 'image.tag=0.2.0', '--set', 'replicaCount=1', '--set', 'service.type=ClusterIP', '--set', 'healthPort=9191', '--set', 'adminPort=9190',
      '--set-json', 'service.ports=[{"name":"http","port":8080}]',
      '--set-json', 'extraArgs=["--gateway-address-mode=loopback","--access-log"]',
      '--set-json', 'nodeSelector={"kubernetes.io/os":"linux"}',
      '--set-json', 'tolerations=[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]',
    ]);
    assert.deepEqual(edge.map((d) => `${d.kind}/${d.metadata.name}`).sort(),
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service', 'ServiceAccount'].map((k) => `${k}/edge-portico`));
    const args = deploymentOf(edge).template.spec.containers[0]!.args!;
    assert.ok(!args.some((a) => a.startsWith('--leader-elect')), args.join(' '));
    for (const a of ['--gateway-address=203.0.113.7', '--gateway-address-mode=loopback', '--access-log', '--health=0.0.0.0:9191', '--admin=127.0.0.1:9190']) assert.ok(args.includes(a), a);
    assertAdminPrivate(deploymentOf(edge), 'the chart with healthPort and adminPort set');
    for (const d of edge) {
      const out = await apply(client, d as Parameters<typeof apply>[1], true);
      assert.equal(out.kind, d.kind, `${d.kind}/${d.metadata.name}`);
    }
  });

  test('monitors (off by default): the ServiceMonitor and PodMonitors select the pods and name their health port', async () => {
    const monitors = (l: Doc[]) => l.filter((d) => d.apiVersion === 'monitoring.coreos.com/v1').map(id).sort();
    assert.deepEqual(monitors(chart), []);
    type Selector = { matchLabels: Record<string, string> };
    type Monitor = { selector: Selector; namespaceSelector: { matchNames?: string[]; any?: boolean }; endpoints?: { port: string; path: string }[]; podMetricsEndpoints?: { port: string; path: string }[] };
    const subset = (want: Record<string, string>, have: Record<string, string> | undefined, what: string) =>
      assert.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, have?.[k]])), want, what);
    const controllerPod = (l: Doc[]) => {
      const t = (l.find((d) => d.kind === 'Deployment')!.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
      return { labels: t.metadata.labels, ports: (t.spec.containers[0] as Container).ports!.map((p) => p.name) };
    };
    // A provisioned data plane's pod, as the controller makes it (src/provision).
    const gateway = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'app', uid: 'u1', generation: 1 }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', protocol: 'HTTP', port: 9091 }] } };
    const gatewayClass = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: DEFAULT_CONTROLLER_NAME } };
    const provisioned = provision({ gateway, gatewayClass, findParameters: () => undefined, settings: { image: 'portico:test', syncAddress: 'portico-sync.portico-system.svc:18000' } } as Parameters<typeof provision>[0]);
    assert.ok(provisioned.ok);
    const dpTemplate = (provisioned.objects.find((o) => o.kind === 'Deployment')!.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
    const dpPorts = (dpTemplate.spec.containers[0] as Container).ports!;
    assert.ok(dpPorts.some((p) => p.name === 'health' && p.containerPort !== 9091), 'a listener on 9091 moves the health port: monitors must name it');

    const release = ['--set', 'monitoring.labels.release=kps'];
    const both = renderChart('portico', [...release, '--set', 'monitoring.serviceMonitor.enabled=true', '--set', 'monitoring.podMonitor.enabled=true', '--set', 'dataplane.mode=provisioned']);
    // With the ServiceMonitor on, no controller PodMonitor: every series would be scraped twice.
    assert.deepEqual(monitors(both), [`PodMonitor/${NS}/portico-dataplanes`, `ServiceMonitor/${NS}/portico`]);
    const pod = controllerPod(both);
    const svc = both.find((d) => d.kind === 'Service' && d.metadata.name === 'portico-metrics') as Doc & { metadata: { labels: Record<string, string> }; spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } };
    subset(svc.spec.selector, pod.labels, 'the metrics Service selects the controller pods');
    assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.targetPort]), [['metrics', 'health']]);
    assert.ok(pod.ports.includes('health'));
    const sm = both.find((d) => d.kind === 'ServiceMonitor') as Doc & { metadata: { labels: Record<string, string> }; spec: Monitor };
    subset(sm.spec.selector.matchLabels, svc.metadata.labels, 'the ServiceMonitor selects the metrics Service');
    assert.ok(!both.some((d) => d.kind === 'Service' && d.metadata.name !== svc.metadata.name && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => (d.metadata as { labels?: Record<string, string> }).labels?.[k] === v)), 'and no other Service');
    assert.deepEqual([sm.metadata.labels.release, sm.spec.namespaceSelector, sm.spec.endpoints], ['kps', { matchNames: [NS] }, [{ port: 'metrics', path: '/metrics', interval: '30s' }]]);
    const dp = both.find((d) => d.metadata.name === 'portico-dataplanes') as Doc & { spec: Monitor };
    subset(dp.spec.selector.matchLabels, dpTemplate.metadata.labels, 'the data-plane PodMonitor selects provisioned data-plane pods');
    assert.notDeepEqual(Object.fromEntries(Object.keys(dp.spec.selector.matchLabels).map((k) => [k, pod.labels[k]])), dp.spec.selector.matchLabels, 'and not the controller pods');
    assert.deepEqual([dp.spec.namespaceSelector, dp.spec.podMetricsEndpoints], [{ any: true }, [{ port: 'health', path: '/metrics', interval: '30s' }]]);

    const pods = renderChart('portico', [...release, ...IN_PROCESS, '--set', 'monitoring.podMonitor.enabled=true']);
    assert.deepEqual(monitors(pods), [`PodMonitor/${NS}/portico`]);
    const pm = pods.find((d) => d.kind === 'PodMonitor') as Doc & { spec: Monitor };
    subset(pm.spec.selector.matchLabels, controllerPod(pods).labels, 'the controller PodMonitor selects the controller pods');
    assert.deepEqual(pm.spec.podMetricsEndpoints, [{ port: 'health', path: '/metrics', interval: '30s' }]);
    // What the API server knows without the Prometheus Operator's CRDs: the metrics Service.
    const out = await apply(client, svc as Parameters<typeof apply>[1], true);
    assert.equal(out.kind, 'Service');
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
    for (const kind of [Kind.GatewayClass, Kind.Gateway, ...ROUTE_KINDS, Kind.BackendTLSPolicy, Kind.Ingress]) {
      assert.ok(await allowed({ group: GROUP_OF[kind], resource: PLURAL[kind]!, subresource: 'status', verb: 'update', namespace: 'app' }), `update ${kind}/status`);
    }
    assert.ok(await allowed({ group: '', resource: 'events', verb: 'create', namespace: 'app' }), 'create events');
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
      { group: '', resource: 'events', verb: 'delete', namespace: 'app' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'default' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'delete', namespace: NS },
      { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate' },
    ];
    for (const a of denied) assert.equal(await allowed(a), false, `must be denied: ${JSON.stringify(a)}`);
  });

  // Provisioned data planes (deploy/manifests/portico.yaml, the chart's default dataplane.mode=provisioned).
  // These run last: they apply that variant's RBAC over the objects of the same names.
  test('provisioned: the manifests and the chart make the same objects, RBAC, Services and pod spec; every object passes a dry run', async () => {
    const chartP = renderChart('portico');
    assert.deepEqual(chartP.map(id).sort(), provisionedDocs.filter((d) => d.kind !== 'Namespace').map(id).sort());
    for (const m of provisionedDocs.filter((d) => d.kind !== 'Namespace')) {
      const c = chartP.find((d) => id(d) === id(m))!;
      const what = `${m.kind}/${m.metadata.name}`;
      if (m.kind.endsWith('Role')) assert.deepEqual(c.rules, m.rules, what);
      if (m.kind.endsWith('RoleBinding')) assert.deepEqual([c.roleRef, c.subjects], [m.roleRef, m.subjects], what);
      if (m.kind === 'Service') {
        const { selector: _m, ...ms } = m.spec as Record<string, unknown>;
        const { selector: _c, ...cs } = c.spec as Record<string, unknown>;
        assert.deepEqual(cs, ms, what);
      }
    }
    const [m, c] = [deploymentOf(provisionedDocs), deploymentOf(chartP)];
    const withoutArgs = (p: PodSpec) => ({ ...p, containers: p.containers.map(({ args: _, ...rest }) => rest) });
    assert.deepEqual(withoutArgs(c.template.spec), withoutArgs(m.template.spec));
    const defaults = [`--controller-name=${DEFAULT_CONTROLLER_NAME}`, '--leader-elect-name=portico-controller', '--leader-elect-lease-duration=15s',
      '--leader-elect-renew-deadline=10s', '--leader-elect-retry-period=2s', '--sync-listen=0.0.0.0:18000', `--sync-address=portico-sync.${NS}.svc:18000`];
    assert.deepEqual([...c.template.spec.containers[0]!.args!].sort(), [...m.template.spec.containers[0]!.args!, ...defaults].sort());
    const withDefaults = renderChart('portico', ['--set', 'dataplane.mode=provisioned', '--set-json', 'dataplane.defaults={"deployment":{"replicas":2},"service":{"type":"ClusterIP"}}']);
    assert.ok(withDefaults.some((d) => d.kind === 'ConfigMap' && d.metadata.name === 'portico-dataplane-defaults'), 'dataplane.defaults in a ConfigMap');
    assert.ok(deploymentOf(withDefaults).template.spec.containers[0]!.args!.includes('--dataplane-defaults=/etc/portico/dataplane-defaults.yaml'));
    for (const d of [...provisionedDocs, ...chartP, ...withDefaults]) {
      const out = await apply(client, d as Parameters<typeof apply>[1], true);
      assert.equal(out.kind, d.kind, `${d.kind}/${d.metadata.name}`);
    }
  });

  test('provisioned: the controller may create, update and delete the data-plane objects in any namespace, and read GatewayParameters', async () => {
    for (const d of provisionedDocs.filter((x) => ['ClusterRole', 'ClusterRoleBinding'].includes(x.kind))) await apply(client, d as Parameters<typeof apply>[1]);
    const kinds: [string, string][] = [['', 'serviceaccounts'], ['', 'services'], ['', 'secrets'], ['apps', 'deployments'], ['autoscaling', 'horizontalpodautoscalers'], ['policy', 'poddisruptionbudgets']];
    await waitFor('the provisioned ClusterRole in force', () => allowed({ group: 'apps', resource: 'deployments', verb: 'create', namespace: 'app' }));
    for (const [group, resource] of kinds)
      for (const verb of ['get', 'list', 'create', 'update', 'patch', 'delete']) assert.ok(await allowed({ group, resource, verb, namespace: 'app' }), `${verb} ${resource}`);
    for (const verb of ['get', 'list', 'watch']) assert.ok(await allowed({ group: 'gateway.portico.dev', resource: 'gatewayparameters', verb }), `${verb} gatewayparameters`);
    assert.ok(await allowed({ group: 'gateway.networking.k8s.io', resource: 'gateways', subresource: 'finalizers', verb: 'update', namespace: 'app' }));
  });

  test('provisioned: and nothing more', async () => {
    const denied = [
      { group: '', resource: 'pods', verb: 'list' },
      { group: '', resource: 'pods', verb: 'create', namespace: 'app' },
      { group: '', resource: 'configmaps', verb: 'create', namespace: 'app' },
      { group: '', resource: 'namespaces', verb: 'create' },
      { group: '', resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'app' },
      { group: 'apps', resource: 'deployments', verb: 'deletecollection', namespace: 'app' },
      { group: 'apps', resource: 'daemonsets', verb: 'create', namespace: 'app' },
      { group: 'gateway.networking.k8s.io', resource: 'gateways', verb: 'update', namespace: 'app' },
      { group: 'gateway.networking.k8s.io', resource: 'httproutes', verb: 'delete', namespace: 'app' },
      { group: 'gateway.portico.dev', resource: 'gatewayparameters', verb: 'update', namespace: 'app' },
      { group: 'rbac.authorization.k8s.io', resource: 'roles', verb: 'create', namespace: 'app' },
      { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', verb: 'create', namespace: 'app' },
      { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'default' },
    ];
    for (const a of denied) assert.equal(await allowed(a), false, `must be denied: ${JSON.stringify(a)}`);
  });
});
