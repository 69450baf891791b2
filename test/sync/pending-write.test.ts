// Regression: a snapshot due while an earlier frame was still in the socket's write buffer was
// never sent. The server waited for 'drain', which Node emits only after a write that returned
// false (a buffer past its high-water mark), never after a small write that is merely not
// flushed yet: a TLS write completes at the next turn of the event loop, so a ping, or the
// previous snapshot, written in the same turn leaves writableLength > 0 without any 'drain' to
// come. The data plane then served the previous version until the next change of its slice: the
// CI rehearsal of 4ce84e8 lost conformance HTTPRouteServiceTypes that way (the endpoints the test
// writes into its own EndpointSlices were published in the same timer phase as a 10 s ping, and
// the data plane answered 503 for 30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { IR } from '../../src/ir/types.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { encodeFrame, FrameReader, MAX_SERVER_FRAME } from '../../src/sync/frames.js';
import { parseServerMessage, SYNC_ALPN, type SnapshotMessage } from '../../src/sync/protocol.js';
import { gatewayIR, master, startClient, startServer, until } from './helpers.js';

const A = 'team-a/gw';
const version = (tag: string): IR => gatewayIR(A, 18001, 19001, tag);

test('a snapshot published while the previous frame is still being written is sent, not left waiting for a drain', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const { c, applied } = startClient(port, A);
  t.after(() => c.close());
  await until(() => server.status(A).clients.length === 1, 'connected');
  server.publish(version('1'));
  await until(() => server.status(A).clients[0]?.acked?.version === 1, 'ack of version 1');
  // Two changes in one turn of the event loop (as a ping and a rebuild's publish firing in one
  // timer phase): version 2's frame is still in the socket's buffer when version 3 is due.
  server.publish(version('2'));
  server.publish(version('3'));
  await until(() => server.status(A).clients[0]?.acked?.version === 3, 'ack of version 3 (the newest)');
  assert.deepEqual(applied.at(-1), version('3'));
});

test('a reader too slow for its socket gets, once it reads again, the newest snapshot and not every one in between', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  // A client that says hello and then reads nothing until told to.
  const s = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ALPNProtocols: [SYNC_ALPN], checkServerIdentity: () => undefined, pskCallback: () => ({ psk: deriveGatewayKey(master, A), identity: A }) });
  t.after(() => s.destroy());
  const got: SnapshotMessage[] = [];
  const reader = new FrameReader(MAX_SERVER_FRAME, (raw) => {
    const m = parseServerMessage(raw);
    if (m.type === 'snapshot') got.push(m);
  });
  s.on('data', (d: Buffer) => reader.push(d));
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  s.pause();
  s.write(encodeFrame({ type: 'hello', gateway: A }));
  await until(() => server.status(A).clients.length === 1, 'connected');
  // Big slices (a cluster of 40,000 endpoints, ~1.5 MB a frame) until the socket is past its
  // high-water mark and the kernel's buffers: from then on the server holds back what it publishes.
  const big = (n: number): IR => {
    const ir = version(`big-${n}`);
    const cl = Object.values(ir.clusters)[0]!;
    cl.endpoints = Array.from({ length: 40_000 }, (_, i) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1000 + n }));
    return ir;
  };
  const published = 40;
  for (let n = 1; n <= published; n++) {
    server.publish(big(n));
    // A turn of the event loop between publishes, as between rebuilds.
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(server.status(A).version, published);
  s.resume();
  await until(() => got.at(-1)?.version === published, 'the newest version');
  assert.ok(got.length < published, `the versions published while the socket was full are not all sent (${got.length} of ${published})`);
  const versions = got.map((m) => m.version);
  assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions arrive in order');
});

test('flushed(): at once after a frame the socket took; after a large one, once the reader has taken it, or at the bound while the reader reads nothing (that once)', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const s = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ALPNProtocols: [SYNC_ALPN], checkServerIdentity: () => undefined, pskCallback: () => ({ psk: deriveGatewayKey(master, A), identity: A }) });
  t.after(() => s.destroy());
  let bytes = 0;
  s.on('data', (d: Buffer) => (bytes += d.length));
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  s.write(encodeFrame({ type: 'hello', gateway: A }));
  await until(() => server.status(A).clients.length === 1, 'connected');
  // A small config: taken at once, nothing to wait for (resolved before any turn of the event loop).
  server.publish(version('small'));
  let settled = false;
  void server.flushed(5_000).then(() => (settled = true));
  await Promise.resolve();
  assert.ok(settled, 'a frame the socket took at once leaves nothing to flush');
  // A whole state of ~6 MB.
  const large = (tag: string): IR => {
    const ir = version(tag);
    Object.values(ir.clusters)[0]!.endpoints = Array.from({ length: 150_000 }, (_, i) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 2000 }));
    return ir;
  };
  // To a reader that starts reading 200 ms later: flushed() waits for it, and resolves by the drain, not the bound.
  s.pause();
  server.publish(large('drained'));
  const t1 = Date.now();
  setTimeout(() => s.resume(), 200);
  await server.flushed(30_000);
  const drained = Date.now() - t1;
  assert.ok(drained >= 150 && drained < 20_000, `waited for the reader, resolved by the drain (${drained} ms)`);
  await until(() => bytes > 5_000_000, `the reader has the first large frame (${bytes} bytes)`);
  // To a reader that reads nothing: the bound.
  s.pause();
  server.publish(large('paused'));
  const t0 = Date.now();
  await server.flushed(300);
  const waited = Date.now() - t0;
  assert.ok(waited >= 250 && waited < 2_000, `a reader that reads nothing holds flushed() to its bound (${waited} ms)`);
  // The next publish sends it nothing (it is behind): that reader holds no later flushed().
  server.publish(version('while-behind'));
  settled = false;
  void server.flushed(5_000).then(() => (settled = true));
  await Promise.resolve();
  assert.ok(settled, 'a reader behind since an earlier publish does not hold the next one');
  // Reading again, it gets the rest of the second large frame.
  const had = bytes;
  s.resume();
  await until(() => bytes - had > 5_000_000, `the reader has the second large frame (${bytes - had} bytes more)`);
});
