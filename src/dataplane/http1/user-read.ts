// Reads of accepted plain sockets straight into one shared buffer (what net.connect's
// `onread` option does for client sockets, which net.Server offers no way to ask for).
// Skips the Readable machinery and a Buffer per read on the hot path. Relies on net.Socket
// internals found by their symbol descriptions; when they are not there, returns false and
// the socket keeps emitting 'data' as usual.

import * as net from 'node:net';

type Sym = symbol | undefined;
let kBuffer: Sym;
let kBufferCb: Sym;
let kBufferGen: Sym;
{
  const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
  for (const s of Object.getOwnPropertySymbols(probe)) {
    if (s.description === 'kBuffer') kBuffer = s;
    else if (s.description === 'kBufferCb') kBufferCb = s;
    else if (s.description === 'kBufferGen') kBufferGen = s;
  }
  probe.destroy();
}

const SHARED = Buffer.allocUnsafe(64 * 1024);

interface UserBufferHandle {
  useUserBuffer?: (b: Uint8Array) => void;
}

/** Switch `socket` to shared-buffer reads; `cb` gets (bytes, buffer) and must copy what it keeps. */
export function readIntoShared(socket: net.Socket, cb: (n: number, buf: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle })._handle;
  if (!kBuffer || !kBufferCb || !kBufferGen || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const s = socket as unknown as Record<symbol, unknown>;
  if (s[kBuffer]) return true;
  handle.useUserBuffer(SHARED);
  s[kBuffer] = SHARED;
  s[kBufferGen] = null;
  s[kBufferCb] = (n: number, buf: Buffer): boolean => {
    cb(n, buf);
    return true;
  };
  return true;
}
