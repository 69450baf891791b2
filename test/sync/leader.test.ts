// Only the leader serves configs (issue 11: "say which replicas serve configs to data planes"):
// two SyncServers stand for two controller replicas behind the `portico-sync` Service, here a TCP
// front that picks a replica per connection as kube-proxy does. A data plane that lands on the
// follower is refused with SYNC_NOT_LEADER and reconnects until it reaches the leader, so its
// ACKs and NACKs are recorded where status is written; when leadership moves, the old leader
// closes its streams and they land on the new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IR } from '../../src/ir/types.js';
import { SyncClient } from '../../src/sync/client.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import type { SyncServer } from '../../src/sync/server.js';
import { gatewayIR, master, startServer, tcpFront, until } from './helpers.js';

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
  // The replicas behind one address, each connection to the next in turn (the follower first).
  const lb = await tcpFront(() => ports.map((port) => ({ host: '127.0.0.1', port })));
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
