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

test('access log: a line per TCP connection (also a refused one) and per UDP session', async () => {
  const a = await tcpEcho('a');
  const u = await udpEcho('u');
  const [tcpP, udpP] = [await freePort('tcp'), await freePort('udp')];
  const svcs = [service('svc-a', 7000, a.port), service('udp-svc', 5300, u.port, { protocol: 'UDP' })];
  const lines: string[] = [];
  const engine = createEngine({ accessLog: (l) => lines.push(l) });
  const client = await udpClient();
  const waitLine = async (re: RegExp): Promise<string> => {
    for (let i = 0; i < 500; i++) {
      const l = lines.find((x) => re.test(x));
      if (l) return l;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no access log line like ${re}: ${JSON.stringify(lines)}`);
  };
  try {
    await engine.apply(irOf(gateway(tcpP, udpP), tcpRoute('svc-a'), udpRoute, ...svcs));
    assert.equal((await tcpRoundTrip(tcpP, 'hello')).data, 'hello|a');
    // JSON, with the HTTP lines' field names (observability/access-log.ts) plus `refused`.
    const tcp = JSON.parse(await waitLine(/"protocol":"TCP"/)) as Record<string, unknown>;
    assert.match(String(tcp.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(typeof tcp.duration_ms === 'number' && tcp.duration_ms >= 0);
    const { time: _t, duration_ms: _d, ...tcpRest } = tcp;
    assert.deepEqual(tcpRest, {
      gateway: 'default/gw', listener: 'tcp', route: 'TCPRoute/default/t', rule: 0, backend: 'default/svc-a:7000/tcp', endpoint: `127.0.0.1:${a.port}`,
      protocol: 'TCP', authority: null, bytes_received: 5, bytes_sent: 7, refused: null, client: '127.0.0.1',
    });

    assert.equal(await udpAsk(client, udpP, 'd'), 'u:d');
    // The session ends when its listener goes away; the TCP port now has no route: refused.
    await engine.apply(irOf(gateway(tcpP), ...svcs));
    const udp = JSON.parse(await waitLine(/"protocol":"UDP"/)) as Record<string, unknown>;
    assert.deepEqual(
      [udp.gateway, udp.listener, udp.route, udp.rule, udp.backend, udp.endpoint, udp.bytes_received, udp.bytes_sent, udp.refused, udp.client],
      ['default/gw', 'udp', 'UDPRoute/default/u', 0, 'default/udp-svc:5300/udp', `127.0.0.1:${u.port}`, 1, 3, null, '127.0.0.1'],
    );
    await tcpRoundTrip(tcpP, 'x').catch(() => undefined);
    const refused = JSON.parse(await waitLine(/"refused":"/)) as Record<string, unknown>;
    assert.deepEqual([refused.protocol, refused.listener, refused.route, refused.backend, refused.endpoint, refused.refused], ['TCP', 'tcp', null, null, null, 'no TCPRoute attached']);
  } finally {
    client.close();
    await engine.close(100);
    await a.close();
    await u.close();
  }
});
