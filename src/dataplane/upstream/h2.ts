// HTTP/2 upstream sessions (cluster protocol h2c, or h2 over TLS), one shared session per
// endpoint, multiplexing every request; a session that errors or gets GOAWAY is replaced.

import * as http2 from 'node:http2';
import type { RuntimeCluster } from './cluster.js';
import { upstreamTlsOptions } from './tls-loader.js';

export class H2Pool {
  private sessions = new Map<string, http2.ClientHttp2Session>();

  session(cluster: RuntimeCluster, i: number): http2.ClientHttp2Session {
    const key = cluster.key(i);
    const existing = this.sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const ep = cluster.endpoints[i]!;
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    const s = cluster.tls
      ? http2.connect(`https://${host}:${ep.port}`, { ...upstreamTlsOptions(cluster.tls), ALPNProtocols: ['h2'] })
      : http2.connect(`http://${host}:${ep.port}`);
    const drop = (): void => {
      if (this.sessions.get(key) === s) this.sessions.delete(key);
    };
    s.on('error', drop);
    s.on('close', drop);
    s.on('goaway', drop);
    // Idle sessions must not keep the process alive.
    s.unref();
    this.sessions.set(key, s);
    return s;
  }

  request(cluster: RuntimeCluster, i: number, headers: http2.OutgoingHttpHeaders, endStream: boolean): http2.ClientHttp2Stream {
    return this.session(cluster, i).request(headers, { endStream });
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
