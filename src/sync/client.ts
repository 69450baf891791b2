// The config stream's client, run by `portico dataplane`: connects to the controller over
// TLS-PSK as its Gateway, applies each snapshot through `apply` (one at a time, collapsing a
// burst to the newest), ACKs or NACKs it, and reconnects with exponential backoff and jitter
// whenever the stream breaks. What was applied keeps serving while the controller is away.

import tls from 'node:tls';
import type { IR } from '../ir/types.js';
import type { UnboundPort } from '../dataplane/engine-api.js';
import { scrubSecrets } from '../ir/redact.js';
import { codeOf, SyncError } from './errors.js';
import { encodeFrame, FrameReader, MAX_SERVER_FRAME } from './frames.js';
import { parseServerMessage, SYNC_ALPN, type ClientMessage, type SnapshotMessage } from './protocol.js';
import { assemble, irOf, type ConfigEntries } from './snapshot.js';
import { checkIR } from './validate.js';

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
  private pending: SnapshotMessage | undefined;
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
      this.send({ type: 'hello', gateway, ...(this.options.pod ? { pod: this.options.pod } : {}), ...(this.current ? { have: this.current } : {}) });
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

  /** Snapshots are applied one at a time; while one applies, only the newest waiting one is kept. */
  private enqueue(m: SnapshotMessage): void {
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

  private async handle(m: SnapshotMessage): Promise<void> {
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
      checkIR(ir, this.options.gateway);
      const { unbound } = await this.options.apply(ir, version);
      this.held = entries;
      this.current = version;
      this.send({ type: 'ack', epoch: m.epoch, version: m.version, unbound: unbound.map((u) => ({ port: u.port, error: u.error })) });
    } catch (e) {
      const code = codeOf(e);
      const message = scrubSecrets((e as Error).message ?? String(e));
      this.log('error', `sync: refused version ${m.version}: ${code}: ${message}${this.current ? ` (still serving version ${this.current.version})` : ''}`);
      this.send({ type: 'nack', epoch: m.epoch, version: m.version, code, message });
    }
  }
}
