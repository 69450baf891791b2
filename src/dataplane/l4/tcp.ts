// TCPRoute: every connection to the port is spliced to one endpoint of a weighted-picked backend.

import * as net from 'node:net';
import type { Cluster, L4RouteEntry, Listener, Port } from '../../ir/types.js';
import type { L4Server } from './api.js';
import type { ResolvedL4Options } from './options.js';
import { BackendPicker } from './pick.js';
import { closeCleanly, ConnectionSet, dialBackend, listenTcp, splice } from './stream.js';
import { countConnection, endpointOf, logOnClose, type L4LogEntry } from './access-log.js';

interface State {
  listener: Listener | undefined;
  route: L4RouteEntry | undefined;
  clusters: Record<string, Cluster>;
}

/** A TCP port carries one listener with one route (the translator rejects extras). */
function stateOf(port: Port, clusters: Record<string, Cluster>): State {
  const listener = port.listeners.find((l) => l.l4Route) ?? port.listeners[0];
  return { listener, route: listener?.l4Route, clusters };
}

export async function createTCPServer(port: Port, clusters: Record<string, Cluster>, opts: ResolvedL4Options): Promise<L4Server> {
  let state = stateOf(port, clusters);
  const picker = new BackendPicker();
  const conns = new ConnectionSet();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    conns.add(client);
    client.on('error', () => client.destroy());
    client.setNoDelay(true);
    const entry = logOnClose(client, 'TCP', opts.accessLog);
    // Captured now: a later update() must not move this connection.
    const { route, clusters: cs, listener } = state;
    const m = opts.metrics;
    entry.listener = listener;
    if (route === undefined) {
      if (m) m.l4Route(listener, undefined, undefined, false).refused.v++;
      return refuse(client, entry, 'no TCPRoute attached');
    }
    entry.route = route.source;
    const pick = picker.pick(route.backends, cs);
    if (!pick.ok) {
      // No endpoints: counted against that backend, as HTTP counts its 503 (no_endpoints).
      if (m) m.l4Route(listener, route.source, pick.cluster, false).refused.v++;
      entry.upstream = pick.cluster;
      return refuse(client, entry, pick.reason);
    }
    entry.upstream = pick.cluster.name;
    dialBackend(pick.endpoints, opts.connectAttempts, opts.connectTimeoutMs).then(
      (backend) => {
        if (client.destroyed) return void backend.destroy();
        entry.endpoint = endpointOf(backend);
        if (m) countConnection(client, m.l4Route(listener, route.source, pick.cluster.name, false));
        splice(client, backend);
        client.resume();
      },
      (err: Error) => {
        if (m) m.l4Route(listener, route.source, pick.cluster.name, false).refused.v++;
        refuse(client, entry, `backend ${pick.cluster.name}: ${err.message}`);
      },
    );
  });

  function refuse(client: net.Socket, entry: L4LogEntry, why: string): void {
    entry.refused = why;
    opts.log(`tcp ${port.name}: ${why}; closing client`);
    closeCleanly(client);
  }

  await listenTcp(server, port.address, port.port, port.name);
  return {
    update(p, c) {
      state = stateOf(p, c);
    },
    async close(graceMs = 0) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await conns.drain(graceMs);
      await closed;
    },
  };
}
