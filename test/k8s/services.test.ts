// The local cluster's Service routing, with real parts (issue 11): kube-proxy (nftables mode)
// DNATs ClusterIPs and LoadBalancer addresses to pod IPs, hack/lb-allocator.mjs hands out the
// LoadBalancer addresses, and hack/podrunner.mjs runs the conformance echo server behind the
// pods. Requests go from this machine (and from the pods' network namespace) to the Service
// addresses, over TCP and UDP, and must reach the pod.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/services.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { apply, echoPod, getObj, httpGet, inCidr, kubeConfigFrom, lbRange, remove, udpExchange, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/services.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-svc-${RUN}`;
const POD = 'echo';
const LABELS = { app: `echo-${RUN}` };
const UDP_PORT = 5353;
const NETNS = 'portico-pods';

interface Service {
  metadata: { name: string; namespace: string; uid: string };
  spec: { type?: string; clusterIP?: string; loadBalancerIP?: string; ports: { name?: string; port: number; protocol?: string }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } };
}

function service(name: string, type: 'ClusterIP' | 'LoadBalancer', extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: {
      type,
      selector: LABELS,
      ports: [
        { name: 'http', port: 80, targetPort: 3000, protocol: 'TCP' },
        { name: 'dns', port: 53, targetPort: UDP_PORT, protocol: 'UDP' },
      ],
      ...extra,
    },
  };
}

const svcRef = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS } });

/** The echo server's answer, parsed; fails unless it came from our pod. */
function fromOurPod(body: string): { path: string; pod: string; namespace: string; host?: string } {
  const echo = JSON.parse(body) as { path: string; pod: string; namespace: string; host?: string };
  assert.equal(echo.pod, POD, body);
  assert.equal(echo.namespace, NS, body);
  return echo;
}

/** GET http://ip:port/path until the echo pod answers (kube-proxy applies a change within about a second). */
async function reachPod(ip: string, port: number, what: string) {
  const path = `/${what}-${RUN}`;
  const res = await waitFor(`${what}: GET http://${ip}:${port}${path} answered by the pod`, async () => {
    const r = await httpGet(ip, port, path);
    return r.status === 200 ? r : undefined;
  }, 20000);
  const echo = fromOurPod(res.body);
  assert.equal(echo.path, path);
  return echo;
}

async function udpReachPod(ip: string, port: number, what: string) {
  const payload = `${what}-${RUN}`;
  const answer = await waitFor(`${what}: UDP ${ip}:${port} echoed by the pod`, () => udpExchange(ip, port, payload, 1000), 20000);
  const echo = JSON.parse(answer) as { request: string; pod: string };
  assert.equal(echo.request, payload, answer);
  assert.equal(echo.pod, POD, answer);
}

/** Whether the pods' network namespace exists here (hack/cluster.sh creates it). */
function haveNetns(): boolean {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.split(' ')[0] === NETNS);
  } catch {
    return false;
  }
}

/** An HTTP GET from inside the pods' network namespace, as a pod would make it. */
function curlFromPods(url: string): string {
  return execFileSync('ip', ['netns', 'exec', NETNS, 'curl', '-sf', '--max-time', '2', url], { encoding: 'utf8' });
}

async function lbAddress(name: string, timeoutMs = 20000): Promise<string> {
  const svc = await waitFor(`Service ${name} to get a LoadBalancer address`, async () => {
    const s = await getObj<Service>(client, svcRef(name));
    return s?.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
  }, timeoutMs);
  const ingress = svc.status!.loadBalancer!.ingress!;
  assert.equal(ingress.length, 1, JSON.stringify(ingress));
  assert.equal(ingress[0]!.ipMode, 'VIP');
  return ingress[0]!.ip!;
}

async function deleteAndWait(name: string) {
  await remove(client, svcRef(name));
  await waitFor(`Service ${name} gone`, async () => ((await getObj(client, svcRef(name))) ? undefined : true));
}

/** Nothing answers on ip:port any more (no rule left: the packet is dropped or refused). */
async function unreachable(ip: string, port: number, what: string) {
  await waitFor(`${what}: http://${ip}:${port} no longer answered`, async () => {
    try {
      await Promise.race([
        httpGet(ip, port, '/gone'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000)),
      ]);
      return undefined;
    } catch {
      return true;
    }
  }, 15000);
}

let client: ApiClient;

describe('local cluster: Services route through kube-proxy, LoadBalancers get addresses', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let podIp = '';
  const range = lbRange();

  before(async () => {
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await apply(client, echoPod(POD, NS, LABELS, UDP_PORT));
    podIp = await waitFor('echo pod IP', async () => (await getObj<{ status?: { podIP?: string } }>(client, { apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS } }))?.status?.podIP, 60000);
    // The pod itself answers before any Service is involved.
    await reachPod(podIp, 3000, 'direct');
  });

  after(async () => {
    if (client) await remove(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => {});
  });

  test('ClusterIP: TCP and UDP from this machine reach the pod, and TCP from the pods namespace', async () => {
    const svc = await apply(client, service('cluster', 'ClusterIP'));
    const ip = (svc as unknown as Service).spec.clusterIP!;
    assert.ok(ip && !ip.startsWith('127.'), `ClusterIP ${ip}: a loopback Service range cannot be routed (the cluster predates kube-proxy: hack/cluster.sh down && up)`);
    await reachPod(ip, 80, 'clusterip');
    await udpReachPod(ip, 53, 'clusterip-udp');
    if (haveNetns()) {
      const body = await waitFor('GET through the ClusterIP from the pods namespace', () => curlFromPods(`http://${ip}/from-pods`));
      assert.equal(fromOurPod(body).path, '/from-pods');
    } else {
      console.log(`# no network namespace ${NETNS} here: pod -> ClusterIP not checked`);
    }
    await deleteAndWait('cluster');
    await unreachable(ip, 80, 'deleted ClusterIP');
  });

  test('LoadBalancer: an address from the local range, TCP and UDP reach the pod there', async () => {
    await apply(client, service('lb', 'LoadBalancer'));
    const ip = await lbAddress('lb');
    assert.ok(inCidr(ip, range), `${ip} is not in ${range}`);
    const echo = await reachPod(ip, 80, 'loadbalancer');
    assert.equal(echo.host, ip);
    await udpReachPod(ip, 53, 'loadbalancer-udp');
    if (haveNetns()) {
      const body = await waitFor('GET through the LoadBalancer address from the pods namespace', () => curlFromPods(`http://${ip}/lb-from-pods`));
      assert.equal(fromOurPod(body).path, '/lb-from-pods');
    }
    // The ClusterIP of a LoadBalancer Service routes too.
    const svc = (await getObj<Service>(client, svcRef('lb')))!;
    await reachPod(svc.spec.clusterIP!, 80, 'loadbalancer-clusterip');
    await deleteAndWait('lb');
    await unreachable(ip, 80, 'deleted LoadBalancer');
  });

  test('LoadBalancer: spec.loadBalancerIP is honoured, and freed when its Service is deleted', async () => {
    // An address in the upper half of the range that no Service holds now.
    const all = await client.json<{ items: Service[] }>('GET', '/api/v1/services');
    const taken = new Set(all.items.flatMap((s) => [s.spec.loadBalancerIP, ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)]));
    const [base, bits] = range.split('/');
    const size = 2 ** (32 - Number(bits));
    const start = base!.split('.').reduce((a, x) => a * 256 + Number(x), 0);
    const network = start - (start % size);
    let wanted = '';
    for (let i = size - 2; i > size / 2 && !wanted; i--) {
      const ip = [24, 16, 8, 0].map((sh) => Math.floor((network + i) / 2 ** sh) % 256).join('.');
      if (!taken.has(ip)) wanted = ip;
    }
    assert.ok(wanted, `no free address in ${range}`);

    await apply(client, service('fixed-a', 'LoadBalancer', { loadBalancerIP: wanted }));
    assert.equal(await lbAddress('fixed-a'), wanted);
    await reachPod(wanted, 80, 'fixed-a');

    // Held: a second Service asking for it waits, with a Warning event saying who holds it.
    await apply(client, service('fixed-b', 'LoadBalancer', { loadBalancerIP: wanted }));
    await waitFor('an AddressNotAssigned event for fixed-b', async () => {
      const events = await client.json<{ items: { reason: string; involvedObject: { name: string }; message: string }[] }>('GET', `/api/v1/namespaces/${NS}/events`);
      return events.items.find((e) => e.involvedObject.name === 'fixed-b' && e.reason === 'AddressNotAssigned');
    });
    assert.equal((await getObj<Service>(client, svcRef('fixed-b')))?.status?.loadBalancer?.ingress, undefined);

    // Freed: once fixed-a is deleted, fixed-b gets the address and traffic follows.
    await deleteAndWait('fixed-a');
    assert.equal(await lbAddress('fixed-b'), wanted);
    await reachPod(wanted, 80, 'fixed-b');
    await deleteAndWait('fixed-b');
    await unreachable(wanted, 80, 'deleted fixed-b');
  });

  test('LoadBalancer: a spec.loadBalancerIP outside the range is not assigned (AddressNotUsable event)', async () => {
    await apply(client, service('outside', 'LoadBalancer', { loadBalancerIP: '198.51.100.250' }));
    const ev = await waitFor('an AddressNotUsable event for outside', async () => {
      const events = await client.json<{ items: { reason: string; type: string; involvedObject: { name: string }; message: string }[] }>('GET', `/api/v1/namespaces/${NS}/events`);
      return events.items.find((e) => e.involvedObject.name === 'outside' && e.reason === 'AddressNotUsable');
    });
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, new RegExp(range.replace(/\./g, '\\.')));
    assert.equal((await getObj<Service>(client, svcRef('outside')))?.status?.loadBalancer?.ingress, undefined);
    await deleteAndWait('outside');
  });
});
