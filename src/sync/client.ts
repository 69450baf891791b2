// The config stream's client, run by `portico dataplane`: connects to the controller over
// TLS-PSK as its Gateway, applies each snapshot (or the IR each delta makes) through `apply`
// (one at a time, collapsing a burst to the newest), ACKs or NACKs it, and reconnects with
// exponential backoff and jitter whenever the stream breaks. What was applied keeps serving
// while the controller is away.

import tls from 'node:tls';
import type { IR } from '../ir/types.js';
import type { UnboundPort } from '../dataplane/engine-api.js';
import { scrubSecrets } from '../ir/redact.js';
import { codeOf, SyncError } from './errors.js';
import { encodeFrame, FrameReader, MAX_SERVER_FRAME } from './frames.js';
import { parseServerMessage, SYNC_ALPN, type ClientMessage, type DeltaMessage, type SnapshotMessage } from './protocol.js';
import { DeltaDecoder } from '../dataplane/ir-delta.js';
import { assemble, entriesOf, irOf, type ConfigEntries } from './snapshot.js';
import { IRChecker } from './validate.js';

export interface SyncClientOptions {
  host: string;
  port: number;
  /** `namespace/name`: the PSK identity and the config asked for. */
  gateway: string;
  /** Reported to the controller (POD_NAME). */
  pod?: string;
  /** The Gateway's key, read again on every connect (a rotated Secret needs no restart). */
  key(): Promise<Buffer>;
  /** Serve this IR; throw to refuse it (NACK, the previous config keeps serving). */
  apply(ir: IR, applied: AppliedVersion): Promise<{ unbound: UnboundPort[] }>;
  log?: (level: 'error' | 'warn' | 'info', line: string) => void;
  /** Reconnect delay: `initialMs` doubling up to `maxMs`, each drawn from [50 %, 100 %] of that. Defaults 200 ms, 10 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** No frame (pings come every 10 s) for this long: the stream is dead, reconnect. Default 35 s. */
  idleTimeoutMs?: number;
  /** Ask for `delta` messages (protocol.ts DeltaMessage); default true. False: whole snapshots, as data planes before deltas did. */
  deltas?: boolean;
}

export interface AppliedVersion {
  epoch: string;
  version: number;
  hash: string;
}

export class SyncClient {
  private socket: tls.TLSSocket | undefined;
  private held: ConfigEntries | undefined;
  private current: AppliedVersion | undefined;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** A snapshot, or an IR a delta made (the decoder applied it on arrival; only the engine's apply waits its turn). */
  private pending: SnapshotMessage | { ir: IR; version: AppliedVersion } | undefined;
  /** What the deltas of this stream apply to: the controller's config, message by message, whether the engine took it or not. */
  private decoder = new DeltaDecoder();
  private readonly checker = new IRChecker();
  /** The IR last applied. */
  private lastIR: IR | undefined;
  private working: Promise<void> | undefined;
  private readonly log: (level: 'error' | 'warn' | 'info', line: string) => void;

  constructor(private readonly options: SyncClientOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** The config being served (undefined before the first successful apply). */
  get applied(): AppliedVersion | undefined {
    return this.current;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  start(): void {
    void this.connect();
  }

  /** Stops the stream (an apply in progress finishes first); what was applied stays applied. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
    await this.working;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let key: Buffer;
    try {
      key = await this.options.key();
    } catch (e) {
      this.log('error', `sync: ${(e as Error).message}`);
      return this.reconnect();
    }
    if (this.closed) return;
    const { host, port, gateway } = this.options;
    const socket = tls.connect({
      host,
      port,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [SYNC_ALPN],
      pskCallback: () => ({ psk: key, identity: gateway }),
      checkServerIdentity: () => undefined, // the PSK authenticates the server; a certificate is refused below
    });
    this.socket = socket;
    const idleMs = this.options.idleTimeoutMs ?? 35_000;
    socket.setTimeout(idleMs, () => {
      this.log('warn', `sync: nothing from the controller for ${idleMs} ms, reconnecting`);
      socket.destroy();
    });
    let failure = '';
    socket.on('error', (e: NodeJS.ErrnoException) => (failure = e.code ?? e.message));
    socket.once('secureConnect', () => {
      // With a PSK no certificate is exchanged; a server that shows one did not use our key.
      if (Object.keys(socket.getPeerCertificate() ?? {}).length > 0 || socket.alpnProtocol !== SYNC_ALPN) {
        failure = 'server did not authenticate with the Gateway key';
        return void socket.destroy();
      }
      const deltas = this.options.deltas ?? true;
      this.send({ type: 'hello', gateway, ...(this.options.pod ? { pod: this.options.pod } : {}), ...(this.current ? { have: this.current } : {}), ...(deltas ? { deltas } : {}) });
    });
    const reader = new FrameReader(MAX_SERVER_FRAME, (raw) => {
      const m = parseServerMessage(raw);
      if (m.type === 'error') {
        failure = `${m.code}: ${m.message}`;
        // A replica that is not the leader: another is a connection away, so no long backoff.
        if (m.code === 'SYNC_NOT_LEADER') this.attempt = Math.min(this.attempt, 2);
        return;
      }
      this.attempt = 0; // the controller answers: the next break starts the backoff afresh
      if (m.type === 'snapshot') this.enqueue(m);
      else if (m.type === 'delta') this.onDelta(m);
    });
    socket.on('data', (d: Buffer) => {
      try {
        reader.push(d);
      } catch (e) {
        failure = `${codeOf(e)}: ${(e as Error).message}`;
        socket.destroy();
      }
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (this.closed) return;
      this.log('warn', `sync: stream to ${host}:${port} closed${failure ? ` (${failure})` : ''}; ${this.current ? `still serving version ${this.current.version}` : 'no config yet'}`);
      this.reconnect();
    });
  }

  private reconnect(): void {
    if (this.closed || this.retry) return;
    const { initialMs = 200, maxMs = 10_000 } = this.options.backoff ?? {};
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt++, 30));
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, delay);
  }

  private send(m: ClientMessage): void {
    const s = this.socket;
    if (s && !s.destroyed && s.writable) s.write(encodeFrame(m));
  }

  /**
   * A delta is applied to the decoder at once, in order (each applies to the one before), so a
   * burst still collapses to the newest IR for the engine. One that applies to another version
   * than the decoder holds (a delta lost, a new controller) asks for the whole state.
   */
  private onDelta(m: DeltaMessage): void {
    if (m.gateway !== this.options.gateway) {
      this.log('error', `sync: refused version ${m.version}: SYNC_GATEWAY_MISMATCH: delta for ${m.gateway}`);
      return this.send({ type: 'nack', epoch: m.epoch, version: m.version, code: 'SYNC_GATEWAY_MISMATCH', message: `delta for ${m.gateway}` });
    }
    let ir: IR | 'resync';
    try {
      ir = this.decoder.applyDecoded(m.d);
    } catch {
      ir = 'resync';
    }
    if (ir === 'resync') {
      this.decoder = new DeltaDecoder();
      this.log('warn', `sync: version ${m.version} applies to a config this data plane does not hold; asking for the whole config`);
      return this.send({ type: 'resync', epoch: m.epoch, version: m.version });
    }
    this.held = undefined; // the entries of an older whole snapshot: what the decoder holds is newer
    // The whole state on a reconnect or from a new controller is hashed as a snapshot is, so the same
    // config is acknowledged without applying it again; a delta's IR is not (that would cost what
    // deltas save), nor the first config, which has nothing to match (hashing 10 MB delayed serving).
    const whole = (m.d as { base?: unknown }).base === 0;
    this.enqueue({ ir, version: { epoch: m.epoch, version: m.version, hash: whole && this.current ? entriesOf(ir).hash : '' } });
  }

  /** Snapshots are applied one at a time; while one applies, only the newest waiting one is kept. */
  private enqueue(m: SnapshotMessage | { ir: IR; version: AppliedVersion }): void {
    this.pending = m;
    this.working ??= (async () => {
      while (this.pending && !this.closed) {
        const next = this.pending;
        this.pending = undefined;
        await this.handle(next);
      }
      this.working = undefined;
    })();
  }

  private async handle(job: SnapshotMessage | { ir: IR; version: AppliedVersion }): Promise<void> {
    if ('ir' in job) {
      const { ir, version: v } = job;
      try {
        if (v.hash && this.current && this.lastIR && v.hash === (this.current.hash || entriesOf(this.lastIR).hash)) {
          this.current = v;
          return this.send({ type: 'ack', epoch: v.epoch, version: v.version, unbound: [] });
        }
        this.checker.check(ir, this.options.gateway);
        const { unbound } = await this.options.apply(ir, v);
        this.current = v;
        this.lastIR = ir;
        this.send({ type: 'ack', epoch: v.epoch, version: v.version, unbound: unbound.map((u) => ({ port: u.port, error: u.error })) });
      } catch (e) {
        this.refuse(v, e);
      }
      return;
    }
    const m = job;
    const version: AppliedVersion = { epoch: m.epoch, version: m.version, hash: m.hash };
    try {
      if (m.gateway !== this.options.gateway) throw new SyncError('SYNC_GATEWAY_MISMATCH', `snapshot for ${m.gateway}`);
      const entries = assemble(this.held, m);
      if (this.held && this.current && entries.hash === this.current.hash) {
        // Same config (a reconnect, or a new controller computing the same thing): nothing to apply.
        this.current = version;
        return this.send({ type: 'ack', epoch: m.epoch, version: m.version, unbound: [] });
      }
      const ir = irOf(entries);
      this.checker.check(ir, this.options.gateway);
      const { unbound } = await this.options.apply(ir, version);
      this.held = entries;
      this.current = version;
      this.lastIR = ir;
      this.send({ type: 'ack', epoch: m.epoch, version: m.version, unbound: unbound.map((u) => ({ port: u.port, error: u.error })) });
    } catch (e) {
      this.refuse(version, e);
    }
  }

  private refuse(v: AppliedVersion, e: unknown): void {
    const code = codeOf(e);
    const message = scrubSecrets((e as Error).message ?? String(e));
    this.log('error', `sync: refused version ${v.version}: ${code}: ${message}${this.current ? ` (still serving version ${this.current.version})` : ''}`);
    this.send({ type: 'nack', epoch: v.epoch, version: v.version, code, message });
  }
}
