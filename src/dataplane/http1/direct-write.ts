// Writes to plain TCP sockets go straight to the libuv handle when the socket's Writable has
// nothing queued: on the fast path almost every write is taken whole by the kernel, and the
// stream machinery around it (state checks, a WriteWrap plus a nextTick per write, callbacks)
// costs more than the syscall's own bookkeeping. Ordering stays right because libuv queues a
// write behind any unfinished one, and we fall back to socket.write whenever the Writable holds
// data, is corked, or the socket is still connecting.
//
// Like user-read.ts this leans on Node internals: the handle's writeBuffer/writeLatin1String
// and the WriteWrap constructor, captured from the first ordinary write. Until then, or when
// they are missing, every write is a plain socket.write.

import type * as net from 'node:net';
import type { UpstreamConn } from '../upstream/pool.js';

/** Told when a write that did not complete at once has been flushed (the 'drain' of direct writes). */
export interface DrainOwner {
  directDrained(): void;
}

interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  buffer: Buffer | string | null;
  async: boolean;
  bytes: number;
  owner: DrainOwner | null;
  socket: net.Socket | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
  readonly writeQueueSize: number;
}

interface SocketInternals {
  _handle: StreamHandle | null;
  connecting: boolean;
  destroyed: boolean;
  writableLength: number;
  writableCorked: number;
  writableEnded: boolean;
}

let WriteWrap: (new () => WriteReq) | null = null;
let hooked = false;

/** Install one-shot hooks on a live handle that record the WriteWrap constructor of the next write. */
function capture(h: StreamHandle): void {
  if (hooked) return;
  const proto = Object.getPrototypeOf(h) as StreamHandle;
  if (typeof proto.writeBuffer !== 'function' || typeof proto.writeLatin1String !== 'function') return;
  hooked = true;
  const own = h as unknown as Record<string, unknown>;
  const done = (req: WriteReq): void => {
    delete own.writeBuffer;
    delete own.writeLatin1String;
    const C = req && (req as { constructor?: unknown }).constructor;
    if (typeof C === 'function' && (C as { name?: string }).name === 'WriteWrap') WriteWrap = C as new () => WriteReq;
  };
  own.writeBuffer = function (this: StreamHandle, req: WriteReq, data: Buffer): number {
    done(req);
    return proto.writeBuffer.call(this, req, data);
  };
  own.writeLatin1String = function (this: StreamHandle, req: WriteReq, data: string): number {
    done(req);
    return proto.writeLatin1String.call(this, req, data);
  };
}

function onComplete(this: WriteReq, status: number): void {
  const socket = this.socket!;
  const owner = this.owner!;
  this.socket = null;
  this.owner = null;
  this.buffer = null;
  if (status < 0) socket.destroy();
  // Told even when a later socket.write still sits in the queue behind this one: that write was
  // under the Writable's high-water mark, so no 'drain' would come for it and a reader paused on
  // our account would never resume. Resuming early only means the next write reports backpressure.
  else if (!socket.destroyed) owner.directDrained();
}

/**
 * Write `data` (a string is written as latin1). Returns false when the bytes could not all be
 * handed to the kernel now: the caller applies backpressure and waits for
 * `owner.directDrained()` (direct path) or the socket's 'drain' (fallback path).
 */
export function directWrite(socket: net.Socket, data: Buffer | string, owner: DrainOwner): boolean {
  const s = socket as unknown as SocketInternals;
  const h = s._handle;
  if (WriteWrap === null || h === null || s.connecting || s.destroyed || s.writableLength !== 0 || s.writableCorked !== 0 || s.writableEnded) {
    if (WriteWrap === null && h !== null && !s.connecting) capture(h);
    return typeof data === 'string' ? socket.write(data, 'latin1') : socket.write(data);
  }
  const req = new WriteWrap();
  req.handle = h;
  req.oncomplete = onComplete;
  req.async = false;
  req.bytes = 0;
  // Kept by the request object until libuv is done with the bytes (when the write goes async).
  req.buffer = data;
  req.owner = owner;
  req.socket = socket;
  const err = typeof data === 'string' ? h.writeLatin1String(req, data) : h.writeBuffer(req, data);
  if (err !== 0) {
    socket.destroy();
    return false;
  }
  return h.writeQueueSize === 0;
}

/** A request head to an upstream socket: straight to the handle when the pool reads it into the shared buffer. */
export function writeUpstreamHead(up: UpstreamConn, head: string): void {
  if (up.ephemeral) directWrite(up.socket, head, up);
  else up.socket.write(head, 'latin1');
}
