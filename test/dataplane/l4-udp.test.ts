// UDPRoute through the L4 server with real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createL4Server } from '../../src/dataplane/l4/index.js';
import { cluster, clustersOf, freePort, l4Port, to, udpAsk, udpClient, udpEcho } from '../fixtures/l4.js';

test('UDP echo: each client address:port is its own session', async () => {
  const a = await udpEcho('a');
  const port = await freePort('udp');
  const srv = await createL4Server(l4Port('UDP', port, [to('a')]), clustersOf(cluster('a', [a.port], 'udp')));
  const c1 = await udpClient();
  const c2 = await udpClient();
  try {
    assert.equal(await udpAsk(c1, port, 'one'), 'a:one');
    assert.equal(await udpAsk(c1, port, 'two'), 'a:two');
    assert.equal(await udpAsk(c2, port, 'three'), 'a:three');
    // Two clients, two upstream sockets; the second datagram of c1 reused its session.
    assert.equal(a.seen.length, 2);
  } finally {
    c1.close();
    c2.close();
    await srv.close();
    await a.close();
  }
});

test('idle sessions expire; the next datagram opens a new session', async () => {
  const a = await udpEcho('a');
  const port = await freePort('udp');
  const srv = await createL4Server(l4Port('UDP', port, [to('a')]), clustersOf(cluster('a', [a.port], 'udp')), { udpIdleMs: 400 });
  const c = await udpClient();
  try {
    assert.equal(await udpAsk(c, port, 'x'), 'a:x');
    assert.equal(await udpAsk(c, port, 'y'), 'a:y');
    assert.equal(a.seen.length, 1);
    await sleep(1000);
    assert.equal(await udpAsk(c, port, 'z'), 'a:z');
    assert.equal(a.seen.length, 2);
  } finally {
    c.close();
    await srv.close();
    await a.close();
  }
});

test('session limit: datagrams that would open one more session are dropped', async () => {
  const a = await udpEcho('a');
  const port = await freePort('udp');
  const srv = await createL4Server(l4Port('UDP', port, [to('a')]), clustersOf(cluster('a', [a.port], 'udp')), {
    udpMaxSessions: 1,
    udpIdleMs: 600,
  });
  const c1 = await udpClient();
  const c2 = await udpClient();
  try {
    assert.equal(await udpAsk(c1, port, '1'), 'a:1');
    assert.equal(await udpAsk(c2, port, '2', 200), undefined);
    assert.equal(await udpAsk(c1, port, '3'), 'a:3');
    await sleep(1300); // c1's session idles out, freeing the slot
    assert.equal(await udpAsk(c2, port, '4'), 'a:4');
  } finally {
    c1.close();
    c2.close();
    await srv.close();
    await a.close();
  }
});

test('weights, update() and sessions that keep their backend', async () => {
  const a = await udpEcho('a');
  const b = await udpEcho('b');
  const port = await freePort('udp');
  const cs = clustersOf(cluster('a', [a.port], 'udp'), cluster('b', [b.port], 'udp'));
  const srv = await createL4Server(l4Port('UDP', port, [to('a', 1), to('b', 0)]), cs);
  const old = await udpClient();
  const fresh: Awaited<ReturnType<typeof udpClient>>[] = [];
  try {
    assert.equal(await udpAsk(old, port, 'o'), 'a:o');
    srv.update(l4Port('UDP', port, [to('a', 0), to('b', 1)]), cs);
    for (let i = 0; i < 5; i++) {
      const c = await udpClient();
      fresh.push(c);
      assert.equal(await udpAsk(c, port, 'n'), 'b:n');
    }
    assert.equal(await udpAsk(old, port, 'o2'), 'a:o2');
  } finally {
    old.close();
    for (const c of fresh) c.close();
    await srv.close();
    await a.close();
    await b.close();
  }
});

test('no endpoints or a dead backend drops datagrams without harming the server', async () => {
  const a = await udpEcho('a');
  const dead = await freePort('udp');
  const port = await freePort('udp');
  const cs = clustersOf(cluster('empty', [], 'udp'), cluster('dead', [dead], 'udp'), cluster('a', [a.port], 'udp'));
  const srv = await createL4Server(l4Port('UDP', port, [to('empty')]), cs);
  const c = await udpClient();
  try {
    assert.equal(await udpAsk(c, port, 'x', 150), undefined);
    srv.update(l4Port('UDP', port, [to('dead')]), cs);
    const c2 = await udpClient();
    assert.equal(await udpAsk(c2, port, 'x', 150), undefined);
    // ICMP unreachable from the dead backend closes that session; later datagrams retry.
    srv.update(l4Port('UDP', port, [to('a')]), cs);
    await sleep(50);
    assert.equal(await udpAsk(c2, port, 'y'), 'a:y');
    c2.close();
  } finally {
    c.close();
    await srv.close();
    await a.close();
  }
});
