// A provisioned Gateway with a TCP listener on 5432 and a UDP listener on 53 (issue 11: the one
// in-process Service only exposed 80 and 443). Its Service must expose exactly those ports, TCP
// and UDP, and both must carry traffic through the Service's ClusterIP and its LoadBalancer
// address (kube-proxy and hack/lb-allocator.mjs on the local cluster) to the data-plane pod and
// on to the backends. The TCP backend is the echo server's HTTP port, so an HTTP request sent
// over the TCPRoute comes back naming the backend pod; the UDP backend echoes datagrams as JSON.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/provisioned-l4.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { apply, echoPod, getObj, udpExchange, waitFor } from './helpers.js';
import { GW, LONG, ref, startHarness, type Harness, type ServiceObj } from './provisioned-harness.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/provisioned-l4.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');
const log = (l: string) => {
  if (process.env.PORTICO_TEST_VERBOSE) console.log(`# ${l}`);
};
const UDP_BACKEND_PORT = 5300;

/** An HTTP/1.1 request written on a raw TCP connection (the TCPRoute carries bytes, not HTTP). */
function httpOverTcp(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, timeout: 5000 });
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nhost: l4.example\r\nconnection: close\r\n\r\n`));
    s.on('data', (d: string) => (data += d));
    s.on('end', () => resolve(data));
    s.on('timeout', () => s.destroy(new Error(`TCP ${host}:${port}: no answer within 5 s`)));
    s.on('error', reject);
  });
}

describe('a provisioned Gateway with TCP 5432 and UDP 53 listeners, through its Service', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset', timeout: 240_000 }, () => {
  let h: Harness;
  let ns = '';
  const GATEWAY = 'l4';

  before(async () => {
    if (!KUBECONFIG) return;
    h = await startHarness(KUBECONFIG, 'portico-l4', log);
    ns = `portico-l4-${h.run}`;
    const c = h.client;
    await apply(c, ref('v1', 'Namespace', ns));
    await apply(c, echoPod('echo', ns, { app: 'echo' }, UDP_BACKEND_PORT));
    await apply(c, {
      ...ref('v1', 'Service', 'echo', ns),
      spec: {
        selector: { app: 'echo' },
        ports: [
          { name: 'http', port: 8080, targetPort: 3000, protocol: 'TCP' },
          { name: 'udp', port: UDP_BACKEND_PORT, targetPort: UDP_BACKEND_PORT, protocol: 'UDP' },
        ],
      },
    });
    await apply(c, {
      ...ref(GW, 'Gateway', GATEWAY, ns),
      spec: {
        gatewayClassName: h.className,
        listeners: [
          { name: 'postgres', port: 5432, protocol: 'TCP', allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } },
          { name: 'dns', port: 53, protocol: 'UDP', allowedRoutes: { kinds: [{ kind: 'UDPRoute' }] } },
        ],
      },
    });
    await apply(c, {
      ...ref('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'postgres', ns),
      spec: { parentRefs: [{ name: GATEWAY, sectionName: 'postgres' }], rules: [{ backendRefs: [{ name: 'echo', port: 8080 }] }] },
    });
    await apply(c, {
      ...ref('gateway.networking.k8s.io/v1alpha2', 'UDPRoute', 'dns', ns),
      spec: { parentRefs: [{ name: GATEWAY, sectionName: 'dns' }], rules: [{ backendRefs: [{ name: 'echo', port: UDP_BACKEND_PORT }] }] },
    });
    await h.startController();
  });

  after(async () => {
    if (!KUBECONFIG) return;
    await h?.close([ns]);
  });

  test('the provisioned Service exposes exactly the listener ports, TCP 5432 and UDP 53, as a LoadBalancer', async () => {
    const svc = await waitFor('the provisioned Service', () => getObj<ServiceObj & { spec: { type: string } }>(h.client, ref('v1', 'Service', h.nameOf(GATEWAY), ns)), LONG);
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.deepEqual(
      svc.spec.ports.map((p) => [p.port, p.protocol]).sort(),
      [[53, 'UDP'], [5432, 'TCP']],
    );
  });

  for (const via of ['ClusterIP', 'LoadBalancer address'] as const) {
    test(`TCP 5432 reaches the TCPRoute's backend through the ${via}`, async () => {
      const a = await h.serviceAddresses(ns, GATEWAY);
      const ip = via === 'ClusterIP' ? a.clusterIP : a.lb!;
      const answer = await waitFor(`an HTTP answer over TCP ${ip}:5432`, async () => {
        const r = await httpOverTcp(ip, 5432, `/tcp-${via.replace(/\W/g, '')}`);
        return r.startsWith('HTTP/1.1 200') ? r : undefined;
      }, LONG);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { namespace: string; pod: string; path: string };
      assert.deepEqual([body.namespace, body.pod, body.path], [ns, 'echo', `/tcp-${via.replace(/\W/g, '')}`]);
    });

    test(`UDP 53 reaches the UDPRoute's backend through the ${via}`, async () => {
      const a = await h.serviceAddresses(ns, GATEWAY);
      const ip = via === 'ClusterIP' ? a.clusterIP : a.lb!;
      const payload = `dns-${via.replace(/\W/g, '')}-${h.run}`;
      const answer = await waitFor(`a UDP echo from ${ip}:53`, () => udpExchange(ip, 53, payload, 1000), LONG);
      const echo = JSON.parse(answer) as { request: string; pod: string; namespace?: string };
      assert.equal(echo.request, payload, answer);
      assert.equal(echo.pod, 'echo', answer);
    });
  }
});
