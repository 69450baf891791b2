// L4 listeners on an IPv6 address (::1), backends on IPv4 loopback: families may differ per side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { createL4Server } from '../../src/dataplane/l4/index.js';
import type { Port } from '../../src/ir/types.js';
import { cluster, clustersOf, l4Port, tcpEcho, to, udpEcho } from '../fixtures/l4.js';

const V6 = '::1';

async function v6Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, V6, () => s.close(() => resolve(true)));
  });
}

function onV6(p: Port): Port {
  return { ...p, address: V6, name: `[${V6}]:${p.port}/${p.protocol}` };
}

async function freeV6(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, V6, r));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const s = dgram.createSocket('udp6');
  await new Promise<void>((r) => s.bind(0, V6, r));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

test('TCP and UDP listeners on ::1', async (t) => {
  if (!(await v6Available())) return t.skip('no IPv6 loopback on this machine');
  const a = await tcpEcho('a');
  const u = await udpEcho('u');
  const [tp, up] = [await freeV6('tcp'), await freeV6('udp')];
  const tcp = await createL4Server(onV6(l4Port('TCP', tp, [to('a')])), clustersOf(cluster('a', [a.port])));
  const udp = await createL4Server(onV6(l4Port('UDP', up, [to('u')])), clustersOf(cluster('u', [u.port], 'udp')));
  const c6 = dgram.createSocket('udp6');
  try {
    const tcpData = await new Promise<string>((resolve) => {
      const c = net.connect({ host: V6, port: tp, allowHalfOpen: true });
      let d = '';
      c.setEncoding('utf8');
      c.on('data', (x: string) => (d += x));
      c.on('end', () => c.end());
      c.on('close', () => resolve(d));
      c.on('connect', () => c.end('six'));
    });
    assert.equal(tcpData, 'six|a');
    await new Promise<void>((r) => c6.bind(0, V6, r));
    const reply = await new Promise<string>((resolve) => {
      c6.once('message', (m) => resolve(m.toString()));
      c6.send('six', up, V6);
    });
    assert.equal(reply, 'u:six');
  } finally {
    c6.close();
    await tcp.close();
    await udp.close();
    await a.close();
    await u.close();
  }
});
