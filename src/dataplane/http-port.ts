// One listening socket for an IR Port with protocol HTTP or HTTPS. HTTP sniffs the HTTP/2
// connection preface (prior knowledge h2c); HTTPS terminates TLS with the certificate picked
// by SNI and hands the socket to HTTP/2 or HTTP/1.1 by ALPN. update() swaps tables without
// touching the socket; close() stops accepting and drains.
//
// Mixed mode: an HTTPS port that also carries TLS listeners (translate/ir.ts, name `/HTTPS+TLS`)
// listens with a plain socket, peeks each ClientHello (l4/tls.ts), and sends the connection to
// the TLS listener that owns its SNI (passthrough or terminate, as on a TLS port) or else into
// the HTTPS server. A port without TLS listeners keeps node:tls listening directly: the HTTPS
// accept path pays nothing for the feature.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type * as http2 from 'node:http2';
import type { Port } from '../ir/types.js';
import type { RuntimeConfig } from './config.js';
import type { PortContext, Shared } from './context.js';
import { Http1Conn } from './http1/connection.js';
import { startIdleSweep } from './http1/idle.js';
import { createH2Server } from './http2/server.js';
import type { PortRouter } from './router/tables.js';
import { CertSelector } from './tls/certs.js';
import { hostnameMatches } from './router/host.js';
import { TLSRoutes, peekClientHello } from './l4/tls.js';
import { logOnClose, type L4LogEntry } from './l4/access-log.js';
import { resolveOptions as resolveL4Options, type ResolvedL4Options } from './l4/options.js';

export class HttpPort implements PortContext {
  readonly listenerPort: number;
  readonly scheme: 'http' | 'https';
  cfg: RuntimeConfig;
  router: PortRouter;
  draining = false;
  private server: net.Server;
  private conns = new Set<Http1Conn>();
  private h2server: http2.Http2Server | null = null;
  private h2sessions = new Set<http2.Http2Session>();
  /** close() was called: new connections are refused. */
  private closing = false;
  private certs: CertSelector;
  /** The default certificate, key and CA the TLS server was last given (update() compares). */
  private defaultKey = '';
  private sockets = new Set<net.Socket>();
  private sweeper: NodeJS.Timeout;
  /** HTTPS: the node:tls server (the listening one, except in mixed mode, where connections are fed to it). */
  private tlsServer: tls.Server | null = null;
  /** Mixed mode: the port's TLS listeners, and the L4 settings they run with. */
  private tlsRoutes: TLSRoutes | null = null;
  private l4: ResolvedL4Options | null = null;

  constructor(
    public port: Port,
    cfg: RuntimeConfig,
    readonly shared: Shared,
  ) {
    this.listenerPort = port.port;
    this.scheme = port.protocol === 'HTTPS' ? 'https' : 'http';
    this.cfg = cfg;
    this.router = cfg.routers.get(port.name)!;
    this.certs = new CertSelector(port);
    this.sweeper = startIdleSweep(this.conns, shared.opts.idleTimeoutMs);
    if (this.scheme === 'https') {
      const def = this.certs.defaultCert;
      const ca = this.certs.defaultCaPem;
      const srv = tls.createServer({
        ...(def ? { cert: def.certPem, key: def.keyPem } : {}),
        ...(ca ? { ca } : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
        // Verification failures are judged per listener after the handshake (onSecure): the
        // listener the SNI selects may validate clients, allow insecure fallback, or not ask.
        requestCert: this.certs.requestCert,
        rejectUnauthorized: false,
        SNICallback: (name, cb) => cb(null, this.certs.context(name)),
        handshakeTimeout: shared.opts.requestHeadTimeoutMs,
      });
      this.defaultKey = this.defaultContextKey();
      srv.on('secureConnection', (s: tls.TLSSocket) => this.onSecure(s));
      srv.on('tlsClientError', () => {
        const m = this.shared.opts.metrics;
        if (m) m.port(this.port).tlsFailures.v++;
      });
      this.tlsServer = srv;
      if (port.listeners.some((l) => l.protocol === 'TLS')) {
        this.l4 = resolveL4Options({ accessLog: shared.opts.accessLog, metrics: shared.opts.metrics ?? undefined });
        this.tlsRoutes = new TLSRoutes(port, cfg.ir.clusters, this.l4);
        this.server = net.createServer({ allowHalfOpen: true }, (s) => this.onMixed(s));
      } else this.server = srv;
    } else {
      // Half-open: a client that shuts down its side after the request still gets the response.
      this.server = net.createServer({ allowHalfOpen: true }, (s) => this.onPlain(s));
    }
    this.server.on('error', () => undefined);
    // Track at TCP level: a TLS socket that never finishes its handshake still holds server.close().
    this.server.on('connection', (s: net.Socket) => this.track(s));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`port ${this.port.name}: cannot listen: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen({ host: this.port.address, port: this.port.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** The port number actually bound (differs from the IR when it asked for 0, in tests). */
  boundPort(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.port.port;
  }

  update(port: Port, cfg: RuntimeConfig): void {
    this.port = port;
    this.cfg = cfg;
    this.router = cfg.routers.get(port.name)!;
    if (this.scheme === 'https') {
      this.certs = new CertSelector(port);
      this.tlsRoutes?.update(port, cfg.ir.clusters);
      // Read by node:tls for each new connection, so a changed frontend validation applies at once.
      (this.tlsServer as tls.Server & { requestCert: boolean }).requestCert = this.certs.requestCert;
      const def = this.certs.defaultCert;
      const ca = this.certs.defaultCaPem;
      // Parsing the PEMs again costs ~0.5 ms per apply: only when the default certificate changed (a route change keeps it).
      const key = this.defaultContextKey();
      if (def && key !== this.defaultKey) {
        try {
          this.tlsServer!.setSecureContext({ cert: def.certPem, key: def.keyPem, ...(ca ? { ca } : {}), ALPNProtocols: ['h2', 'http/1.1'] } as tls.SecureContextOptions);
          this.defaultKey = key;
        } catch {
          // keep the previous default certificate
        }
      }
    }
  }

  /** What the TLS server's default context is made from ('' when there is no default certificate). */
  private defaultContextKey(): string {
    const def = this.certs.defaultCert;
    return def ? `${def.certPem}\0${def.keyPem}\0${this.certs.defaultCaPem ?? ''}` : '';
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    const m = this.shared.opts.metrics;
    if (m) {
      const cells = m.port(this.port);
      cells.connections.v++;
      cells.connectionsTotal.v++;
      s.once('close', () => {
        this.sockets.delete(s);
        cells.connections.v--;
      });
    } else s.once('close', () => this.sockets.delete(s));
  }

  private onPlain(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    socket.on('error', () => undefined);
    const conn = this.http1(socket);
    conn.useSharedReads(true);
    // The first bytes may be the HTTP/2 preface (prior-knowledge h2c): the connection checks.
    conn.sniffH2((s, first) => {
      s.pause();
      s.unshift(first);
      this.toH2(s);
    });
  }

  /** Mixed mode: by the ClientHello's SNI, to a TLS listener, else into HTTPS (no SNI: HTTPS, its default certificate). */
  private onMixed(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    socket.on('error', () => socket.destroy());
    const l4 = this.l4!;
    const peeking: L4LogEntry = { protocol: 'TLS' };
    peekClientHello(socket, l4, this.port.name, peeking, (sni, hello) => {
      const routes = this.tlsRoutes!;
      if (sni !== undefined && this.ownerIsTLS(sni)) {
        socket.setNoDelay(true);
        routes.route(socket, sni, hello, logOnClose(socket, 'TLS', l4.accessLog, sni));
        return;
      }
      socket.unshift(hello);
      this.tlsServer!.emit('connection', socket);
    });
  }

  /** Whether the SNI's most specific listener on this port is a TLS one (exact beats wildcard beats none, across both protocols). */
  private ownerIsTLS(sni: string): boolean {
    const host = sni.toLowerCase();
    // The IR lists the port's listeners most specific first; the first that matches owns the name.
    for (const l of this.port.listeners) if (hostnameMatches(l.hostname, host)) return l.protocol === 'TLS';
    return false;
  }

  private onSecure(socket: tls.TLSSocket): void {
    if (this.closing) return void socket.destroy();
    socket.on('error', () => undefined);
    // AllowValidOnly: a client without a certificate the listener's CA signed gets no HTTP at all.
    const v = this.certs.validation(typeof socket.servername === 'string' ? socket.servername : '');
    if (v && v.mode === 'AllowValidOnly' && !socket.authorized) return void socket.destroy();
    if (socket.alpnProtocol === 'h2') this.toH2(socket);
    else this.http1(socket).useSharedReads(false);
  }

  private http1(socket: net.Socket): Http1Conn {
    const conn = new Http1Conn(socket, this, (c) => this.conns.delete(c));
    this.conns.add(conn);
    return conn;
  }

  /** h2c and ALPN h2 alike: one node:http2 server per port, every limit set in createH2Server. */
  private toH2(socket: net.Socket): void {
    if (!this.h2server) {
      this.h2server = createH2Server(this);
      this.h2server.on('session', (s: http2.Http2Session) => {
        this.h2sessions.add(s);
        s.on('close', () => this.h2sessions.delete(s));
        if (this.draining) s.close();
      });
    }
    this.h2server.emit('connection', socket);
  }

  /** Stop accepting; in-flight requests finish; after `graceMs` everything left is destroyed. */
  /**
   * Shutdown has begun (the data plane got SIGTERM) but the port keeps accepting: each HTTP/1.1
   * connection ends after its next response (`connection: close`) and HTTP/2 sessions get
   * GOAWAY, so clients reconnect, through their load balancer, to other endpoints while this one
   * still answers. Idle connections are left alone: closing one races a request the client may be
   * sending on it, and close() ends whatever is still idle by then.
   */
  drain(): void {
    this.draining = true;
    for (const s of this.h2sessions) s.close();
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.draining = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.conns) c.drain();
    for (const s of this.h2sessions) s.close();
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    for (const s of this.h2sessions) s.destroy();
    await closed;
    clearInterval(this.sweeper);
  }
}
