// What an HTTP/1.1 exchange (connection.ts) leaves behind once it ends: its figures counted into
// the route's metric cells, and its access log record and trace span (only for a sampled or
// traced request: decided at its start). Functions of the connection (see response.ts for why).

import { traceIdOf, type AccessRecord } from '../../observability/access-log.js';
import { REASON } from '../../observability/metrics/dataplane.js';
import type { Http1Conn } from './connection.js';

/** The exchange's figures into its plan's cells (pre-resolved at apply: field increments only). */
export function countExchange(c: Http1Conn): void {
  const cells = c.plan?.cells ?? c.ctx.router.noListener;
  const t0 = c.t0;
  c.t0 = 0;
  if (!cells) return;
  const local = c.why;
  cells.done(c.status, (performance.now() - t0) / 1000, c.reqBytes, local >= 0 ? c.localBytes : c.respBytes, local);
  if (c.plan?.entry?.grpc) cells.grpcDone(local >= 0 ? (local === REASON.no_route ? 12 : 14) : -1);
}

/** The access log line of this exchange (only when logged: `logging` was decided at its start). */
export function logExchange(c: Http1Conn, status: number): void {
  if (!c.logging) return;
  c.logging = false;
  const h = c.head;
  const plan = c.plan;
  const cl = plan?.cluster;
  const ep = cl && c.epIdx >= 0 ? cl.endpoints[c.epIdx] : undefined;
  const q = h.target.indexOf('?');
  const local = c.why;
  const span = c.span;
  c.span = null;
  const rec: AccessRecord = {
    start: c.startedAt,
    listener: plan?.listener,
    source: plan?.entry?.source,
    backend: plan?.backend ?? '',
    endpoint: ep ? `${ep.address}:${ep.port}` : '',
    method: h.method,
    authority: h.host ?? '',
    path: q < 0 ? h.target : h.target.slice(0, q),
    protocol: h.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
    status,
    bytesReceived: c.reqBytes,
    bytesSent: local >= 0 ? c.localBytes : c.respBytes,
    durationMs: performance.now() - c.logT0,
    upstreamMs: c.upMs,
    upstreamStatus: c.upStatus,
    retries: c.rs.count,
    local,
    requestId: c.reqId,
    traceId: span ? span.traceId : traceIdOf(h.headers),
    client: c.clientIp,
  };
  if (c.logged) c.ctx.shared.opts.logger!.write(rec);
  if (span) c.ctx.shared.opts.tracer!.end(span, rec);
}
