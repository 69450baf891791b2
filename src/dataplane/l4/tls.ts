// TLS listeners (TLSRoute). The ClientHello is peeked, never consumed, to learn the SNI;
// the SNI chooses the listener (most specific hostname) and then the route. Passthrough
// replays the peeked bytes to the backend and splices the encrypted stream; Terminate
// hands the same bytes to a TLS server socket with the listener's certificate and
// splices the cleartext to the backend: over plain TCP, or over TLS again when the
// backend's cluster carries a BackendTLSPolicy (reencrypt.ts; Terminate only: the
// translator gives Passthrough routes clusters without one). peekClientHello and TLSRoutes also
// serve the TLS listeners of an HTTPS port they share (http-port.ts, mixed mode).

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Cluster, Listener, Port, TLSRouteEntry } from '../../ir/types.js';
import type { L4Server } from './api.js';
import { CertificateSelector } from './certs.js';
import { parseClientHello } from './clienthello.js';
import { HostTable, tlsRouteTable } from './hostmatch.js';
import type { ResolvedL4Options } from './options.js';
import { BackendPicker } from './pick.js';
import { closeCleanly, ConnectionSet, dialBackend, listenTcp, splice } from './stream.js';
import { countConnection, endpointOf, logOnClose, type L4LogEntry } from './access-log.js';
import { secureBackend } from './reencrypt.js';
import { loadUpstreamTls } from '../upstream/tls-loader.js';

interface CompiledListener {
  listener: Listener;
  routes: HostTable<TLSRouteEntry>;
  /** Present for Terminate mode. */
  certs?: CertificateSelector;
}

interface State {
  listeners: HostTable<CompiledListener>;
  clusters: Record<string, Cluster>;
}

/**
 * Wait for the client's whole ClientHello without consuming it, then call `onHello` with its SNI
 * (undefined when it sends none) and the bytes read so far (to replay), the client paused. A
 * hello too large, malformed, or not complete in time is refused and the client closed.
 */
export function peekClientHello(
  client: net.Socket,
  opts: ResolvedL4Options,
  portName: string,
  entry: L4LogEntry,
  onHello: (sni: string | undefined, hello: Buffer) => void,
): void {
  // Chunks are joined and parsed only once enough bytes for the next record have arrived,
  // so a client dripping one byte per segment costs O(n), not O(n^2), copying.
  let chunks: Buffer[] = [];
  let total = 0;
  let need = 5;
  const stop = (): void => {
    clearTimeout(timer);
    client.removeListener('data', onData);
    client.removeListener('end', onEarlyEnd);
  };
  const refuse = (why: string): void => {
    if (opts.metrics) opts.metrics.l4Route(undefined, undefined, undefined, false).refused.v++;
    entry.refused = why;
    opts.log(`tls ${portName}: ${why}; closing client`);
    stop();
    closeCleanly(client);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    total += chunk.length;
    if (total < need) {
      if (total > opts.maxHelloBytes) refuse(`ClientHello larger than ${opts.maxHelloBytes} bytes`);
      return;
    }
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    chunks = [buf];
    const hello = parseClientHello(buf);
    if (hello.kind === 'more') {
      need = hello.need;
      if (need > opts.maxHelloBytes) refuse(`ClientHello larger than ${opts.maxHelloBytes} bytes`);
      return;
    }
    if (hello.kind === 'invalid') return refuse(hello.reason);
    stop();
    client.pause();
    onHello(hello.sni, buf);
  };
  const onEarlyEnd = (): void => refuse('client closed before its ClientHello was complete');
  const timer = setTimeout(() => refuse('no complete ClientHello in time'), opts.helloTimeoutMs);
  timer.unref();
  client.on('data', onData);
  client.on('end', onEarlyEnd);
}

/** The TLS listeners of one port compiled for SNI lookup; route() serves a peeked connection. */
export class TLSRoutes {
  private state: State;
  private readonly picker = new BackendPicker();

  constructor(
    private port: Port,
    clusters: Record<string, Cluster>,
    private readonly opts: ResolvedL4Options,
  ) {
    this.state = this.compile(port, clusters);
  }

  update(p: Port, c: Record<string, Cluster>): void {
    this.port = p;
    this.state = this.compile(p, c);
  }

  /** Whether some TLS listener of the port owns this SNI. */
  owns(sni: string): boolean {
    return this.state.listeners.lookup(sni) !== undefined;
  }

  private compile(p: Port, c: Record<string, Cluster>): State {
    const listeners = new HostTable<CompiledListener>();
    // The port lists listeners most specific first, and HostTable keeps the first per hostname.
    for (const l of p.listeners) {
      if (l.protocol !== 'TLS') continue;
      const certs =
        l.tls?.mode === 'Terminate'
          ? new CertificateSelector(l.tls, (secret, err) => this.opts.log(`tls ${l.name}: certificate ${secret} unusable: ${err.message}`))
          : undefined;
      listeners.add(l.hostname, { listener: l, routes: tlsRouteTable(l), certs });
    }
    return { listeners, clusters: c };
  }

  route(client: net.Socket, sni: string, hello: Buffer, log: L4LogEntry): void {
    const { port, opts, picker } = this;
    const refuse = (why: string): void => {
      log.refused = why;
      opts.log(`tls ${port.name}: ${why}; closing client`);
      closeCleanly(client);
    };
    routeConnection(client, sni, hello, refuse, log, this.state, picker, port, opts);
  }
}

export async function createTLSServer(port: Port, clusters: Record<string, Cluster>, opts: ResolvedL4Options): Promise<L4Server> {
  await loadUpstreamTls(); // BackendTLSPolicy checks for re-encrypted Terminate traffic (reencrypt.ts)
  const routes = new TLSRoutes(port, clusters, opts);
  const conns = new ConnectionSet();

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    conns.add(client);
    client.on('error', () => client.destroy());
    client.setNoDelay(true);
    const entry = logOnClose(client, 'TLS', opts.accessLog);
    peekClientHello(client, opts, port.name, entry, (sni, hello) => {
      if (sni === undefined) {
        if (opts.metrics) opts.metrics.l4Route(undefined, undefined, undefined, false).refused.v++;
        entry.refused = 'ClientHello without SNI';
        opts.log(`tls ${port.name}: ClientHello without SNI; closing client`);
        return closeCleanly(client);
      }
      entry.sni = sni;
      routes.route(client, sni, hello, entry);
    });
  });

  await listenTcp(server, port.address, port.port, port.name);
  return {
    update(p, c) {
      routes.update(p, c);
    },
    async close(graceMs = 0) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await conns.drain(graceMs);
      await closed;
    },
  };
}

function routeConnection(
  client: net.Socket,
  sni: string,
  hello: Buffer,
  refuse: (why: string) => void,
  log: L4LogEntry,
  state: State,
  picker: BackendPicker,
  port: Port,
  opts: ResolvedL4Options,
): void {
  // Captured now: a later update() must not move this connection.
  const { listeners, clusters: cs } = state;
  const m = opts.metrics;
  const l = listeners.lookup(sni);
  if (l === undefined) {
    if (m) m.l4Route(undefined, undefined, undefined, false).refused.v++;
    return refuse(`no listener for SNI ${sni}`);
  }
  const entry = l.routes.lookup(sni);
  if (entry === undefined) {
    if (m) m.l4Route(l.listener, undefined, undefined, false).refused.v++;
    return refuse(`no TLSRoute on ${l.listener.name} for SNI ${sni}`);
  }
  log.listener = l.listener;
  log.route = entry.source;
  const pick = picker.pick(entry.backends, cs);
  if (!pick.ok) {
    if (m) m.l4Route(l.listener, entry.source, pick.cluster, false).refused.v++;
    log.upstream = pick.cluster;
    return refuse(`${entry.source.namespace}/${entry.source.name}: ${pick.reason}`);
  }
  log.upstream = pick.cluster.name;
  const cells = m ? m.l4Route(l.listener, entry.source, pick.cluster.name, false) : undefined;
  const dial = (): Promise<net.Socket> => dialBackend(pick.endpoints, opts.connectAttempts, opts.connectTimeoutMs);
  const backendFailed = (err: Error): void => {
    if (cells) cells.refused.v++;
    log.refused = `backend ${pick.cluster.name}: ${err.message}`;
    opts.log(`tls ${port.name}: backend ${pick.cluster.name}: ${err.message}; closing client`);
  };

  if (l.certs === undefined) {
    dial().then(
      (backend) => {
        if (client.destroyed) return void backend.destroy();
        log.endpoint = endpointOf(backend);
        if (cells) countConnection(client, cells);
        backend.write(hello);
        splice(client, backend);
        client.resume();
      },
      (err: Error) => {
        backendFailed(err);
        closeCleanly(client);
      },
    );
    return;
  }

  const ctx = l.certs.select(sni);
  if (ctx === undefined) return refuse(`listener ${l.listener.name} has no usable certificate`);
  client.unshift(hello);
  const secure = new tls.TLSSocket(client, { isServer: true, secureContext: ctx });
  // The handshake gets its own deadline; a client stalling after its hello is cut.
  const handshake = setTimeout(() => secure.destroy(), opts.helloTimeoutMs);
  handshake.unref();
  // A handshake failure: an error, or a close (a client rejecting our certificate just closes), before 'secure'.
  let handshaken = false;
  const failed = (): void => {
    if (handshaken || !m) return;
    handshaken = true;
    m.tlsFailures(port).v++;
  };
  secure.once('close', failed);
  // The client's FIN before the handshake finished (sockets here are allowHalfOpen): it cannot finish it any more.
  secure.once('end', () => {
    if (handshaken) return;
    failed();
    clearTimeout(handshake);
    secure.destroy();
  });
  secure.on('error', () => {
    failed();
    clearTimeout(handshake);
    secure.destroy();
    client.destroy();
  });
  secure.once('secure', () => {
    handshaken = true;
    clearTimeout(handshake);
    secure.pause();
    const upstreamTls = pick.cluster.tls;
    const dialTerminated = (): Promise<net.Socket> =>
      upstreamTls ? dial().then((s) => secureBackend(s, upstreamTls, opts.connectTimeoutMs)) : dial();
    dialTerminated().then(
      (backend) => {
        if (secure.destroyed) return void backend.destroy();
        log.endpoint = endpointOf(backend);
        if (cells) countConnection(client, cells);
        splice(secure, backend);
      },
      (err: Error) => {
        backendFailed(err);
        secure.end();
        setTimeout(() => secure.destroy(), 2_000).unref();
      },
    );
  });
}
