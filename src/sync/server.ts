// The config stream's server, run by the controller: data planes connect over TLS-PSK
// (./credentials.ts), each is bound to the Gateway its key belongs to, and receives that
// Gateway's slice of the IR (ir/slice.ts) as a versioned snapshot whenever it changes. ACKs
// and NACKs are recorded per Gateway and pod for the controller to surface (status()).

import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IR } from '../ir/types.js';
import { sliceForGateway, sliceForGateways, type Slice } from '../ir/slice.js';
import { scrubSecrets } from '../ir/redact.js';
import { SyncError } from './errors.js';
import { encodeFrame, FrameReader, MAX_CLIENT_FRAME, rawFrame } from './frames.js';
import { DeltaEncoder } from '../dataplane/ir-delta.js';
import { parseClientMessage, SYNC_ALPN, type ClientMessage, type ServerMessage } from './protocol.js';
import { entriesOf, fullSnapshot, type ConfigEntries } from './snapshot.js';

export interface SyncServerOptions {
  /** The key of a Gateway (`namespace/name`), or undefined to refuse it (unknown Gateway). */
  keyFor(gateway: string): Buffer | undefined;
  /**
   * The Gateways a data-plane identity serves, when it is not one Gateway: a merged data plane
   * (`GatewayClass/<name>`) gets the IR of every Gateway of its class. Default: the identity itself.
   */
  membersOf?(identity: string): ReadonlySet<string> | undefined;
  host?: string; // default 0.0.0.0
  port?: number; // default 0 (any)
  /** Ping period; a data plane that hears nothing for 3 periods reconnects. Default 10 s. */
  pingMs?: number;
  /** A connection that has not said hello by then is closed. Default 10 s. */
  helloTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Whether this replica serves configs now (the leader). A data plane that says hello to one
   * that does not is refused with SYNC_NOT_LEADER and reconnects (the Service picks a replica
   * per connection); streams held when leadership is lost are closed the same way (at the next
   * publish or ping). So every ACK and NACK reaches the replica that writes status. Default: always.
   */
  serving?: () => boolean;
  /** Called for every NACK (also kept in status()). */
  onNack?: (nack: NackRecord) => void;
  /** Called for every ACK of this epoch (also kept in status()), with the ports the pod could not bind. */
  onAck?: (gateway: string, version: number, unbound: readonly { port: string; error: string }[]) => void;
}

export interface NackRecord {
  gateway: string;
  pod: string;
  epoch: string;
  version: number;
  code: string;
  message: string;
  at: Date;
}

export interface ClientStatus {
  pod: string;
  remote: string;
  connectedAt: Date;
  /** Last version this connection acknowledged, with the ports it could not bind. */
  acked?: { version: number; unbound: { port: string; error: string }[] };
  /** Last NACK of this connection, if it came after its last ACK. */
  nack?: NackRecord;
}

export interface GatewaySyncStatus {
  gateway: string;
  /** Current version of this Gateway's config in this server's epoch (0: none sent yet). */
  version: number;
  clients: ClientStatus[];
  /** Latest NACK for this Gateway by any pod, kept after it disconnects; cleared when a later version is acked. */
  lastNack?: NackRecord;
}

interface Conn {
  socket: tls.TLSSocket;
  gateway: string;
  status: ClientStatus;
  /** A newer snapshot is waiting for the socket to drain (a slow reader gets only the newest). */
  behind: boolean;
  /** It takes `delta` messages (its hello said so). */
  deltas: boolean;
  /** Its next delta message must be the whole state (just connected, asked to resync, or skipped one while behind). */
  needsWhole: boolean;
}

interface GatewayState {
  version: number;
  /** The last slice of the IR for this Gateway (ir/slice.ts cuts the next one as this one when only clusters were replaced). */
  slice?: Slice;
  /** The config as entries, while a data plane without deltas is connected. */
  entries?: ConfigEntries;
  /**
   * The config as IR deltas, while a data plane that takes them is connected. The newest delta
   * message is not kept: it goes out as it is made, and whoever missed it gets the whole state
   * (the first message after start-up is the whole state, 10 MB at 10,000 routes).
   */
  encoder?: DeltaEncoder;
  /**
   * Until then (ms epoch) the encoder is kept with no data plane connected: one was just
   * provisioned (expect()), and its first message should not wait for a whole-state encode.
   */
  expectedUntil?: number;
  conns: Set<Conn>;
  lastNack?: NackRecord;
}

/** How long expect() keeps a Gateway's encoder for a data plane that has not connected yet. */
const EXPECT_MS = 60_000;

const NOT_LEADER = 'this controller replica is not the leader; only the leader serves configs: reconnect';

/** Whether a write to `s` can still go anywhere. */
const writable = (s: tls.TLSSocket): boolean => !s.destroyed && s.writable;

export class SyncServer {
  /** This server instance: versions are numbered per epoch. */
  readonly epoch = randomBytes(8).toString('hex');
  private readonly server: tls.Server;
  private readonly identities = new WeakMap<object, string>();
  private readonly gateways = new Map<string, GatewayState>();
  private readonly sockets = new Set<tls.TLSSocket>();
  /** Sockets still draining a write they could not take at once, and when they have (flushed()). */
  private readonly flushing = new Map<tls.TLSSocket, Promise<void>>();
  /** The sockets the last publish() left draining. */
  private writtenByPublish: tls.TLSSocket[] = [];
  private ir: IR | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SyncServerOptions) {
    this.log = options.log ?? (() => undefined);
    this.server = tls.createServer({
      minVersion: 'TLSv1.3',
      ALPNProtocols: [SYNC_ALPN],
      pskCallback: (socket: tls.TLSSocket, identity: string) => {
        const key = options.keyFor(identity);
        if (!key) return null;
        this.identities.set(socket, identity);
        return key;
      },
    });
    this.server.on('secureConnection', (s) => this.onConnection(s));
    this.server.on('tlsClientError', (e: NodeJS.ErrnoException, s) => {
      this.log(`sync: handshake refused from ${s.remoteAddress ?? '?'}: ${e.code ?? e.message}`);
      s.destroy();
    });
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '0.0.0.0', () => resolve());
    });
    const ping = this.options.pingMs ?? 10_000;
    this.pinger = setInterval(() => {
      if (this.dropIfNotServing()) return;
      for (const s of this.sockets) if (this.identities.has(s)) this.write(s, { type: 'ping' });
    }, ping);
    this.pinger.unref();
    return this.server.address() as AddressInfo;
  }

  /**
   * The controller's latest full IR: every Gateway whose slice changed gets a new version, sent
   * to its connected data planes. Nothing is sent before the first publish, so a controller that
   * is still starting never hands a data plane an empty config.
   */
  publish(ir: IR): void {
    this.ir = ir;
    this.writtenByPublish = [];
    if (this.dropIfNotServing()) return;
    for (const [gateway, st] of this.gateways) {
      // No data plane connected: forget the config (memory), keep the version number, so a
      // version never names two different configs within this epoch (deltas will rely on it).
      if (st.conns.size === 0 && !expecting(st)) {
        delete st.entries;
        delete st.encoder;
        delete st.slice;
      } else this.refresh(gateway, st);
    }
  }

  /**
   * A data plane for `gateway` is on its way (the provisioner has just applied its Deployment):
   * encode its whole state now, while the cluster starts the pod, so the pod's first message
   * goes out as soon as it connects. Kept for EXPECT_MS or until a data plane connects.
   */
  expect(gateway: string): void {
    const st = this.state(gateway);
    st.expectedUntil = Date.now() + EXPECT_MS;
    if (!st.encoder && this.ir && !this.dropIfNotServing()) this.refresh(gateway, st);
  }

  status(gateway: string): GatewaySyncStatus {
    const st = this.gateways.get(gateway);
    return {
      gateway,
      version: st?.version ?? 0,
      clients: st ? [...st.conns].map((c) => ({ ...c.status })) : [],
      ...(st?.lastNack ? { lastNack: st.lastNack } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Not serving (leadership lost): every stream is told so and closed. True when not serving. */
  private dropIfNotServing(): boolean {
    if (this.options.serving?.() ?? true) return false;
    for (const st of this.gateways.values()) {
      for (const c of st.conns) {
        this.write(c.socket, { type: 'error', code: 'SYNC_NOT_LEADER', message: NOT_LEADER });
        c.socket.end();
        setTimeout(() => c.socket.destroy(), 1000).unref();
      }
      st.conns.clear();
    }
    return true;
  }

  private state(gateway: string): GatewayState {
    let st = this.gateways.get(gateway);
    if (!st) this.gateways.set(gateway, (st = { version: 0, conns: new Set() }));
    return st;
  }

  private refresh(gateway: string, st: GatewayState): void {
    if (!this.ir) return;
    const members = this.options.membersOf?.(gateway);
    const slice = members ? sliceForGateways(this.ir, members, st.slice) : sliceForGateway(this.ir, gateway, st.slice);
    st.slice = { from: this.ir, gateways: members ?? new Set([gateway]), ir: slice };
    let delta: string | undefined;
    let entriesChanged = false;
    // Each form is kept only while a data plane takes it: the entries hash every port and cluster
    // (a 10,000-route port is megabytes of JSON), the encoder costs what changed.
    if (expecting(st) || [...st.conns].some((c) => c.deltas)) {
      const fresh = !st.encoder;
      st.encoder ??= new DeltaEncoder();
      const d = st.encoder.encode(slice);
      if (!d.empty) delta = d.text;
      // A new encoder's first message is the whole state: what every data plane that takes deltas needs now.
      if (fresh) for (const c of st.conns) c.needsWhole = false;
    } else delete st.encoder;
    if ([...st.conns].some((c) => !c.deltas)) {
      const entries = entriesOf(slice);
      if (st.entries?.hash !== entries.hash) (st.entries = entries), (entriesChanged = true);
    } else delete st.entries;
    if (delta === undefined && !entriesChanged) return;
    st.version++;
    // Only the form that changed goes out: a form just made for a newcomer (the other form's data
    // planes hold this config already) is no change to the others.
    for (const c of st.conns) if (c.deltas ? delta !== undefined : entriesChanged) this.sendSnapshot(c, st, delta);
  }

  /** `delta`: the message just made for the newest version (absent: the connection gets the whole state). */
  private sendSnapshot(c: Conn, st: GatewayState, delta?: string): void {
    if (c.deltas ? !st.encoder : !st.entries) return;
    // A slow reader (its socket past the high-water mark): send the newest once it drains, skip
    // those between. Only a write that returned false is followed by 'drain': a small frame still
    // in the buffer (a ping, the previous snapshot, flushed at the next turn of the loop) is not,
    // and a snapshot left waiting for it was never sent (test/sync/pending-write.test.ts).
    if (c.socket.writableNeedDrain) {
      if (!c.behind) c.socket.once('drain', () => {
        c.behind = false;
        this.sendSnapshot(c, st);
      });
      c.behind = true;
      c.needsWhole = true;
      return;
    }
    if (!writable(c.socket)) return;
    let frame: Buffer;
    if (c.deltas) {
      // Between this and the last delta it got, the connection may have missed some: then the whole state.
      const text = c.needsWhole || delta === undefined ? st.encoder!.full()! : delta;
      c.needsWhole = false;
      const head = `{"type":"delta","gateway":${JSON.stringify(c.gateway)},"epoch":${JSON.stringify(this.epoch)},"version":${st.version},"d":`;
      frame = rawFrame(`${head}${text}}`);
    } else frame = encodeFrame(fullSnapshot(c.gateway, this.epoch, st.version, st.entries!));
    c.socket.write(frame);
    this.trackFlush(c.socket);
  }

  private write(s: tls.TLSSocket, m: ServerMessage): void {
    if (writable(s)) s.write(encodeFrame(m));
  }

  /** A write the socket could not take at once (a whole state): flushed() waits for it. */
  private trackFlush(s: tls.TLSSocket): void {
    if (!s.writableNeedDrain) return;
    this.writtenByPublish.push(s);
    if (this.flushing.has(s)) return;
    this.flushing.set(
      s,
      new Promise<void>((resolve) => {
        const done = (): void => {
          s.off('drain', done);
          s.off('close', done);
          this.flushing.delete(s);
          resolve();
        };
        s.on('drain', done);
        s.on('close', done);
      }),
    );
  }

  /**
   * Resolves once every connection has taken what the last publish() wrote to it, or after `maxMs`. A delta
   * is taken at once, and then this is already resolved; a whole state (6-10 MB at 10,000
   * routes) goes out only while no JavaScript runs, so a caller with more work to do after a
   * publish (the controller's statuses) lets it go first: the pod has its first config sooner.
   */
  flushed(maxMs: number): Promise<void> {
    // Only what the last publish() wrote: a pod that stopped reading earlier is sent nothing more
    // (sendSnapshot), and must not hold every later rebuild to the bound.
    const waits = this.writtenByPublish.flatMap((s) => this.flushing.get(s) ?? []);
    if (waits.length === 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, maxMs)));
    return Promise.race([Promise.all(waits).then(() => undefined), bound]).finally(() => clearTimeout(timer));
  }

  private onConnection(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.setKeepAlive(true, 10_000);
    const identity = this.identities.get(socket);
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (!identity) return void socket.destroy(); // no PSK handshake: nothing for it
    let conn: Conn | undefined;
    let failed = false;
    const fail = (code: string, message: string): void => {
      if (failed) return;
      failed = true;
      this.log(`sync: ${remote} (${identity}): ${code}: ${message}`);
      this.write(socket, { type: 'error', code, message });
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const helloTimer = setTimeout(() => fail('SYNC_HELLO_TIMEOUT', 'no hello'), this.options.helloTimeoutMs ?? 10_000);
    const reader = new FrameReader(MAX_CLIENT_FRAME, (raw) => {
      const m = parseClientMessage(raw);
      if (!conn) {
        if (m.type !== 'hello') throw new SyncError('SYNC_BAD_MESSAGE', `${m.type} before hello`);
        clearTimeout(helloTimer);
        if (m.gateway !== identity)
          throw new SyncError('SYNC_GATEWAY_MISMATCH', `this key belongs to Gateway ${identity}, not ${m.gateway}`);
        if (!(this.options.serving?.() ?? true)) throw new SyncError('SYNC_NOT_LEADER', NOT_LEADER);
        conn = { socket, gateway: identity, status: { pod: m.pod ?? remote, remote, connectedAt: new Date() }, behind: false, deltas: m.deltas === true, needsWhole: true };
        const st = this.state(identity);
        st.conns.add(conn);
        delete st.expectedUntil;
        this.log(`sync: ${conn.status.pod} connected for Gateway ${identity}${m.have ? ` (serving ${m.have.epoch === this.epoch ? '' : 'epoch ' + m.have.epoch + ' '}version ${m.have.version})` : ''}`);
        if (conn.deltas ? st.encoder : st.entries) this.sendSnapshot(conn, st);
        else this.refresh(identity, st);
        return;
      }
      this.onReply(conn, m);
    });
    socket.on('data', (d: Buffer) => {
      if (failed) return; // closing: nothing more is read
      try {
        reader.push(d);
      } catch (e) {
        const err = e instanceof SyncError ? e : new SyncError('SYNC_BAD_MESSAGE', (e as Error).message);
        fail(err.code, err.message);
      }
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      this.sockets.delete(socket);
      if (conn) {
        this.gateways.get(conn.gateway)?.conns.delete(conn);
        this.log(`sync: ${conn.status.pod} disconnected (Gateway ${conn.gateway})`);
      }
    });
  }

  private onReply(c: Conn, m: ClientMessage): void {
    if (m.type === 'hello') throw new SyncError('SYNC_BAD_MESSAGE', 'second hello');
    if (m.epoch !== this.epoch) return; // about a previous controller's version: nothing to record
    const st = this.state(c.gateway);
    if (m.type === 'resync') {
      this.log(`sync: ${c.status.pod} asked for the whole config of Gateway ${c.gateway} (version ${m.version})`);
      c.needsWhole = true;
      return this.sendSnapshot(c, st);
    }
    if (m.type === 'ack') {
      c.status.acked = { version: m.version, unbound: m.unbound.map((u) => ({ port: String(u.port), error: String(u.error) })) };
      if (c.status.nack && c.status.nack.version <= m.version) delete c.status.nack;
      if (st.lastNack && st.lastNack.version <= m.version) delete st.lastNack;
      this.options.onAck?.(c.gateway, m.version, c.status.acked.unbound);
      return;
    }
    const nack: NackRecord = { gateway: c.gateway, pod: c.status.pod, epoch: m.epoch, version: m.version, code: m.code.slice(0, 64), message: scrubSecrets(m.message).slice(0, 2000), at: new Date() };
    c.status.nack = nack;
    st.lastNack = nack;
    this.log(`sync: ${nack.pod} refused version ${nack.version} of Gateway ${nack.gateway}: ${nack.code}: ${nack.message}`);
    this.options.onNack?.(nack);
  }
}

const expecting = (st: GatewayState): boolean => st.expectedUntil !== undefined && Date.now() < st.expectedUntil;
