// Translator -> IR -> L4 servers: TCPRoute, UDPRoute and TLSRoute manifests served end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { createL4Server, type L4Server } from '../../src/dataplane/l4/index.js';
import type { IR } from '../../src/ir/types.js';
import { freePort, LOOPBACK, tcpEcho, tcpRoundTrip, tlsBackend, udpAsk, udpClient, udpEcho } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';
import { irOf, service } from '../fixtures/translate.js';

async function serveL4(ir: IR): Promise<L4Server[]> {
  const servers: L4Server[] = [];
  for (const p of ir.ports) if (p.protocol !== 'HTTP' && p.protocol !== 'HTTPS') servers.push(await createL4Server(p, ir.clusters));
  return servers;
}

test('TCPRoute, UDPRoute and TLSRoute manifests carry traffic', async () => {
  const tcpB = await tcpEcho('tcp-b');
  const udpB = await udpEcho('udp-b');
  const tlsB = await tlsBackend('tls-b', pki.backend);
  const [tcpP, udpP, tlsP] = [await freePort('tcp'), await freePort('udp'), await freePort('tcp')];
  const ir = irOf(
    `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  listeners:
    - { name: tcp, protocol: TCP, port: ${tcpP} }
    - { name: udp, protocol: UDP, port: ${udpP} }
    - name: tls
      protocol: TLS
      port: ${tlsP}
      hostname: "*.example.com"
      tls: { mode: Passthrough }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: t, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: tcp-svc, port: 7000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: { name: u, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: udp }]
  rules: [{ backendRefs: [{ name: udp-svc, port: 5300 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: s, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tls }]
  hostnames: ["foo.example.com"]
  rules: [{ backendRefs: [{ name: tls-svc, port: 443 }] }]
`,
    service('tcp-svc', 7000, tcpB.port),
    service('udp-svc', 5300, udpB.port, { protocol: 'UDP' }),
    service('tls-svc', 443, tlsB.port),
  );
  assert.deepEqual(
    ir.ports.map((p) => p.name).sort(),
    [`127.0.0.1:${tcpP}/TCP`, `127.0.0.1:${udpP}/UDP`, `127.0.0.1:${tlsP}/TLS`].sort(),
  );
  const servers = await serveL4(ir);
  const c = await udpClient();
  try {
    assert.deepEqual(await tcpRoundTrip(tcpP, 'ping'), { data: 'ping|tcp-b', ended: true });
    assert.equal(await udpAsk(c, udpP, 'ping'), 'udp-b:ping');
    const body = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: LOOPBACK, port: tlsP, servername: 'foo.example.com', ca: pki.caPem });
      let b = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (b += d));
      s.on('end', () => resolve(b));
      s.on('error', reject);
    });
    assert.equal(body, 'tls-b:foo.example.com');
  } finally {
    c.close();
    for (const s of servers) await s.close();
    await tcpB.close();
    await udpB.close();
    await tlsB.close();
  }
});
