// Served Ingresses with provisioned data planes on the local cluster (issue 14): `portico
// controller --dataplane provisioned`, no --ingress-gateway. The Gateway generated for the
// IngressClass gets a data plane of its own in the Ingress's namespace, owned by the
// IngressClass; the Ingress host answers on that data plane's LoadBalancer address, which is
// the Ingress's status.loadBalancer; deleting the Ingress sweeps the data plane, and deleting
// the IngressClass has the garbage collector remove it.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/ingress-provisioned.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apply, echoPod, getObj, remove, waitFor } from './helpers.js';
import { LONG, ref, served, startHarness, type Harness, type Obj, type ServiceObj } from './provisioned-harness.js';
import { ingressResourceName, resourceName } from '../../src/provision/index.js';
import { GENERATED_PREFIX } from '../../src/convert/serve.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/ingress-provisioned.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');
const log = (l: string) => {
  if (process.env.PORTICO_TEST_VERBOSE) console.log(`# ${l}`);
};
const NET = 'networking.k8s.io/v1';
type Owned = ServiceObj & { metadata: { name: string; ownerReferences?: { kind: string; name: string; uid: string }[] } };
type IngressObj = { status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } };

describe('served Ingresses get a provisioned data plane owned by their IngressClass', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset', timeout: 300_000 }, () => {
  let h: Harness;
  let ns = '';
  let ingressController = '';
  // The IngressClass has the GatewayClass's (per-run) name; the generated Gateway and GatewayClass are portico-ingress-<it>,
  // and so is its data plane (the name once, not <gateway>-<gatewayClass>).
  const generated = () => GENERATED_PREFIX + h.className;
  const dataPlaneName = () => ingressResourceName(generated());
  const dataPlaneService = () => getObj<Owned>(h.client, ref('v1', 'Service', dataPlaneName(), ns));
  const oldName = () => resourceName(generated(), generated());
  const ingress = () => ({
    ...ref(NET, 'Ingress', 'shop', ns),
    spec: {
      ingressClassName: h.className,
      rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 8080 } } } }] } }],
    },
  });

  before(async () => {
    if (!KUBECONFIG) return;
    h = await startHarness(KUBECONFIG, 'portico-ingp', log, { runnerSelector: (className) => `gateway.networking.k8s.io/gateway-class-name=${GENERATED_PREFIX}${className}` });
    ns = `portico-ingp-${h.run}`;
    ingressController = `portico.dev/ingp-${h.run}`;
    const c = h.client;
    await apply(c, ref('v1', 'Namespace', ns));
    await apply(c, echoPod('echo', ns, { app: 'echo' }));
    await apply(c, { ...ref('v1', 'Service', 'echo', ns), spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 3000 }] } });
    const cls = await apply(c, { ...ref(NET, 'IngressClass', h.className), spec: { controller: ingressController } });
    // What an earlier version provisioned for this class (<gateway>-<gatewayClass>, the name said twice): left behind by an upgrade.
    await apply(c, {
      ...ref('v1', 'ServiceAccount', oldName(), ns),
      metadata: {
        name: oldName(),
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'portico', 'app.kubernetes.io/component': 'dataplane', 'gateway.networking.k8s.io/gateway-class-name': generated() },
        ownerReferences: [{ apiVersion: NET, kind: 'IngressClass', name: h.className, uid: cls.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
    } as Obj);
    await apply(c, ingress());
    await h.startController({ ingress: { ingressController } });
  });

  after(async () => {
    if (!h) return;
    await remove(h.client, ref(NET, 'IngressClass', h.className)).catch(() => undefined);
    await h.close([ns]);
  });

  test('the Ingress host answers on the data plane LoadBalancer address, which is its status.loadBalancer; deleting the Ingress, then the IngressClass, removes the data plane', async () => {
    const c = h.client;
    const svc = await waitFor('the generated Gateway data plane Service with a LoadBalancer address', async () => {
      const s = await dataPlaneService();
      return s?.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
    }, LONG);
    assert.equal(svc.metadata.name, generated(), 'named after the generated Gateway once');
    assert.ok(svc.metadata.name.length <= 63);
    await waitFor(`the ServiceAccount ${oldName()} of the old naming swept`, async () => ((await getObj(c, ref('v1', 'ServiceAccount', oldName(), ns))) ? undefined : true), LONG);
    const ingressClass = await getObj<{ metadata: { uid: string } }>(c, ref(NET, 'IngressClass', h.className));
    assert.deepEqual(
      svc.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [['IngressClass', h.className, ingressClass!.metadata.uid]],
    );
    const lb = svc.status!.loadBalancer!.ingress![0]!.ip!;
    const answer = await served(lb, 80, 'shop.example');
    assert.equal(answer.namespace, ns, 'the echo backend of the Ingress answered');
    const status = await waitFor(`Ingress status.loadBalancer ${lb}`, async () => {
      const i = await getObj<IngressObj>(c, ref(NET, 'Ingress', 'shop', ns));
      return i?.status?.loadBalancer?.ingress?.[0]?.ip === lb ? i.status.loadBalancer.ingress : undefined;
    }, LONG);
    assert.deepEqual(status, [{ ip: lb }]);

    // No Ingress of the class left: no generated Gateway, and the provisioner sweeps its data plane.
    await remove(c, ref(NET, 'Ingress', 'shop', ns));
    await waitFor('data plane swept after the Ingress was deleted', async () => ((await dataPlaneService()) ? undefined : true), LONG);

    // Served again, then the IngressClass goes: the garbage collector removes what it owned.
    await apply(c, ingress());
    await waitFor('data plane provisioned again', async () => (await dataPlaneService()) ?? undefined, LONG);
    await h.stopController(); // only the owner reference can remove it now
    await remove(c, ref(NET, 'IngressClass', h.className));
    await waitFor('data plane garbage-collected with its IngressClass', async () => ((await dataPlaneService()) ? undefined : true), LONG);
  });
});
