// A worker that retries a port another process holds must not die. In a node:cluster worker a
// listen() asks the primary for the socket; on Linux bind() reports EADDRINUSE late (libuv defers
// it to listen()), so the primary hands back a handle, the worker's net.Server finds it bound to
// the wrong port and emits EADDRINUSE, and nobody closes that handle. The worker's cluster
// bookkeeping keeps it under the address's key, and the next listen() on the same address (our
// next apply retrying the unbound port) trips an internal assertion that kills the worker
// (nodejs/node#64869, Node 24 and 26; test/dataplane/workers-bind-retry.test.ts). Closing the
// handle the server did not adopt releases the key, and tells the primary to let go of it too.

import cluster from 'node:cluster';
import net from 'node:net';

type GetServer = (obj: unknown, options: unknown, cb: (errno: number, handle: unknown) => void) => void;
interface Closable {
  close?: () => void;
}

let installed = false;

/** In a cluster worker: wraps the internal `cluster._getServer` so a handle a listen() rejected is closed. */
export function releaseRejectedHandles(): void {
  const c = cluster as unknown as { _getServer?: GetServer; isWorker: boolean };
  if (installed || !c.isWorker || typeof c._getServer !== 'function') return;
  installed = true;
  const getServer = c._getServer;
  c._getServer = function (this: unknown, obj, options, cb) {
    getServer.call(this, obj, options, (errno, handle) => {
      cb(errno, handle);
      // net.Server adopts a good handle synchronously in that callback (server._handle); a UDP
      // socket reports its errors before any handle exists, so only a refused TCP handle is left.
      if (handle && obj instanceof net.Server && (obj as unknown as { _handle: unknown })._handle !== handle) {
        (handle as Closable).close?.();
      }
    });
  };
}
