// `portico controller --dataplane provisioned` against the real local API server (hack/cluster.sh):
// each Gateway gets its own ServiceAccount, `-sync` Secret, Service and Deployment; the
// Deployment's pod runs `portico dataplane` as a real process (hack/podrunner.mjs) behind its pod
// IP and takes its config from the controller's config stream. Requests go to the pod IPs
// (the cluster may have no kube-proxy). kube-controller-manager's garbage collector removes a
// deleted Gateway's objects.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/provisioned.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunningController } from '../../src/controller/index.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import { resourceName, statusAddresses } from '../../src/provision/index.js';
import { apply, getObj, HOST_SIDE, httpGet, installGatewayApiCrds, isTrue, kubeConfigFrom, remove, ROOT, waitFor } from './helpers.js';
import { ensureDataPlaneRunner, type LocalPodRunner } from './podrunner.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/provisioned.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

const GW = 'gateway.networking.k8s.io/v1';
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const CLASS = `portico-prov-${RUN}`;
const CONTROLLER = `portico.dev/provisioned-test-${RUN}`;
const NS = { ctl: `portico-prov-ctl-${RUN}`, a: `portico-prov-a-${RUN}`, b: `portico-prov-b-${RUN}` };
const LONG = 90_000;

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string; ownerReferences?: { uid: string; kind: string }[]; labels?: Record<string, string> }; [k: string]: unknown };
type Cond = { type: string; status: string; reason: string; message?: string };
type GatewayObj = Obj & { status?: { addresses?: { type: string; value: string }[]; conditions?: Cond[] } };
const ref = (apiVersion: string, kind: string, name: string, namespace?: string) => ({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name } });
const log = (l: string) => {
  if (process.env.PORTICO_TEST_VERBOSE) console.log(`# ${l}`);
};

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** An echo-basic pod (podrunner runs it) behind a Service `echo`:8080 in `ns`. */
function echo(ns: string): Obj[] {
  return [
    {
      ...ref('v1', 'Pod', 'echo', ns),
      metadata: { name: 'echo', namespace: ns, labels: { app: 'echo' } },
      spec: {
        containers: [
          {
            name: 'echo',
            image: 'gcr.io/k8s-staging-gateway-api/echo-basic:v1',
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
            ports: [{ containerPort: 3000 }],
          },
        ],
      },
    },
    { ...ref('v1', 'Service', 'echo', ns), spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 3000 }] } },
  ];
}

function gateway(ns: string, name: string, infrastructure?: Record<string, unknown>, addresses?: string[]): Obj {
  return {
    ...ref(GW, 'Gateway', name, ns),
    spec: {
      gatewayClassName: CLASS,
      ...(infrastructure ? { infrastructure } : {}),
      ...(addresses ? { addresses: addresses.map((value) => ({ type: 'IPAddress', value })) } : {}),
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    },
  };
}
const SMALL = { parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'small' } };

function route(ns: string, gw: string, host: string, prefix = '/'): Obj {
  return {
    ...ref(GW, 'HTTPRoute', `${gw}-${prefix === '/' ? 'root' : prefix.slice(1)}`, ns),
    spec: { parentRefs: [{ name: gw }], hostnames: [host], rules: [{ matches: [{ path: { type: 'PathPrefix', value: prefix } }], backendRefs: [{ name: 'echo', port: 8080 }] }] },
  };
}

describe('portico controller --dataplane provisioned against a real API server', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset', timeout: 240_000 }, () => {
  let client: ApiClient;
  let translate: TranslateFn;
  let controller: RunningController | undefined;
  let runner: LocalPodRunner | undefined;
  let syncPort = 0;
  const podIP: Record<string, string> = {};

  let keyAtFirstBuild = false;
  async function startController(lines?: string[]): Promise<RunningController> {
    const c = await runController({
      kubeConfig: kubeConfigFrom(KUBECONFIG!),
      dataplane: 'provisioned',
      provisioned: {
        namespace: NS.ctl,
        syncListen: `${HOST_SIDE}:${syncPort}`,
        settings: { image: 'ghcr.io/portico-dev/portico:test', syncAddress: `${HOST_SIDE}:${syncPort}` },
      },
      translate,
      controllerName: CONTROLLER,
      debounceMs: 50,
      backoffMaxMs: 1000,
      rediscoverMs: 5000,
      log: (l) => {
        lines?.push(l);
        log(l);
      },
    });
    await c.started;
    return c;
  }

  const gatewayNow = (ns: string, name: string) => getObj<GatewayObj>(client, ref(GW, 'Gateway', name, ns));
  const objects = (ns: string, name: string) => [
    ref('v1', 'ServiceAccount', name, ns),
    ref('v1', 'Secret', `${name}-sync`, ns),
    ref('v1', 'Service', name, ns),
    ref('apps/v1', 'Deployment', name, ns),
  ];

  /** The running data-plane pod of a provisioned name: its IP once /readyz answers 200. */
  async function readyPod(ns: string, name: string): Promise<string> {
    const ip = await waitFor(`a data-plane pod of ${ns}/${name} with an IP`, async () => {
      const list = await client.json<{ items: { metadata: { deletionTimestamp?: string }; status?: { podIP?: string } }[] }>('GET', `/api/v1/namespaces/${ns}/pods`, {
        query: { labelSelector: `app.kubernetes.io/instance=${name}` },
      });
      return list.items.find((p) => p.status?.podIP && !p.metadata.deletionTimestamp)?.status?.podIP;
    }, LONG);
    await waitFor(`${ns}/${name}'s data plane ready at ${ip}:9091/readyz`, async () => (await httpGet(ip, 9091, '/readyz')).status === 200 || undefined, LONG);
    return ip;
  }

  const served = async (ip: string, host: string, p = '/') => {
    const r = await httpGet(ip, 80, p, { host });
    return { status: r.status, namespace: r.status === 200 ? (JSON.parse(r.body) as { namespace?: string }).namespace : undefined };
  };

  before(async () => {
    if (!KUBECONFIG) return;
    client = new ApiClient(kubeConfigFrom(KUBECONFIG));
    ({ translate } = await loadPipeline());
    await installGatewayApiCrds(client);
    const crd = parse(fs.readFileSync(path.join(ROOT, 'deploy/manifests/crd-gatewayparameters.yaml'), 'utf8')) as Obj;
    await apply(client, crd);
    await waitFor('GatewayParameters CRD Established', async () => {
      const c = await getObj<{ status?: { conditions?: Cond[] } }>(client, crd);
      return isTrue(c?.status?.conditions, 'Established') || undefined;
    });
    for (const ns of Object.values(NS)) await apply(client, ref('v1', 'Namespace', ns));
    for (const ns of [NS.a, NS.b]) for (const o of echo(ns)) await apply(client, o);
    await apply(client, { ...ref(GW, 'GatewayClass', CLASS), spec: { controllerName: CONTROLLER } });
    runner = ensureDataPlaneRunner(KUBECONFIG, `gateway.networking.k8s.io/gateway-class-name=${CLASS}`, log);
    syncPort = await freePort(HOST_SIDE);
    controller = await startController();
    // A fresh controller namespace: the key was made before the first build, which then had its session seed.
    keyAtFirstBuild = controller.provisioned!.keys.master() !== undefined;
  });

  after(async () => {
    if (!KUBECONFIG) return;
    await controller?.stop();
    for (const ns of Object.values(NS)) await remove(client, ref('v1', 'Namespace', ns)).catch(() => undefined);
    await remove(client, ref(GW, 'GatewayClass', CLASS)).catch(() => undefined);
    await runner?.stop();
  });

  test('a Gateway gets its ServiceAccount, -sync Secret, Service and Deployment, owned by it; the master key Secret is created', async () => {
    // Gateway a takes a ClusterIP Service from its own GatewayParameters.
    await apply(client, { ...ref('gateway.portico.dev/v1alpha1', 'GatewayParameters', 'small', NS.a), spec: { service: { type: 'ClusterIP' } } });
    await apply(client, gateway(NS.a, 'gw-a', SMALL));
    await apply(client, route(NS.a, 'gw-a', 'a.example.com'));
    const uid = (await gatewayNow(NS.a, 'gw-a'))!.metadata.uid!;
    const name = resourceName('gw-a', CLASS);
    for (const o of objects(NS.a, name)) {
      const got = await waitFor(`${o.kind} ${NS.a}/${o.metadata.name}`, () => getObj<Obj>(client, o), LONG);
      assert.deepEqual(got.metadata.ownerReferences?.map((r) => [r.kind, r.uid]), [['Gateway', uid]], `${o.kind} is owned by the Gateway`);
    }
    const secret = (await getObj<{ data: Record<string, string> }>(client, ref('v1', 'Secret', `${name}-sync`, NS.a)))!;
    assert.match(Buffer.from(secret.data.psk!, 'base64').toString(), /^[0-9a-f]{64}$/);
    assert.ok(await getObj(client, ref('v1', 'Secret', 'portico-sync-master', NS.ctl)), 'master key Secret in the controller namespace');
    assert.ok(keyAtFirstBuild, 'the master key was in the informer cache when the first build finished');
    const svc = (await getObj<{ spec: { type: string } }>(client, ref('v1', 'Service', name, NS.a)))!;
    assert.equal(svc.spec.type, 'ClusterIP', 'GatewayParameters applied');
  });

  test('the data-plane pod becomes ready and serves the route at its pod IP', async () => {
    podIP.a = await readyPod(NS.a, resourceName('gw-a', CLASS));
    const r = await waitFor('gw-a serving a.example.com', async () => {
      const x = await served(podIP.a!, 'a.example.com');
      return x.status === 200 ? x : undefined;
    }, LONG);
    assert.equal(r.namespace, NS.a);
  });

  test('two Gateways on port 80 in different namespaces are both Programmed, each serving only its own routes', async () => {
    await apply(client, gateway(NS.b, 'gw-b'));
    await apply(client, route(NS.b, 'gw-b', 'b.example.com'));
    podIP.b = await readyPod(NS.b, resourceName('gw-b', CLASS));
    await waitFor('gw-b serving b.example.com', async () => (await served(podIP.b!, 'b.example.com')).status === 200 || undefined, LONG);
    for (const [ns, gw] of [[NS.a, 'gw-a'], [NS.b, 'gw-b']] as const) {
      // status.addresses from the provisioned Service (polled together: a load-balancer allocator may assign an ingress IP meanwhile)
      const g = await waitFor(`${ns}/${gw} Programmed, status.addresses from its Service`, async () => {
        const x = await gatewayNow(ns, gw);
        const svc = await getObj<Parameters<typeof statusAddresses>[0]>(client, ref('v1', 'Service', resourceName(gw, CLASS), ns));
        const want = svc ? statusAddresses(svc).addresses : [];
        return isTrue(x?.status?.conditions, 'Programmed') && want.length > 0 && isDeepStrictEqual(x?.status?.addresses, want) ? x : undefined;
      }, LONG);
      assert.ok(isTrue(g.status?.conditions, 'Accepted'));
    }
    assert.notEqual(podIP.a, podIP.b);
    assert.deepEqual(await served(podIP.a!, 'a.example.com'), { status: 200, namespace: NS.a });
    assert.deepEqual(await served(podIP.b!, 'b.example.com'), { status: 200, namespace: NS.b });
    assert.equal((await served(podIP.a!, 'b.example.com')).status, 404, "gw-a does not serve gw-b's route");
    assert.equal((await served(podIP.b!, 'a.example.com')).status, 404, "gw-b does not serve gw-a's route");
  });

  test('the data-plane ServiceAccount can get, list or watch no Secret (SubjectAccessReview)', async () => {
    const sa = resourceName('gw-a', CLASS);
    for (const verb of ['get', 'list', 'watch']) {
      for (const namespace of [NS.a, NS.ctl, '']) {
        const review = await client.json<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: `system:serviceaccount:${NS.a}:${sa}`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${NS.a}`, 'system:authenticated'],
              resourceAttributes: { verb, resource: 'secrets', ...(namespace ? { namespace } : {}) },
            },
          },
        });
        assert.equal(review.status.allowed, false, `${verb} secrets in ${namespace || 'all namespaces'}`);
      }
    }
  });

  test('a provisioned Service or -sync Secret deleted by someone else is created again', async () => {
    const name = resourceName('gw-a', CLASS);
    for (const o of [ref('v1', 'Secret', `${name}-sync`, NS.a), ref('v1', 'Service', name, NS.a)]) {
      const before = (await getObj<Obj>(client, o))!.metadata.uid;
      await remove(client, o);
      await waitFor(`${o.kind} ${o.metadata.name} created again`, async () => {
        const now = await getObj<Obj>(client, o);
        return now && now.metadata.uid !== before ? now : undefined;
      }, LONG);
    }
    assert.deepEqual(await served(podIP.a!, 'a.example.com'), { status: 200, namespace: NS.a }, 'traffic unaffected');
  });

  test('a PodDisruptionBudget turned on in GatewayParameters is created, and deleted when turned off', async () => {
    const pdb = ref('policy/v1', 'PodDisruptionBudget', resourceName('gw-a', CLASS), NS.a);
    const params = (enabled: boolean) => ({ ...ref('gateway.portico.dev/v1alpha1', 'GatewayParameters', 'small', NS.a), spec: { service: { type: 'ClusterIP' }, podDisruptionBudget: { enabled } } });
    await apply(client, params(true));
    await waitFor('the PDB', () => getObj(client, pdb), LONG);
    await apply(client, params(false));
    await waitFor('the PDB deleted', async () => !(await getObj(client, pdb)) || undefined, LONG);
  });

  test('a static address on the ClusterIP Service: changing it recreates the Service, status.addresses follows', async () => {
    // two addresses of the cluster's Service range (hack/cluster.sh: 10.96.0.0/16) from its lowest
    // 256, which the API server leaves to static assignment while the rest has room; different per run
    const cidr = (await client.json<{ spec: { cidrs: string[] } }>('GET', '/apis/networking.k8s.io/v1/servicecidrs/kubernetes')).spec.cidrs[0]!;
    const low = cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
    const n = [...RUN].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    const a = 10 + (n % 240);
    const [first, second] = [`${low}.${a}`, `${low}.${10 + ((a - 10 + 1 + ((n >>> 8) % 239)) % 240)}`];
    for (const ip of [first, second]) {
      await apply(client, gateway(NS.a, 'gw-a', SMALL, [ip]));
      await waitFor(`gw-a Programmed at ${ip}`, async () => {
        const g = await gatewayNow(NS.a, 'gw-a');
        return isTrue(g?.status?.conditions, 'Programmed') && isDeepStrictEqual(g?.status?.addresses, [{ type: 'IPAddress', value: ip }]) || undefined;
      }, LONG);
    }
    assert.deepEqual(await served(podIP.a!, 'a.example.com'), { status: 200, namespace: NS.a });
  });

  test('autoscaling turned on: the HPA is created and the Deployment keeps its replicas (handed over, not reset to 1)', async () => {
    const params = (autoscaling: boolean) => ({
      ...ref('gateway.portico.dev/v1alpha1', 'GatewayParameters', 'scaled', NS.b),
      spec: { deployment: { replicas: 2 }, ...(autoscaling ? { autoscaling: { enabled: true, maxReplicas: 3 } } : {}) },
    });
    const name = resourceName('gw-c', CLASS);
    const deployment = () => getObj<{ spec: { replicas?: number }; metadata: { managedFields?: { manager: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[] } }>(client, ref('apps/v1', 'Deployment', name, NS.b));
    await apply(client, params(false));
    await apply(client, gateway(NS.b, 'gw-c', { parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'scaled' } }));
    await waitFor('gw-c with 2 replicas', async () => (await deployment())?.spec.replicas === 2 || undefined, LONG);
    await apply(client, params(true));
    // the HPA is applied after the Deployment: once it exists, the Deployment apply without replicas is done
    await waitFor('the HPA', () => getObj(client, ref('autoscaling/v2', 'HorizontalPodAutoscaler', name, NS.b)), LONG);
    for (let i = 0; i < 3; i++) {
      assert.equal((await deployment())?.spec.replicas, 2, 'not reset to 1');
      await new Promise((r) => setTimeout(r, 500));
    }
    const owners = (await deployment())?.metadata.managedFields?.filter((m) => m.fieldsV1?.['f:spec']?.['f:replicas']).map((m) => m.manager);
    // the hand-over manager's until the HPA writes them (it cannot here: no metrics); never ours again
    assert.ok(owners?.length && !owners.includes('portico-provisioner'), `replicas owned by ${owners?.join(', ')}`);
    await remove(client, ref(GW, 'Gateway', 'gw-c', NS.b));
  });

  test("deleting a Gateway removes its objects (owner references, the cluster's garbage collector)", async () => {
    const name = resourceName('gw-b', CLASS);
    await remove(client, ref(GW, 'Gateway', 'gw-b', NS.b));
    for (const o of objects(NS.b, name)) await waitFor(`${o.kind} ${NS.b}/${o.metadata.name} deleted`, async () => !(await getObj(client, o)) || undefined, LONG);
    await waitFor(`gw-b's data plane gone from ${podIP.b}`, async () => {
      try {
        await httpGet(podIP.b!, 9091, '/healthz');
        return undefined;
      } catch {
        return true;
      }
    }, LONG);
    assert.deepEqual(await served(podIP.a!, 'a.example.com'), { status: 200, namespace: NS.a }, 'gw-a unaffected');
  });

  test('stopping the controller leaves traffic flowing; a new controller picks up a change', async () => {
    await controller!.stop();
    controller = undefined;
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await served(podIP.a!, 'a.example.com'), { status: 200, namespace: NS.a }, `request ${i} with the controller gone`);
      await new Promise((r) => setTimeout(r, 400));
    }
    assert.equal((await httpGet(podIP.a!, 9091, '/readyz')).status, 200, 'still ready: it serves a good config');
    const lines: string[] = [];
    controller = await startController(lines);
    // The Gateways were provisioned before the routes were listed, and the first whole build found
    // nothing more to apply: the early plan made the same objects.
    await controller.provisioned!.provisioner.idle();
    const early = lines.findIndex((l) => /^provisioning \d+ data plane\(s\) before the routes are listed/.test(l));
    const built = lines.findIndex((l) => l.startsWith('rebuilt from'));
    assert.ok(early >= 0 && early < built, lines.join('\n'));
    const applied = lines.filter((l) => l.startsWith('provisioned Gateway'));
    assert.ok(applied.some((l) => l.startsWith(`provisioned Gateway ${NS.a}/gw-a:`)), lines.join('\n'));
    assert.equal(new Set(applied.map((l) => l.split(':')[0])).size, applied.length, `each Gateway applied once:\n${applied.join('\n')}`);
    await apply(client, { ...route(NS.a, 'gw-a', 'new.example.com', '/new') });
    await waitFor('the new controller\'s route served', async () => (await served(podIP.a!, 'new.example.com', '/new')).status === 200 || undefined, LONG);
  });
});
