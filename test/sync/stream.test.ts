// The config stream in one process: SyncServer and SyncClient over real TLS-PSK sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { IR } from '../../src/ir/types.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { encodeFrame } from '../../src/sync/frames.js';
import { SYNC_ALPN } from '../../src/sync/protocol.js';
import { gatewayIR, keyFor, master, merge, startClient, startServer, until } from './helpers.js';

const client = startClient;

const full = (tag: string): IR => merge(gatewayIR('team-a/gw', 18001, 19001, `a-${tag}`), gatewayIR('team-b/gw', 18002, 19002, `b-${tag}`));

test('each data plane receives only its own Gateway\'s slice, and every change as a new version', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const a = client(port, 'team-a/gw');
  const b = client(port, 'team-b/gw');
  t.after(() => Promise.all([a.c.close(), b.c.close()]));
  await until(() => server.status('team-a/gw').clients.length === 1 && server.status('team-b/gw').clients.length === 1, 'both connected');
  assert.equal(a.applied.length, 0, 'nothing is sent before the controller publishes');
  server.publish(full('1'));
  await until(() => a.applied.length === 1 && b.applied.length === 1, 'first snapshots');
  assert.deepEqual(a.applied[0], gatewayIR('team-a/gw', 18001, 19001, 'a-1'));
  assert.deepEqual(b.applied[0], gatewayIR('team-b/gw', 18002, 19002, 'b-1'));
  // A change to B only: A gets nothing new.
  server.publish(merge(gatewayIR('team-a/gw', 18001, 19001, 'a-1'), gatewayIR('team-b/gw', 18002, 19002, 'b-2')));
  await until(() => b.applied.length === 2, 'B update');
  await until(() => server.status('team-b/gw').clients[0]?.acked?.version === 2, 'B ack of version 2');
  assert.equal(a.applied.length, 1);
  assert.equal(server.status('team-a/gw').version, 1);
  assert.equal(server.status('team-a/gw').clients[0]!.pod, 'team-a-pod');
});

test('a key for Gateway A cannot ask for Gateway B; no key, a wrong key or an unknown Gateway gets no handshake', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  server.publish(full('1'));
  // A's key presented as identity B: the PSK binder does not verify.
  const wrong = client(port, 'team-b/gw', { key: async () => deriveGatewayKey(master, 'team-a/gw') });
  // An unknown Gateway: keyFor refuses it.
  const unknown = client(port, 'team-c/gw', { key: async () => randomBytes(32) });
  t.after(() => Promise.all([wrong.c.close(), unknown.c.close()]));
  // A's identity and key, asking for B in hello: refused with SYNC_GATEWAY_MISMATCH.
  const raw = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ALPNProtocols: [SYNC_ALPN], checkServerIdentity: () => undefined, pskCallback: () => ({ psk: deriveGatewayKey(master, 'team-a/gw'), identity: 'team-a/gw' }) });
  let got = '';
  raw.on('data', (d) => (got += d.toString('latin1')));
  raw.on('secureConnect', () => raw.write(encodeFrame({ type: 'hello', gateway: 'team-b/gw' })));
  await new Promise((r) => raw.on('close', r));
  assert.match(got, /SYNC_GATEWAY_MISMATCH/);
  assert.doesNotMatch(got, /snapshot/);
  // No PSK at all (an ordinary TLS client): no handshake.
  const plain = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  const err = await new Promise<Error | undefined>((r) => {
    plain.on('error', r);
    plain.on('secureConnect', () => r(undefined));
  });
  assert.ok(err, 'a client without the key gets no TLS session');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(wrong.applied.length, 0);
  assert.equal(unknown.applied.length, 0);
  assert.deepEqual(server.status('team-b/gw').clients, []);
});

test('a config the client cannot apply is NACKed, recorded by the server, and the previous one stays', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const a = client(port, 'team-a/gw', {
    apply: async (ir) => {
      if (ir.ports[0]!.port === 18099) throw new Error('cannot listen there');
      a.applied.push(ir);
      return { unbound: [] };
    },
  });
  t.after(() => a.c.close());
  server.publish(full('1'));
  await until(() => a.applied.length === 1, 'first');
  // A route naming a cluster the config does not carry: the client's own check refuses it.
  const dangling = full('2');
  dangling.ports[0]!.listeners[0]!.virtualHosts![0]!.routes[0]!.backends = [{ cluster: 'team-a/missing:80', weight: 1 }];
  server.publish(dangling);
  await until(() => server.status('team-a/gw').lastNack !== undefined, 'NACK recorded');
  const n = server.status('team-a/gw').lastNack!;
  assert.equal(n.code, 'SYNC_SNAPSHOT_INVALID');
  assert.equal(n.version, 2);
  assert.equal(n.pod, 'team-a-pod');
  assert.match(n.message, /team-a\/missing:80/);
  assert.equal(a.c.applied!.version, 1, 'version 1 still serving');
  // The engine refusing it: SYNC_APPLY_FAILED.
  server.publish(merge(gatewayIR('team-a/gw', 18099, 19001, 'x'), gatewayIR('team-b/gw', 18002, 19002, 'b')));
  await until(() => server.status('team-a/gw').lastNack?.version === 3, 'second NACK');
  assert.equal(server.status('team-a/gw').lastNack!.code, 'SYNC_APPLY_FAILED');
  // A good config again: applied, and the NACK is cleared.
  server.publish(full('4'));
  await until(() => server.status('team-a/gw').clients[0]?.acked?.version === 4, 'ack 4');
  assert.equal(server.status('team-a/gw').lastNack, undefined);
  assert.equal(a.applied.length, 2);
});

test('server gone: the client keeps its config, reconnects with backoff, and resyncs from a new server', async (t) => {
  const first = await startServer();
  const a = client(first.port, 'team-a/gw');
  t.after(() => a.c.close());
  first.server.publish(full('1'));
  await until(() => a.applied.length === 1, 'first');
  await first.server.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(a.c.applied!.version, 1);
  // A new server (new epoch) on the same port, same config: acked without applying again.
  const second = await startServer({ port: first.port });
  t.after(() => second.server.close());
  second.server.publish(full('1'));
  await until(() => second.server.status('team-a/gw').clients[0]?.acked?.version === 1, 'resync ack');
  assert.equal(a.applied.length, 1, 'an identical config is not applied again');
  assert.equal(a.c.applied!.epoch, second.server.epoch);
  second.server.publish(full('2'));
  await until(() => a.applied.length === 2, 'update from the new server');
  assert.match(a.logs.join('\n'), /still serving version 1/);
});

test('the server closes a stream that says nothing, or sends what the protocol does not know', async (t) => {
  const { server, port } = await startServer({ helloTimeoutMs: 200 });
  t.after(() => server.close());
  server.publish(full('1'));
  const open = (send?: Buffer): Promise<string> => {
    const s = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ALPNProtocols: [SYNC_ALPN], checkServerIdentity: () => undefined, pskCallback: () => ({ psk: deriveGatewayKey(master, 'team-a/gw'), identity: 'team-a/gw' }) });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    if (send) s.on('secureConnect', () => s.write(send));
    return new Promise((r) => s.on('close', () => r(got)));
  };
  assert.match(await open(), /SYNC_HELLO_TIMEOUT/);
  assert.match(await open(encodeFrame({ type: 'ack', epoch: 'x', version: 1, unbound: [] })), /SYNC_BAD_MESSAGE.*before hello/);
  assert.match(await open(Buffer.from('\xff\xff\xff\xff', 'latin1')), /SYNC_FRAME_TOO_LARGE/);
  assert.deepEqual(server.status('team-a/gw').clients, []);
});

test('a controller that goes silent without closing (partition) is left after the idle timeout, and the client reconnects', async (t) => {
  const { server, port } = await startServer({ pingMs: 60_000 });
  t.after(() => server.close());
  server.publish(full('1'));
  const a = client(port, 'team-a/gw', { idleTimeoutMs: 300 });
  t.after(() => a.c.close());
  await until(() => a.applied.length === 1, 'first');
  await until(() => a.logs.some((l) => /nothing from the controller for 300 ms/.test(l)), 'idle timeout');
  await until(() => server.status('team-a/gw').clients.length === 1 && a.c.connected, 'reconnected');
  assert.equal(a.applied.length, 1, 'the same config is not applied again');
});

test('a merged data plane (GatewayClass/<name>) receives the slices of every Gateway it serves, one snapshot', async (t) => {
  const members = new Set(['team-a/gw', 'team-b/gw']);
  const { server, port } = await startServer({
    keyFor: (id) => (id === 'GatewayClass/shared' ? deriveGatewayKey(master, id) : keyFor(id)),
    membersOf: (id) => (id === 'GatewayClass/shared' ? members : undefined),
  });
  t.after(() => server.close());
  const m = client(port, 'GatewayClass/shared');
  const a = client(port, 'team-a/gw');
  t.after(() => Promise.all([m.c.close(), a.c.close()]));
  await until(() => server.status('GatewayClass/shared').clients.length === 1 && server.status('team-a/gw').clients.length === 1, 'both connected');
  server.publish(merge(full('1'), gatewayIR('team-c/gw', 18003, 19003, 'c-1')));
  await until(() => m.applied.length === 1 && a.applied.length === 1, 'first snapshots');
  assert.deepEqual(m.applied[0], full('1'), "both members' listeners and clusters, not team-c's");
  assert.deepEqual(a.applied[0], gatewayIR('team-a/gw', 18001, 19001, 'a-1'));
});
