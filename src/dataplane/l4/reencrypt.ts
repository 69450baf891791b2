// TLS towards a backend for a TLSRoute behind a Terminate listener whose Service has a
// BackendTLSPolicy: the cleartext the listener decrypted is encrypted again, the backend's
// certificate checked exactly as for HTTP backends (upstream/tls.ts: the policy's CA or the
// system store, its hostname as SNI and identity, or its subjectAltNames), and the Gateway's
// spec.tls.backend.clientCertificateRef presented when the cluster carries it (the translator's
// per-Gateway copy, backendtls-client.ts).

import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { UpstreamTLS } from '../../ir/types.js';
import { upstreamTlsOptions } from '../upstream/tls-loader.js';

/** The TLS client over an already connected backend socket, once its handshake has succeeded. */
export function secureBackend(socket: net.Socket, policy: UpstreamTLS, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, ...upstreamTlsOptions(policy) });
    const timer = setTimeout(() => fail(new Error(`TLS handshake with the backend did not finish within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    function fail(err: Error): void {
      clearTimeout(timer);
      secure.removeListener('secureConnect', done);
      secure.destroy();
      socket.destroy();
      reject(new Error(`TLS to backend (BackendTLSPolicy): ${err.message}`));
    }
    function done(): void {
      clearTimeout(timer);
      secure.removeListener('error', fail);
      resolve(secure);
    }
    secure.once('error', fail);
    secure.once('secureConnect', done);
  });
}
