// UDPRoute: datagrams from one client address:port form a session with its own upstream
// socket (so replies find their way back), closed after an idle period; the number of
// sessions is bounded.

import cluster from 'node:cluster';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Cluster, Endpoint, L4RouteEntry, Port } from '../../ir/types.js';
import type { L4Server } from './api.js';
import type { ResolvedL4Options } from './options.js';
import { l4LogLine, type L4LogEntry } from './access-log.js';
import { BackendPicker } from './pick.js';
import type { L4Cells } from '../../observability/metrics/dataplane.js';
import { observe } from '../../observability/metrics/registry.js';

interface State {
  route: L4RouteEntry | undefined;
  clusters: Record<string, Cluster>;
}

interface Session {
  upstream: dgram.Socket;
  lastSeen: number;
  ready: boolean;
  /** Datagrams that arrived before the upstream socket was connected, bounded. */
  pending: Buffer[];
  /** For the access log: client address, what it reached, bytes each way, start time. */
  client: string;
  log: L4LogEntry;
  bytesIn: number;
  bytesOut: number;
  started: number;
  /** Metrics of this route x backend (absent when metrics are off). */
  cells: L4Cells | undefined;
}

const MAX_PENDING = 64;

function stateOf(port: Port, clusters: Record<string, Cluster>): State {
  return { route: port.listeners.find((l) => l.l4Route)?.l4Route, clusters };
}

function family(address: string): 'udp4' | 'udp6' {
  return net.isIPv6(address) ? 'udp6' : 'udp4';
}

/**
 * Worker processes of a multi-process engine that shared the primary's UDP socket would each
 * read any datagram: one client's session split across workers, each with an upstream socket of
 * its own (two source ports at the backend). So a worker binds its own socket (`exclusive`), with
 * SO_REUSEPORT: Linux picks the socket of a datagram by its addresses and ports, so a client
 * stays on one worker while clients spread over all of them. A port another process holds is
 * still EADDRINUSE unless that process set SO_REUSEPORT too and runs as the same user.
 */
const OWN_SOCKET = cluster.isWorker;

export async function createUDPServer(port: Port, clusters: Record<string, Cluster>, opts: ResolvedL4Options): Promise<L4Server> {
  let state = stateOf(port, clusters);
  const picker = new BackendPicker();
  const sessions = new Map<string, Session>();
  const server = dgram.createSocket({ type: family(port.address), reuseAddr: false, reusePort: OWN_SOCKET });
  let closing = false;

  function endSession(key: string, s: Session): void {
    if (sessions.get(key) === s) {
      sessions.delete(key);
      if (s.cells) {
        s.cells.active.v--;
        observe(s.cells.duration, (Date.now() - s.started) / 1000);
      }
      opts.accessLog?.(l4LogLine(s.client, s.log, s.bytesIn, s.bytesOut, s.started, Date.now() - s.started));
    }
    try {
      s.upstream.close();
    } catch {
      /* already closed */
    }
  }

  function openSession(key: string, client: dgram.RemoteInfo): Session | undefined {
    const { route, clusters: cs } = state;
    const m = opts.metrics;
    const listener = port.listeners.find((l) => l.l4Route) ?? port.listeners[0];
    if (route === undefined) {
      if (m) m.l4Route(listener, undefined, undefined, true).refused.v++;
      return void opts.log(`udp ${port.name}: no UDPRoute attached; dropping`);
    }
    if (sessions.size >= opts.udpMaxSessions) {
      // Dropping new flows rather than evicting old ones: under a flood of spoofed sources,
      // eviction would let the attacker push out every established session.
      if (m) m.l4Route(listener, route.source, undefined, true).refused.v++;
      return void opts.log(`udp ${port.name}: ${sessions.size} sessions open (limit); dropping ${key}`);
    }
    const pick = picker.pick(route.backends, cs);
    if (!pick.ok) {
      if (m) m.l4Route(listener, route.source, pick.cluster, true).refused.v++;
      return void opts.log(`udp ${port.name}: ${pick.reason}; dropping`);
    }
    const cells = m ? m.l4Route(listener, route.source, pick.cluster.name, true) : undefined;
    if (cells) {
      cells.total.v++;
      cells.active.v++;
    }
    const ep: Endpoint = pick.endpoints[0]!;
    const upstream = dgram.createSocket(family(ep.address));
    const now = Date.now();
    const log: L4LogEntry = { protocol: 'UDP', listener, route: route.source, upstream: pick.cluster.name, endpoint: `${ep.address.includes(':') ? `[${ep.address}]` : ep.address}:${ep.port}` };
    const s: Session = { upstream, lastSeen: now, ready: false, pending: [], client: client.address, log, bytesIn: 0, bytesOut: 0, started: now, cells };
    sessions.set(key, s);
    upstream.on('error', (e) => {
      // A connected UDP socket reports ICMP port-unreachable as ECONNREFUSED: the backend is gone.
      opts.log(`udp ${port.name}: backend ${ep.address}:${ep.port}: ${e.message}; closing session ${key}`);
      endSession(key, s);
    });
    upstream.on('message', (msg) => {
      s.lastSeen = Date.now();
      s.bytesOut += msg.length;
      if (s.cells) s.cells.bytesOut.v += msg.length;
      if (!closing) server.send(msg, client.port, client.address);
    });
    upstream.connect(ep.port, ep.address, () => {
      s.ready = true;
      for (const m of s.pending) upstream.send(m);
      s.pending = [];
    });
    return s;
  }

  server.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    const s = sessions.get(key) ?? openSession(key, rinfo);
    if (s === undefined) return;
    s.lastSeen = Date.now();
    s.bytesIn += msg.length;
    if (s.cells) s.cells.bytesIn.v += msg.length;
    if (s.ready) s.upstream.send(msg);
    else if (s.pending.length < MAX_PENDING) s.pending.push(msg);
  });
  server.on('error', (e) => opts.log(`udp ${port.name}: ${e.message}`));

  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - opts.udpIdleMs;
      for (const [key, s] of sessions) if (s.lastSeen < cutoff) endSession(key, s);
    },
    Math.max(10, Math.min(opts.udpIdleMs / 2, 5_000)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      clearInterval(sweep);
      try {
        server.close();
      } catch {
        /* never bound */
      }
      reject(new Error(`cannot listen on ${port.name}: ${e.code ?? e.message}`));
    };
    server.once('error', onError);
    server.bind({ port: port.port, address: port.address, exclusive: OWN_SOCKET }, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });

  return {
    update(p, c) {
      state = stateOf(p, c);
    },
    async close() {
      // UDP has no connections to drain: a datagram in flight is either delivered or not.
      closing = true;
      clearInterval(sweep);
      for (const [key, s] of sessions) endSession(key, s);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
