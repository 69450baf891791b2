// Access log lines for L4 traffic, one per TCP/TLS connection (when it closes) and one per UDP
// session (when it ends), in the same shape as the HTTP lines: client, what was asked for,
// outcome, route, upstream, bytes each way, duration.

import type * as net from 'node:net';
import type { RouteSource } from '../../ir/types.js';
import { clientAddress } from '../context.js';
import type { L4Cells } from '../../observability/metrics/dataplane.js';
import { observe } from '../../observability/metrics/registry.js';

export interface L4LogEntry {
  /** What the client asked for: "TCP 0.0.0.0:9000/TCP", "TLS ... sni=foo". */
  request: string;
  route?: RouteSource;
  upstream?: string;
  /** Set when the connection or datagram flow was not served. */
  refused?: string;
}

export function l4LogLine(remote: string | undefined, e: L4LogEntry, bytesIn: number, bytesOut: number, ms: number): string {
  const r = e.route;
  const route = r ? `${r.kind}/${r.namespace}/${r.name}#${r.rule}` : '-';
  const outcome = e.refused ? `refused (${e.refused})` : 'closed';
  return `${clientAddress(remote)} "${e.request}" ${outcome} route=${route} upstream=${e.upstream ?? '-'} in=${bytesIn} out=${bytesOut} ${ms}ms`;
}

/** The entry for a new TCP/TLS client connection; with a sink, its line is written when the connection closes. */
export function logOnClose(client: net.Socket, request: string, accessLog: ((line: string) => void) | undefined): L4LogEntry {
  const entry: L4LogEntry = { request };
  if (accessLog) {
    const started = Date.now();
    const remote = client.remoteAddress;
    client.once('close', () => accessLog(l4LogLine(remote, entry, client.bytesRead, client.bytesWritten, Date.now() - started)));
  }
  return entry;
}

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
