// Only the leader serves configs (issue 11: "say which replicas serve configs to data planes"):
// two SyncServers stand for two controller replicas behind the `portico-sync` Service, here a TCP
// front that picks a replica per connection as kube-proxy does. A data plane that lands on the
// follower is refused with SYNC_NOT_LEADER and reconnects until it reaches the leader, so its
// ACKs and NACKs are recorded where status is written; when leadership moves, the old leader
// closes its streams and they land on the new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { IR } from '../../src/ir/types.js';
import { SyncClient } from '../../src/sync/client.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import type { SyncServer } from '../../src/sync/server.js';
import { gatewayIR, master, startServer, until } from './helpers.js';

/** A TCP front for the replicas: each connection goes to the next replica in turn (the follower first). */
async function front(ports: number[]): Promise<{ port: number; close(): Promise<void> }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const up = net.connect(ports[n++ % ports.length]!, '127.0.0.1');
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        sockets.delete(s);
        c.destroy();
        up.destroy();
      });
    }
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('a data plane reaching a follower is refused (SYNC_NOT_LEADER) and reconnects to the leader, which records its NACK; a leadership change moves it', async (t) => {
  let leader = 'a';
  const replicas: Record<string, SyncServer> = {};
  const ports: number[] = [];
  for (const name of ['b', 'a']) {
    const { server, port } = await startServer({ serving: () => leader === name });
    replicas[name] = server;
    ports.push(port);
    t.after(() => server.close());
  }
  const lb = await front(ports);
  t.after(() => lb.close());
  // Translation is the same on every replica: both publish it.
  const ir: IR = gatewayIR('team-a/gw', 18101, 19101, 'v1');
  for (const r of Object.values(replicas)) r.publish(ir);

  const logs: string[] = [];
  let refuse = true;
  const applied: IR[] = [];
  const c = new SyncClient({
    host: '127.0.0.1',
    port: lb.port,
    gateway: 'team-a/gw',
    pod: 'dp-0',
    key: async () => deriveGatewayKey(master, 'team-a/gw'),
    apply: async (got) => {
      applied.push(got);
      // The first config is refused (as an engine refusing it would): a NACK.
      if (refuse) throw new Error('refused for the test');
      return { unbound: [] };
    },
    log: (_l, line) => logs.push(line),
    backoff: { initialMs: 20, maxMs: 2000 },
  });
  c.start();
  t.after(() => c.close());

  await until(() => replicas.a!.status('team-a/gw').lastNack !== undefined, 'the NACK recorded by the leader');
  assert.ok(logs.some((l) => l.includes('SYNC_NOT_LEADER')), `the follower refused first: ${logs.join(' | ')}`);
  assert.equal(replicas.b!.status('team-a/gw').clients.length, 0, 'no stream held by the follower');
  assert.equal(replicas.b!.status('team-a/gw').lastNack, undefined, 'the follower heard no NACK');
  assert.equal(replicas.a!.status('team-a/gw').lastNack!.pod, 'dp-0');

  // Leadership moves to b: a closes its streams at its next publish; the data plane finds b.
  refuse = false;
  leader = 'b';
  for (const r of Object.values(replicas)) r.publish(gatewayIR('team-a/gw', 18101, 19101, 'v2'));
  await until(() => replicas.b!.status('team-a/gw').clients[0]?.acked !== undefined, 'an ACK recorded by the new leader');
  assert.equal(replicas.a!.status('team-a/gw').clients.length, 0, 'the old leader holds no stream');
  assert.deepEqual(applied.at(-1), gatewayIR('team-a/gw', 18101, 19101, 'v2'));
});
