// Keep-alive pools of upstream HTTP/1.1 sockets, keyed by endpoint (+ TLS settings), shared
// by every config so sockets survive applies. One UpstreamConn per socket with its listeners
// bound once; the request currently using it is its `owner`, so no closure per request.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { RuntimeCluster } from './cluster.js';
import type { DrainOwner } from '../http1/direct-write.js';
import { upstreamTlsOptions } from './tls-loader.js';
import { clock } from '../clock.js';

export interface UpstreamOwner {
  /** Bytes buf[0..n) arrived; with `up.ephemeral`, buf is only valid during the call. */
  upData(up: UpstreamConn, buf: Buffer, n: number): void;
  upDrain(up: UpstreamConn): void;
  /** The socket closed (error or end) while owned. */
  upClose(up: UpstreamConn, err: Error | undefined): void;
}

/** Idle sockets older than this (stamped by the coarse clock: up to a second less) are closed: below the 5 s keep-alive timeout of Node servers and the common defaults elsewhere. */
const IDLE_MS = 4000;
const MAX_IDLE_PER_KEY = 256;

/**
 * Plain pooled sockets read into this one buffer (net `onread`): no Buffer per read and no
 * stream machinery. A chunk handed to upData() is then only valid during the call; owners
 * check `ephemeral` and copy what they keep.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class UpstreamConn implements DrainOwner {
  owner: UpstreamOwner | null = null;
  ephemeral = false;
  /** Served at least one request before the current one (a stale socket may be retried). */
  reused = false;
  lastUsed = 0;
  err: Error | undefined = undefined;
  closed = false;

  constructor(readonly socket: net.Socket, readonly key: string, private readonly pool: Pool) {
    socket.setNoDelay(true);
    pool.open.set(key, (pool.open.get(key) ?? 0) + 1);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    // A half-closed upstream is treated as closed: we never send after its FIN.
    socket.on('end', this.onEnd);
  }

  onRead = (n: number, buf: Buffer): void => {
    if (this.owner) this.owner.upData(this, buf, n);
    else this.socket.destroy(); // bytes on an idle keep-alive socket: it cannot be reused safely
  };

  private onData = (chunk: Buffer): void => {
    if (this.owner) this.owner.upData(this, chunk, chunk.length);
    else this.socket.destroy();
  };
  private onDrain = (): void => {
    this.owner?.upDrain(this);
  };
  directDrained(): void {
    this.onDrain();
  }
  private onError = (err: Error): void => {
    this.err = err;
  };
  private onEnd = (): void => {
    this.socket.destroy();
  };
  private onClose = (): void => {
    this.closed = true;
    const n = (this.pool.open.get(this.key) ?? 1) - 1;
    if (n > 0) this.pool.open.set(this.key, n);
    else this.pool.open.delete(this.key);
    this.pool.forget(this);
    const o = this.owner;
    this.owner = null;
    if (o) o.upClose(this, this.err);
  };

  destroy(): void {
    this.owner = null;
    this.socket.destroy();
  }
}

export class Pool {
  private idle = new Map<string, UpstreamConn[]>();
  /** Open sockets per pool key (idle and carrying a request), for the pool-use gauges. */
  readonly open = new Map<string, number>();
  private sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** A socket for endpoint `i` of `cluster`, idle one first. The owner is attached before returning. */
  acquire(cluster: RuntimeCluster, i: number, owner: UpstreamOwner): UpstreamConn {
    const key = cluster.key(i);
    const list = this.idle.get(key);
    while (list && list.length) {
      const up = list.pop()!;
      if (up.closed || up.socket.destroyed) continue;
      up.owner = owner;
      up.reused = true;
      return up;
    }
    const ep = cluster.endpoints[i]!;
    if (cluster.tls) {
      const socket = tls.connect({ host: ep.address, port: ep.port, ...upstreamTlsOptions(cluster.tls), ALPNProtocols: ['http/1.1'] });
      const up = new UpstreamConn(socket, key, this);
      up.owner = owner;
      return up;
    }
    let up: UpstreamConn | null = null;
    const socket = net.connect({
      host: ep.address,
      port: ep.port,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          up!.onRead(n, buf as Buffer);
          return true;
        },
      },
    });
    up = new UpstreamConn(socket, key, this);
    up.ephemeral = true;
    up.owner = owner;
    return up;
  }

  /** A new, unpooled socket (WebSocket upgrades, retries). */
  fresh(cluster: RuntimeCluster, i: number, owner: UpstreamOwner): UpstreamConn {
    const ep = cluster.endpoints[i]!;
    const socket = cluster.tls
      ? tls.connect({ host: ep.address, port: ep.port, ...upstreamTlsOptions(cluster.tls), ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: ep.address, port: ep.port });
    const up = new UpstreamConn(socket, cluster.key(i), this);
    up.owner = owner;
    return up;
  }

  release(up: UpstreamConn): void {
    up.owner = null;
    if (up.closed || up.socket.destroyed) return;
    let list = this.idle.get(up.key);
    if (!list) this.idle.set(up.key, (list = []));
    if (list.length >= MAX_IDLE_PER_KEY) {
      up.socket.destroy();
      return;
    }
    up.lastUsed = clock.now;
    list.push(up);
  }

  /** Idle sockets for one pool key (metrics). */
  idleCount(key: string): number {
    return this.idle.get(key)?.length ?? 0;
  }

  forget(up: UpstreamConn): void {
    const list = this.idle.get(up.key);
    if (!list) return;
    const i = list.indexOf(up);
    if (i >= 0) list.splice(i, 1);
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const [key, list] of this.idle) {
      // Oldest first: the list is a stack, so stale sockets sit at the bottom.
      while (list.length && list[0]!.lastUsed < cutoff) list.shift()!.socket.destroy();
      if (!list.length) this.idle.delete(key);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const up of list) up.socket.destroy();
    this.idle.clear();
  }
}
