// Access log lines for L4 traffic, one per TCP/TLS connection (when it closes) and one per UDP
// session (when it ends): JSON with the HTTP lines' field names (observability/access-log.ts)
// where they mean the same thing (time, gateway, listener, route, rule, backend, endpoint,
// protocol, authority = the SNI, bytes each way, duration, client), plus `refused`: why the
// connection or flow was not served (null when it was). A line per connection, not per request:
// it is built with JSON.stringify, and --access-log-fields/-format/-sample shape the HTTP lines only.

import type * as net from 'node:net';
import type { Listener, RouteSource } from '../../ir/types.js';
import { clientAddress } from '../context.js';
import { gatewayOf, isoTime } from '../../observability/access-log.js';
import type { L4Cells } from '../../observability/metrics/dataplane.js';
import { observe } from '../../observability/metrics/registry.js';

export interface L4LogEntry {
  protocol: 'TCP' | 'TLS' | 'UDP';
  /** The TLS ClientHello's server name. */
  sni?: string;
  listener?: Listener;
  route?: RouteSource;
  /** The cluster name (`namespace/service:port`). */
  upstream?: string;
  /** `address:port` of the backend endpoint the connection went to. */
  endpoint?: string;
  /** Set when the connection or datagram flow was not served. */
  refused?: string;
}

export function l4LogLine(remote: string | undefined, e: L4LogEntry, bytesIn: number, bytesOut: number, startMs: number, ms: number): string {
  const r = e.route;
  const gl = e.listener ? gatewayOf(e.listener) : undefined;
  return JSON.stringify({
    time: isoTime(startMs),
    gateway: gl ? gl[0] : null,
    listener: gl ? gl[1] : null,
    route: r ? `${r.kind}/${r.namespace}/${r.name}` : null,
    rule: r ? r.rule : null,
    backend: e.upstream ?? null,
    endpoint: e.endpoint ?? null,
    protocol: e.protocol,
    authority: e.sni ?? null,
    bytes_received: bytesIn,
    bytes_sent: bytesOut,
    duration_ms: ms,
    refused: e.refused ?? null,
    client: clientAddress(remote) || null,
  });
}

/** The entry for a new TCP/TLS client connection; with a sink, its line is written when the connection closes. */
export function logOnClose(client: net.Socket, protocol: 'TCP' | 'TLS', accessLog: ((line: string) => void) | undefined, sni?: string): L4LogEntry {
  const entry: L4LogEntry = sni === undefined ? { protocol } : { protocol, sni };
  if (accessLog) {
    const started = Date.now();
    const remote = client.remoteAddress;
    client.once('close', () => accessLog(l4LogLine(remote, entry, client.bytesRead, client.bytesWritten, started, Date.now() - started)));
  }
  return entry;
}

/** `address:port` of a connected backend socket, for the log's endpoint. */
export const endpointOf = (backend: net.Socket): string | undefined =>
  backend.remoteAddress === undefined ? undefined : `${backend.remoteAddress.includes(':') ? `[${backend.remoteAddress}]` : backend.remoteAddress}:${backend.remotePort}`;

/**
 * Counts a TCP/TLS client connection spliced to a backend: total and active now; bytes each way
 * and duration when it closes. Cells are resolved per connection (a Map lookup), never per byte.
 */
export function countConnection(client: net.Socket, cells: L4Cells): void {
  const t0 = performance.now();
  cells.total.v++;
  cells.active.v++;
  client.once('close', () => {
    cells.active.v--;
    cells.bytesIn.v += client.bytesRead;
    cells.bytesOut.v += client.bytesWritten;
    observe(cells.duration, (performance.now() - t0) / 1000);
  });
}
