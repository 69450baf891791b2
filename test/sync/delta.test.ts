// The config stream's deltas (protocol.ts DeltaMessage): over real TLS-PSK sockets, a data plane
// gets its Gateway's whole config once and then only what changed (counted in bytes on the
// wire), keeps its objects for the rest (so its engine keeps what it compiled), asks for the
// whole config again when a delta does not apply to what it holds, and a data plane that does
// not take deltas, on the same Gateway, gets the same configs as whole snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPRouteEntry, IR } from '../../src/ir/types.js';
import type { SyncClientOptions } from '../../src/sync/client.js';
import { DeltaDecoder } from '../../src/dataplane/ir-delta.js';
import { startClient, startServer, tcpFront, until } from './helpers.js';

const GW = 'team-a/gw';

function entry(i: number | string): HTTPRouteEntry {
  return { source: { kind: 'HTTPRoute', namespace: 'team-a', name: `r${i}`, rule: 0 }, match: { path: { type: 'PathPrefix', value: `/svc-${i}` } }, filters: [], backends: [{ cluster: 'team-a/backend:80', weight: 1 }] };
}

/** Gateway team-a/gw with `routes` on one listener, as the translator shares them (the same entry objects across versions). */
function ir(routes: HTTPRouteEntry[]): IR {
  return {
    ports: [{ name: '127.0.0.1:18001/HTTP', address: '127.0.0.1', port: 18001, protocol: 'HTTP', listeners: [{ name: `${GW}/http`, protocol: 'HTTP', virtualHosts: [{ hostname: '*', routes }] }] }],
    clusters: { 'team-a/backend:80': { name: 'team-a/backend:80', protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: 19001 }] } },
  };
}

const client = (port: number, extra: Partial<SyncClientOptions> = {}) => startClient(port, GW, extra);

const routes = Array.from({ length: 2000 }, (_, i) => entry(i));

test('deltas: the whole config once, then a route change crosses as a few hundred bytes, and every other route stays the object the data plane held', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  // In front of the server, counting what it sends.
  const relay = await tcpFront(() => [{ host: '127.0.0.1', port }]);
  t.after(() => relay.close());
  const a = client(relay.port);
  t.after(() => a.c.close());
  await until(() => server.status(GW).clients.length === 1, 'connected');
  server.publish(ir(routes));
  await until(() => a.applied.length === 1, 'whole config');
  assert.deepEqual(a.applied[0], ir(routes));
  const whole = relay.down();
  assert.ok(whole > 2000 * 100, `the whole config: ${whole} bytes`);

  const next = [...routes.slice(0, 1000), entry('added'), ...routes.slice(1000)];
  server.publish(ir(next));
  await until(() => a.applied.length === 2, 'delta');
  const delta = relay.down() - whole;
  assert.ok(delta < 1500, `one route added: ${delta} bytes on the wire`);
  assert.deepEqual(a.applied[1], ir(next));
  const before = a.applied[0]!.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  const after = a.applied[1]!.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  assert.equal(after[0], before[0]);
  assert.equal(after[1500], before[1499]);
  assert.equal(a.applied[1]!.clusters['team-a/backend:80'], a.applied[0]!.clusters['team-a/backend:80'], 'an unchanged cluster is the same object');
  await until(() => server.status(GW).clients[0]?.acked?.version === 2, 'ack of version 2');

  // The same config published again: nothing crosses but pings, and nothing is applied.
  server.publish(ir(next));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.applied.length, 2);
  assert.equal(server.status(GW).version, 2);
});

test('deltas: a data plane that missed one asks for the whole config and serves the newest; one without deltas gets whole snapshots of the same configs', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const a = client(port);
  const legacy = client(port, { deltas: false });
  t.after(() => Promise.all([a.c.close(), legacy.c.close()]));
  await until(() => server.status(GW).clients.length === 2, 'both connected');
  server.publish(ir(routes));
  await until(() => a.applied.length === 1 && legacy.applied.length === 1, 'first configs');
  assert.deepEqual(legacy.applied[0], a.applied[0]);

  // As if a message had been lost: the data plane's decoder holds nothing the next delta applies to.
  (a.c as unknown as { decoder: DeltaDecoder }).decoder = new DeltaDecoder();
  const next = routes.slice(1);
  server.publish(ir(next));
  await until(() => a.applied.length === 2 && legacy.applied.length === 2, 'the change, on both');
  assert.match(a.logs.join('\n'), /asking for the whole config/);
  assert.deepEqual(a.applied[1], ir(next));
  assert.deepEqual(legacy.applied[1], ir(next));
  await until(() => server.status(GW).clients.every((c) => c.acked?.version === 2), 'both acked version 2');

  // And the stream goes on in deltas from there.
  server.publish(ir(routes.slice(2)));
  await until(() => a.applied.length === 3, 'next delta');
  assert.equal(a.applied[2]!.ports[0]!.listeners[0]!.virtualHosts![0]!.routes[5], a.applied[1]!.ports[0]!.listeners[0]!.virtualHosts![0]!.routes[6]);
});

test('deltas: a data plane of the other kind connecting later costs the connected one nothing', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  const a = client(port);
  t.after(() => a.c.close());
  server.publish(ir(routes));
  await until(() => a.applied.length === 1, 'first config');
  server.publish(ir(routes.slice(1)));
  await until(() => a.applied.length === 2, 'a delta');
  const legacy = client(port, { deltas: false });
  t.after(() => legacy.c.close());
  await until(() => legacy.applied.length === 1, 'the newcomer\'s whole snapshot');
  assert.deepEqual(legacy.applied[0], a.applied[1]);
  const late = client(port);
  t.after(() => late.c.close());
  await until(() => late.applied.length === 1, 'a second data plane with deltas: the whole state');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.applied.length, 2);
  assert.doesNotMatch(a.logs.join('\n'), /asking for the whole config/);
  server.publish(ir(routes.slice(3)));
  await until(() => a.applied.length === 3 && late.applied.length === 2 && legacy.applied.length === 2, 'the next change, on all three');
  for (const x of [a.applied[2], late.applied[1], legacy.applied[1]]) assert.deepEqual(x, ir(routes.slice(3)));
});

test('expect(): a just-provisioned Gateway\'s whole state is made before its data plane connects, kept up to date, and sent the moment it connects', async (t) => {
  const { server, port } = await startServer();
  t.after(() => server.close());
  server.publish(ir(routes));
  assert.equal(server.status(GW).version, 0, 'nobody connected or expected: nothing is made');
  server.expect(GW);
  assert.equal(server.status(GW).version, 1, 'made at once');
  server.publish(ir(routes.slice(1)));
  assert.equal(server.status(GW).version, 2, 'changes are encoded while the data plane is on its way');
  server.publish(ir(routes.slice(1)));
  assert.equal(server.status(GW).version, 2, 'an unchanged config is no new version');
  const a = client(port);
  t.after(() => a.c.close());
  await until(() => a.applied.length === 1, 'the whole state');
  assert.deepEqual(a.applied[0], ir(routes.slice(1)));
  await until(() => server.status(GW).clients[0]?.acked?.version === 2, 'ack of version 2');
  server.publish(ir(routes.slice(2)));
  await until(() => a.applied.length === 2, 'then deltas');
  assert.deepEqual(a.applied[1], ir(routes.slice(2)));
});
