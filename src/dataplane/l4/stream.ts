// Byte-stream plumbing shared by the TCP and TLS servers: dialing a backend, splicing two
// sockets with half-close in both directions, and tracking connections for a graceful close.

import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Endpoint } from '../../ir/types.js';

/** Dials the endpoints in order until one accepts; rejects with the last error. */
export async function dialBackend(endpoints: readonly Endpoint[], attempts: number, timeoutMs: number): Promise<net.Socket> {
  let lastErr: Error = new Error('no endpoint');
  const n = Math.min(attempts, endpoints.length);
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i]!;
    try {
      return await dialOne(ep, timeoutMs);
    } catch (e) {
      lastErr = e as Error;
    }
  }
  throw lastErr;
}

function dialOne(ep: Endpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: ep.address, port: ep.port, allowHalfOpen: true });
    const timer = setTimeout(() => fail(new Error(`connect to ${ep.address}:${ep.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    }
    s.once('error', fail);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeListener('error', fail);
      s.setNoDelay(true);
      s.setKeepAlive(true, 60_000);
      resolve(s);
    });
  });
}

/**
 * Joins two streams. A FIN from one side becomes a FIN to the other while the opposite
 * direction keeps flowing (half-close); an error or abort on either side tears both down.
 */
export function splice(a: Duplex, b: Duplex): void {
  const onError = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', onError);
  b.on('error', onError);
  // Both read sides ended means both FINs were relayed: a normal close. Anything else
  // (one side destroyed or reset) must not leave the other side dangling.
  const onClose = (): void => {
    if (!(a.readableEnded && b.readableEnded)) onError();
  };
  a.once('close', onClose);
  b.once('close', onClose);
  a.pipe(b);
  b.pipe(a);
}

/** Open client connections of one server, so close(grace) can wait for them and then cut them. */
export class ConnectionSet {
  private readonly open = new Set<Duplex>();

  add(s: Duplex): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
  }

  async drain(graceMs: number): Promise<void> {
    if (this.open.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.open) s.destroy();
        resolve();
      }, graceMs);
      timer.unref();
      const check = (): void => {
        if (this.open.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const s of this.open) s.once('close', () => setImmediate(check));
    });
  }
}

/**
 * Closes a client we will not serve with a FIN rather than a reset: whatever it already
 * sent is read and discarded so the kernel has no unread bytes to answer with RST.
 */
export function closeCleanly(s: net.Socket): void {
  s.on('data', () => {});
  s.resume();
  s.end();
  // A peer that never closes its side must not pin the socket.
  setTimeout(() => s.destroy(), 2_000).unref();
}

/** listen() as a promise that names the port when it cannot bind. */
export function listenTcp(server: net.Server, address: string, port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => reject(new Error(`cannot listen on ${name}: ${e.code ?? e.message}`));
    server.once('error', onError);
    server.listen({ host: address, port }, () => {
      server.removeListener('error', onError);
      // After listening, a server-level error must never escape as an uncaught exception.
      server.on('error', () => {});
      resolve();
    });
  });
}
