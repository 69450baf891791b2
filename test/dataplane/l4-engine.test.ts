// L4 ports served through the engine: apply() creates them, updates them in place (open
// connections keep their backend) and closes them when their listener goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import { freePort, LOOPBACK, tcpEcho, tcpRoundTrip, udpAsk, udpClient, udpEcho } from '../fixtures/l4.js';
import { irOf, service } from '../fixtures/translate.js';

const gateway = (tcpPort: number, udpPort?: number): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  listeners:
    - { name: tcp, protocol: TCP, port: ${tcpPort} }${udpPort ? `\n    - { name: udp, protocol: UDP, port: ${udpPort} }` : ''}
`;
const tcpRoute = (svc: string): string => `
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: t, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: ${svc}, port: 7000 }] }]
`;
const udpRoute = `
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: { name: u, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: udp }]
  rules: [{ backendRefs: [{ name: udp-svc, port: 5300 }] }]
`;

test('engine.apply(): L4 ports created, re-routed in place, removed', async () => {
  const a = await tcpEcho('a');
  const b = await tcpEcho('b');
  const u = await udpEcho('u');
  const [tcpP, udpP] = [await freePort('tcp'), await freePort('udp')];
  const svcs = [service('svc-a', 7000, a.port), service('svc-b', 7000, b.port), service('udp-svc', 5300, u.port, { protocol: 'UDP' })];
  const engine = createEngine({});
  const client = await udpClient();
  try {
    await engine.apply(irOf(gateway(tcpP, udpP), tcpRoute('svc-a'), udpRoute, ...svcs));
    assert.equal((await tcpRoundTrip(tcpP, 'x')).data, 'x|a');
    assert.equal(await udpAsk(client, udpP, 'd'), 'u:d');

    // An open connection spliced to a survives the switch to b.
    const open = net.connect({ host: LOOPBACK, port: tcpP, allowHalfOpen: true });
    let openData = '';
    open.setEncoding('utf8');
    open.on('data', (d: string) => (openData += d));
    await new Promise<void>((r) => open.once('data', () => r()) && open.write('1'));

    await engine.apply(irOf(gateway(tcpP, udpP), tcpRoute('svc-b'), udpRoute, ...svcs));
    assert.equal((await tcpRoundTrip(tcpP, 'y')).data, 'y|b');
    const closed = new Promise<void>((r) => open.on('close', () => r()));
    open.on('end', () => open.end());
    open.end('2');
    await closed;
    assert.equal(openData, '12|a');

    // The UDP listener goes away: its socket is closed, the TCP one keeps serving.
    await engine.apply(irOf(gateway(tcpP), tcpRoute('svc-b'), ...svcs));
    assert.equal(await udpAsk(client, udpP, 'gone', 300), undefined);
    assert.equal((await tcpRoundTrip(tcpP, 'z')).data, 'z|b');
  } finally {
    client.close();
    await engine.close(100);
    await a.close();
    await b.close();
    await u.close();
  }
});
