// TCPRoute through the L4 server with real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createL4Server } from '../../src/dataplane/l4/index.js';
import { cluster, clustersOf, freePort, l4Port, LOOPBACK, tcpEcho, tcpRoundTrip, to } from '../fixtures/l4.js';

test('echo through a TCP listener, half-close client -> backend', async () => {
  const a = await tcpEcho('a');
  const port = await freePort('tcp');
  const srv = await createL4Server(l4Port('TCP', port, [to('ns/a:1')]), clustersOf(cluster('ns/a:1', [a.port])));
  try {
    const r = await tcpRoundTrip(port, 'hello');
    // The "|a" only arrives after the backend saw our FIN, and our read side still worked.
    assert.deepEqual(r, { data: 'hello|a', ended: true });
    const big = 'x'.repeat(2 * 1024 * 1024);
    const r2 = await tcpRoundTrip(port, big);
    assert.equal(r2.data.length, big.length + 2);
  } finally {
    await srv.close();
    await a.close();
  }
});

test('half-close backend -> client: backend FIN first, client keeps sending', async () => {
  let got = '';
  const backendDone = new Promise<void>((resolve) => {
    const b = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end('greeting'); // FIN right away
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => {
        b.close();
        resolve();
      });
    });
    b.listen(0, LOOPBACK, () => void start((b.address() as net.AddressInfo).port));
  });
  let srvClose: () => Promise<void> = async () => {};
  async function start(backendPort: number): Promise<void> {
    const port = await freePort('tcp');
    const srv = await createL4Server(l4Port('TCP', port, [to('c')]), clustersOf(cluster('c', [backendPort])));
    srvClose = () => srv.close();
    const c = net.connect({ host: LOOPBACK, port, allowHalfOpen: true });
    c.setEncoding('utf8');
    let recv = '';
    c.on('data', (d: string) => (recv += d));
    c.on('end', () => {
      assert.equal(recv, 'greeting');
      // Our write side is still open after the backend's FIN.
      c.end('late data');
    });
  }
  await backendDone;
  assert.equal(got, 'late data');
  await srvClose();
});

test('weights: weight 0 never picked, equal weights both used', async () => {
  const a = await tcpEcho('a');
  const b = await tcpEcho('b');
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('a', [a.port]), cluster('b', [b.port]));
  const srv = await createL4Server(l4Port('TCP', port, [to('a', 1), to('b', 0)]), cs);
  try {
    for (let i = 0; i < 10; i++) assert.equal((await tcpRoundTrip(port, '')).data, '|a');
    srv.update(l4Port('TCP', port, [to('a', 1), to('b', 1)]), cs);
    const tags = new Set<string>();
    for (let i = 0; i < 40; i++) tags.add((await tcpRoundTrip(port, '')).data);
    assert.deepEqual([...tags].sort(), ['|a', '|b']);
  } finally {
    await srv.close();
    await a.close();
    await b.close();
  }
});

test('backend down, no endpoints, invalid backend, no route: client is closed, server keeps serving', async () => {
  const dead = await freePort('tcp');
  const a = await tcpEcho('a');
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('dead', [dead]), cluster('empty', []), cluster('a', [a.port]));
  const srv = await createL4Server(l4Port('TCP', port, [to('dead')]), cs);
  try {
    assert.deepEqual(await tcpRoundTrip(port, 'x'), { data: '', ended: true });
    srv.update(l4Port('TCP', port, [to('empty')]), cs);
    assert.deepEqual(await tcpRoundTrip(port, 'x'), { data: '', ended: true });
    srv.update(l4Port('TCP', port, [{ weight: 1, invalid: { status: 500, reason: 'BackendNotFound' } }]), cs);
    assert.deepEqual(await tcpRoundTrip(port, 'x'), { data: '', ended: true });
    srv.update(l4Port('TCP', port, [to('missing-cluster')]), cs);
    assert.deepEqual(await tcpRoundTrip(port, 'x'), { data: '', ended: true });
    const noRoute = l4Port('TCP', port, []);
    delete noRoute.listeners[0]!.l4Route;
    srv.update(noRoute, cs);
    assert.deepEqual(await tcpRoundTrip(port, 'x'), { data: '', ended: true });
    srv.update(l4Port('TCP', port, [to('a')]), cs);
    assert.deepEqual(await tcpRoundTrip(port, 'ok'), { data: 'ok|a', ended: true });
  } finally {
    await srv.close();
    await a.close();
  }
});

test('a dead endpoint is skipped for the next one in the cluster', async () => {
  const dead = await freePort('tcp');
  const a = await tcpEcho('a');
  const port = await freePort('tcp');
  const srv = await createL4Server(l4Port('TCP', port, [to('c')]), clustersOf(cluster('c', [dead, a.port])));
  try {
    for (let i = 0; i < 4; i++) assert.equal((await tcpRoundTrip(port, 'p')).data, 'p|a');
  } finally {
    await srv.close();
    await a.close();
  }
});

test('update(): an open connection keeps its backend, new ones use the new route', async () => {
  const a = await tcpEcho('a');
  const b = await tcpEcho('b');
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('a', [a.port]), cluster('b', [b.port]));
  const srv = await createL4Server(l4Port('TCP', port, [to('a')]), cs);
  try {
    const c = net.connect({ host: LOOPBACK, port, allowHalfOpen: true });
    c.setEncoding('utf8');
    let data = '';
    c.on('data', (d: string) => (data += d));
    await new Promise<void>((r) => c.once('data', () => r()) && c.write('1'));
    srv.update(l4Port('TCP', port, [to('b')]), cs);
    assert.equal((await tcpRoundTrip(port, 'new')).data, 'new|b');
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    c.on('end', () => c.end());
    c.end('2');
    await closed;
    assert.equal(data, '12|a');
  } finally {
    await srv.close();
    await a.close();
    await b.close();
  }
});

test('close(grace): stops accepting, cuts idle connections after the grace period', async () => {
  const a = await tcpEcho('a');
  const port = await freePort('tcp');
  const srv = await createL4Server(l4Port('TCP', port, [to('a')]), clustersOf(cluster('a', [a.port])));
  const c = net.connect({ host: LOOPBACK, port });
  c.on('error', () => {});
  await new Promise<void>((r) => c.once('connect', () => r()));
  const closedAt = new Promise<number>((r) => c.once('close', () => r(Date.now())));
  const t0 = Date.now();
  await srv.close(200);
  const dt = (await closedAt) - t0;
  assert.ok(dt >= 150 && dt < 2000, `closed after ${dt} ms`);
  await assert.rejects(
    new Promise((resolve, reject) => {
      const d = net.connect({ host: LOOPBACK, port }, () => resolve(d));
      d.on('error', reject);
    }),
  );
  await a.close();
});

test('bind failure names the port', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, LOOPBACK, r));
  const port = (blocker.address() as net.AddressInfo).port;
  await assert.rejects(createL4Server(l4Port('TCP', port, []), {}), new RegExp(`${port}/TCP.*EADDRINUSE`));
  blocker.close();
});
