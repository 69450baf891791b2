// Merged mode on the local cluster (GatewayParameters mergeGateways on the GatewayClass): the
// Gateways of one class, in different namespaces, share one data plane named for the class in
// the controller's namespace. Both are Programmed with the shared Service's LoadBalancer address,
// each serves its own routes through it, a newer Gateway repeating a hostname on the shared port
// is HostnameConflict (as with one shared data plane), and the shared objects go when no Gateway
// is left to serve.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/provisioned-merged.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apply, echoPod, getObj, remove, waitFor } from './helpers.js';
import { GW, isTrue, LONG, ref, served, startHarness, type Cond, type Harness, type ServiceObj } from './provisioned-harness.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/provisioned-merged.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');
const log = (l: string) => {
  if (process.env.PORTICO_TEST_VERBOSE) console.log(`# ${l}`);
};

type GatewayObj = { status?: { addresses?: { value: string }[]; conditions?: Cond[]; listeners?: { name: string; conditions: Cond[] }[] } };

describe('merged mode: the Gateways of a class share one provisioned data plane', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset', timeout: 240_000 }, () => {
  let h: Harness;
  const ns = { a: '', b: '' };
  const gateway = (namespace: string, name: string, port = 80) => ({
    ...ref(GW, 'Gateway', name, namespace),
    spec: { gatewayClassName: h.className, listeners: [{ name: 'http', port, protocol: 'HTTP', hostname: `${namespace}.example` }] },
  });
  const route = (namespace: string, gw: string) => ({
    ...ref(GW, 'HTTPRoute', gw, namespace),
    spec: { parentRefs: [{ name: gw }], rules: [{ backendRefs: [{ name: 'echo', port: 8080 }] }] },
  });
  const sharedService = () => getObj<ServiceObj & { metadata: { ownerReferences?: { kind: string; name: string }[] } }>(h.client, ref('v1', 'Service', h.className, h.ctlNamespace));

  before(async () => {
    if (!KUBECONFIG) return;
    h = await startHarness(KUBECONFIG, 'portico-mrg', log);
    ns.a = `portico-mrg-a-${h.run}`;
    ns.b = `portico-mrg-b-${h.run}`;
    const c = h.client;
    await apply(c, { ...ref('gateway.portico.dev/v1alpha1', 'GatewayParameters', 'merged', h.ctlNamespace), spec: { mergeGateways: true } });
    await apply(c, {
      ...ref(GW, 'GatewayClass', h.className),
      spec: { controllerName: `portico.dev/${h.className}`, parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'merged', namespace: h.ctlNamespace } },
    });
    for (const n of [ns.a, ns.b]) {
      await apply(c, ref('v1', 'Namespace', n));
      await apply(c, echoPod('echo', n, { app: 'echo' }));
      await apply(c, { ...ref('v1', 'Service', 'echo', n), spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 3000 }] } });
      await apply(c, gateway(n, 'web'));
      await apply(c, route(n, 'web'));
    }
    // Another port on b's side: the shared Service carries the union.
    await apply(c, gateway(ns.b, 'alt', 8081));
    await apply(c, route(ns.b, 'alt'));
    await h.startController();
  });

  after(async () => {
    if (!KUBECONFIG) return;
    await h?.close([ns.a, ns.b]);
  });

  test('one Service and Deployment in the controller namespace, owned by the GatewayClass, with the union of the ports; none per Gateway', async () => {
    const svc = await waitFor('the shared Service with both ports', async () => {
      const s = await sharedService();
      return s && s.spec.ports.length === 2 ? s : undefined;
    }, LONG);
    assert.deepEqual(svc.spec.ports.map((p) => `${p.port}/${p.protocol}`), ['80/TCP', '8081/TCP']);
    assert.deepEqual(svc.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), [`GatewayClass/${h.className}`]);
    assert.ok(await getObj(h.client, ref('apps/v1', 'Deployment', h.className, h.ctlNamespace)), 'the shared Deployment');
    for (const n of [ns.a, ns.b]) assert.equal(await getObj(h.client, ref('v1', 'Service', h.nameOf('web'), n)), undefined, `no per-Gateway Service in ${n}`);
  });

  test('each Gateway is Programmed with the shared address and serves only its own routes through it', async () => {
    const { lb } = await waitFor('the shared Service load-balancer address', async () => {
      const s = await sharedService();
      const ip = s?.status?.loadBalancer?.ingress?.[0]?.ip;
      return ip ? { lb: ip } : undefined;
    }, LONG);
    for (const n of [ns.a, ns.b]) {
      // Programmed can be written before the Service's load-balancer status reaches the controller
      // (its own watch event, a rebuild later): until then the Gateway reports the ClusterIP.
      const g = await waitFor(`Gateway ${n}/web Programmed with the shared address ${lb}`, async () => {
        const x = await getObj<GatewayObj>(h.client, ref(GW, 'Gateway', 'web', n));
        return isTrue(x?.status?.conditions, 'Programmed') && x?.status?.addresses?.some((a) => a.value === lb) ? x : undefined;
      }, LONG);
      assert.deepEqual(g!.status!.addresses!.map((a) => a.value), [lb]);
      const echo = await served(lb, 80, `${n}.example`);
      assert.equal(echo.namespace, n, `Host ${n}.example is ${n}'s route`);
    }
    assert.equal((await served(lb, 8081, `${ns.b}.example`)).namespace, ns.b);
  });

  test("a newer Gateway repeating a hostname on the shared port is HostnameConflict; the older keeps serving", async () => {
    // In namespace b, a listener for a's hostname: conflicts with a/web on the shared data plane.
    await apply(h.client, {
      ...ref(GW, 'Gateway', 'copycat', ns.b),
      spec: { gatewayClassName: h.className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: `${ns.a}.example` }] },
    });
    const l = await waitFor('copycat listener Conflicted', async () => {
      const x = await getObj<GatewayObj>(h.client, ref(GW, 'Gateway', 'copycat', ns.b));
      const conds = x?.status?.listeners?.find((y) => y.name === 'http')?.conditions;
      return conds?.find((c) => c.type === 'Conflicted' && c.status === 'True');
    }, LONG);
    assert.equal(l.reason, 'HostnameConflict');
    const { lb } = { lb: (await sharedService())!.status!.loadBalancer!.ingress![0]!.ip! };
    assert.equal((await served(lb, 80, `${ns.a}.example`)).namespace, ns.a);
    await remove(h.client, ref(GW, 'Gateway', 'copycat', ns.b));
  });

  test('with no Gateway left to serve, the shared objects are deleted', async () => {
    for (const [n, g] of [[ns.a, 'web'], [ns.b, 'web'], [ns.b, 'alt']] as const) await remove(h.client, ref(GW, 'Gateway', g, n));
    await waitFor('the shared Service and Deployment deleted', async () => {
      const svc = await sharedService();
      const dep = await getObj(h.client, ref('apps/v1', 'Deployment', h.className, h.ctlNamespace));
      return !svc && !dep ? true : undefined;
    }, LONG);
  });
});
