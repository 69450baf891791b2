// The data plane's metric families and the pre-resolved cells the engine increments.
//
// At apply(ir) time the engine asks for one RouteCells per listener x route rule x backendRef
// (and one per listener for requests no route matched); a request then only bumps fields of
// the cells its plan points at. Label values come from names the IR already carries: the
// listener name (gateway namespace/name/listener), the route's source (kind, namespace, name,
// rule index) and the cluster name (service namespace/name:port). Status codes are bounded:
// an exact code from CODES, else its class ("4xx"); gRPC status by its 17 names. The duration
// histogram carries the class only (code_class, see CODE_CLASSES).

import type { HTTPFilter, HTTPRouteEntry, Listener, Port, RouteSource } from '../../ir/types.js';
import { type Cell, type Family, type HistCell, observe, Registry } from './registry.js';
import { registerProcessMetrics } from './process.js';

export const ROUTE_LABELS = ['gateway_namespace', 'gateway_name', 'listener', 'route_kind', 'route_namespace', 'route_name', 'rule', 'backend'] as const;
const ENDPOINT_LABELS = ['backend'] as const;

/** Status codes with a series of their own; any other code is counted under its class ("1xx" .. "5xx"). */
export const CODES: readonly number[] = [
  200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 408, 409, 413, 415, 421, 422, 429, 431, 500, 501,
  502, 503, 504,
];
export const CODE_LABELS: readonly string[] = [...CODES.map(String), '1xx', '2xx', '3xx', '4xx', '5xx', 'other'];
const CODE_SLOT = new Int16Array(600).fill(-1);
CODES.forEach((c, i) => (CODE_SLOT[c] = i));

/** Index into CODE_LABELS; no allocation. */
export function codeSlot(status: number): number {
  if (status >= 100 && status < 600) {
    const s = CODE_SLOT[status]!;
    return s >= 0 ? s : CODES.length + ((status / 100) | 0) - 1;
  }
  return CODE_LABELS.length - 1;
}

/**
 * The duration histogram's status label (code_class). A histogram series is 18 series in the
 * exposition (16 buckets, sum, count): with the counters' ~35 code values one route x backend
 * could expose 630, with the class at most 108 (2-3 classes in practice), while fast errors are
 * still told from slow successes. Exact codes stay on portico_http_requests_total.
 */
export const CODE_CLASSES: readonly string[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];

/** Index into CODE_CLASSES; no allocation. */
export function codeClassSlot(status: number): number {
  return status >= 100 && status < 600 ? ((status / 100) | 0) - 1 : CODE_CLASSES.length - 1;
}

export const GRPC_CODES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Why Portico answered a request itself (portico_http_local_responses_total{reason}). */
export const LOCAL_REASONS = [
  'no_route', // no listener / virtual host / route matched (404, gRPC UNIMPLEMENTED)
  'misdirected', // Host selects another listener than the SNI did (421)
  'bad_request', // unparsable head (400, 431), head timeout (408), bad target or path, bad chunked body (400), unsupported transfer coding (501)
  'redirect', // RequestRedirect filter or path normalisation redirect (3xx)
  'cors_preflight', // CORS preflight answered (200)
  'no_backend', // rule without backendRefs, invalid backendRef, cluster missing (500)
  'no_endpoints', // backend without ready endpoints (503)
  'connect_failure', // upstream connection failed or closed before a response (502)
  'upstream_reset', // upstream stream reset or response malformed (502)
  'timeout', // route timeout (504)
  'internal', // a filter threw (500)
] as const;
export type LocalReason = (typeof LOCAL_REASONS)[number];
const R = Object.fromEntries(LOCAL_REASONS.map((r, i) => [r, i])) as Record<LocalReason, number>;
export const REASON = R;

/** The engine's local answer bodies (plan.ts, http1/, http2/) mapped to their reason; looked up only for local answers. */
const BODY_REASON = new Map<string, number>([
  ['route not found\n', R.no_route],
  ['misdirected request\n', R.misdirected],
  ['bad request target\n', R.bad_request],
  ['bad request path\n', R.bad_request],
  ['bad chunked body\n', R.bad_request],
  ['transfer coding not supported by this backend\n', R.bad_request],
  ['backend invalid\n', R.no_backend],
  ['no backend\n', R.no_backend],
  ['backend cluster missing\n', R.no_backend],
  ['no healthy upstream\n', R.no_endpoints],
  ['upstream connect error\n', R.connect_failure],
  ['upstream closed connection\n', R.connect_failure],
  ['upstream reset\n', R.upstream_reset],
  ['upstream response head too large\n', R.upstream_reset],
  ['upstream request timeout\n', R.timeout],
  ['internal error\n', R.internal],
]);

export function localReason(status: number, body: string): number {
  const r = BODY_REASON.get(body);
  if (r !== undefined) return r;
  if (status >= 300 && status < 400) return R.redirect;
  if (status < 300) return R.cors_preflight;
  if (status === 400 || status === 501) return R.bad_request;
  return status >= 500 ? R.internal : R.no_route;
}

/**
 * The counters one request may touch: one listener x route rule x backendRef. Every series is
 * created on first use (a config with thousands of routes holds a small object per cell until
 * traffic arrives); after that a request only bumps fields.
 */
export class RouteCells {
  private requests: (Cell | undefined)[] | null = null;
  private local: (Cell | undefined)[] | null = null;
  private grpc: (Cell | undefined)[] | null = null;
  private dur: (HistCell | undefined)[] | null = null;
  private reqB: Cell | null = null;
  private respB: Cell | null = null;
  private up5xx: Cell | null = null;
  private own5xx: Cell | null = null;
  private cf: Cell | null = null;
  private to: Cell | null = null;
  private rt: Cell | null = null;
  private ms: Cell | null = null;
  private mns: Cell | null = null;
  private me: Cell | null = null;

  constructor(private readonly m: DataplaneMetrics, readonly labels: readonly string[]) {}

  get connectFailures(): Cell {
    return (this.cf ??= this.m.httpConnectFailures.child(this.labels));
  }
  get timeouts(): Cell {
    return (this.to ??= this.m.httpTimeouts.child(this.labels));
  }
  get retries(): Cell {
    return (this.rt ??= this.m.httpRetries.child(this.labels));
  }
  get mirrorSent(): Cell {
    return (this.ms ??= this.m.httpMirrors.child([...this.labels, 'sent']));
  }
  get mirrorNotSent(): Cell {
    return (this.mns ??= this.m.httpMirrors.child([...this.labels, 'not_sent']));
  }
  get mirrorErrors(): Cell {
    return (this.me ??= this.m.httpMirrors.child([...this.labels, 'error']));
  }

  /** A finished request (both front ends). `local` is a LOCAL_REASONS index, or -1 for an upstream answer. */
  done(status: number, seconds: number, reqBytes: number, respBytes: number, local: number): void {
    const m = this.m;
    const slot = codeSlot(status);
    const requests = (this.requests ??= new Array<Cell | undefined>(CODE_LABELS.length));
    (requests[slot] ??= m.httpRequests.child([...this.labels, CODE_LABELS[slot]!])).v++;
    const c = codeClassSlot(status);
    const dur = (this.dur ??= new Array<HistCell | undefined>(CODE_CLASSES.length));
    observe((dur[c] ??= m.httpDuration.child([...this.labels, CODE_CLASSES[c]!])), seconds);
    (this.reqB ??= m.httpRequestBytes.child(this.labels)).v += reqBytes;
    (this.respB ??= m.httpResponseBytes.child(this.labels)).v += respBytes;
    if (local >= 0) {
      const k = local * CODE_LABELS.length + slot;
      const arr = (this.local ??= new Array<Cell | undefined>(LOCAL_REASONS.length * CODE_LABELS.length));
      (arr[k] ??= m.httpLocal.child([...this.labels, CODE_LABELS[slot]!, LOCAL_REASONS[local]!])).v++;
      if (status >= 500) (this.own5xx ??= m.http5xx.child([...this.labels, 'portico'])).v++;
    } else if (status >= 500) (this.up5xx ??= m.http5xx.child([...this.labels, 'upstream'])).v++;
  }

  /** A finished gRPC call: its grpc-status (0..16; anything else counted as UNKNOWN; -1 = none seen). */
  grpcDone(code: number): void {
    const i = code >= 0 && code < GRPC_CODES.length ? code : code < 0 ? GRPC_CODES.length : 2;
    const arr = (this.grpc ??= new Array<Cell | undefined>(GRPC_CODES.length + 1));
    (arr[i] ??= this.m.grpcRequests.child([...this.labels, i === GRPC_CODES.length ? 'none' : GRPC_CODES[i]!])).v++;
  }
}

/** Per-port (socket) cells: connections and streams are counted before any Host is read. */
export class PortCells {
  readonly connections: Cell;
  readonly connectionsTotal: Cell;
  readonly streams: Cell;
  readonly tlsFailures: Cell;
  constructor(m: DataplaneMetrics, labels: string[]) {
    this.connections = m.connectionsActive.child(labels);
    this.connectionsTotal = m.connectionsTotal.child(labels);
    this.streams = m.h2StreamsActive.child(labels);
    this.tlsFailures = m.tlsHandshakeFailures.child(labels);
  }
}

/** Per L4 route x backend. */
export class L4Cells {
  readonly total: Cell;
  readonly active: Cell;
  readonly refused: Cell;
  readonly bytesIn: Cell;
  readonly bytesOut: Cell;
  readonly duration: HistCell;
  constructor(m: DataplaneMetrics, labels: string[], udp: boolean) {
    this.total = (udp ? m.udpSessions : m.l4Connections).child(labels);
    this.active = (udp ? m.udpSessionsActive : m.l4ConnectionsActive).child(labels);
    this.refused = (udp ? m.udpRefused : m.l4Refused).child(labels);
    this.bytesIn = m.l4BytesIn.child(labels);
    this.bytesOut = m.l4BytesOut.child(labels);
    this.duration = (udp ? m.udpDuration : m.l4Duration).child(labels);
  }
}

/** "ns/svc:port/tls" -> "ns/svc:port": the backend label is the Service port, whatever suffix the cluster carries. */
export function backendLabel(cluster: string | undefined): string {
  if (!cluster) return '';
  const colon = cluster.lastIndexOf(':');
  const slash = colon >= 0 ? cluster.indexOf('/', colon) : -1;
  return slash >= 0 ? cluster.slice(0, slash) : cluster;
}

function listenerLabels(listener: Listener | undefined): [string, string, string] {
  if (!listener) return ['', '', ''];
  const [ns = '', gw = '', l = ''] = listener.name.split('/');
  return [ns, gw, l];
}

export function routeLabels(listener: Listener | undefined, src: RouteSource | undefined, cluster: string | undefined): string[] {
  return [...listenerLabels(listener), src?.kind ?? '', src?.namespace ?? '', src?.name ?? '', src ? String(src.rule) : '', backendLabel(cluster)];
}

export class DataplaneMetrics {
  readonly registry: Registry;
  readonly httpRequests: Family<Cell>;
  readonly httpDuration: Family<HistCell>;
  readonly httpRequestBytes: Family<Cell>;
  readonly httpResponseBytes: Family<Cell>;
  readonly httpLocal: Family<Cell>;
  readonly http5xx: Family<Cell>;
  readonly httpConnectFailures: Family<Cell>;
  readonly httpTimeouts: Family<Cell>;
  readonly httpRetries: Family<Cell>;
  readonly httpMirrors: Family<Cell>;
  readonly grpcRequests: Family<Cell>;
  readonly connectionsActive: Family<Cell>;
  readonly connectionsTotal: Family<Cell>;
  readonly h2StreamsActive: Family<Cell>;
  readonly tlsHandshakeFailures: Family<Cell>;
  readonly l4Connections: Family<Cell>;
  readonly l4ConnectionsActive: Family<Cell>;
  readonly l4Refused: Family<Cell>;
  readonly l4BytesIn: Family<Cell>;
  readonly l4BytesOut: Family<Cell>;
  readonly l4Duration: Family<HistCell>;
  readonly udpSessions: Family<Cell>;
  readonly udpSessionsActive: Family<Cell>;
  readonly udpRefused: Family<Cell>;
  readonly udpDuration: Family<HistCell>;
  readonly endpointsReady: Family<Cell>;
  readonly poolIdle: Family<Cell>;
  readonly poolActive: Family<Cell>;
  readonly applies: Family<Cell>;
  readonly applyDuration: Family<HistCell>;
  readonly lastApply: Family<Cell>;
  readonly spansExported: Cell;
  readonly spansDropped: Family<Cell>;
  readonly spansPending: Cell;
  private readonly routeCells = new Map<string, RouteCells>();
  private readonly portCells = new Map<string, PortCells>();
  private readonly l4 = new Map<string, L4Cells>();
  private readonly mirrors = new WeakMap<HTTPFilter, RouteCells>();

  constructor(registry = new Registry()) {
    this.registry = registry;
    registerProcessMetrics(registry);
    const r = registry;
    const RL = ROUTE_LABELS;
    this.httpRequests = r.counter('portico_http_requests_total', 'HTTP and gRPC requests answered, by route rule, backend and status code (exact code from a fixed set, else its class).', [...RL, 'code']);
    this.httpDuration = r.histogram('portico_http_request_duration_seconds', 'Time from a complete request head to the end of the response, by route rule, backend and status class (code_class: 1xx..5xx, other).', [...RL, 'code_class']);
    this.httpRequestBytes = r.counter('portico_http_request_bytes_total', 'Request bytes received from clients (HTTP/1.1: head and body; HTTP/2: the declared content-length).', RL);
    this.httpResponseBytes = r.counter('portico_http_response_bytes_total', 'Response bytes sent to clients (HTTP/1.1: head and body as received from the backend, or the local answer; HTTP/2: DATA payload).', RL);
    this.httpLocal = r.counter('portico_http_local_responses_total', 'Responses Portico produced itself instead of a backend, by reason.', [...RL, 'code', 'reason']);
    this.http5xx = r.counter('portico_http_5xx_responses_total', 'Responses with a 5xx status, by the side that produced it: portico (no backend, no endpoints, connect failure, timeout) or upstream.', [...RL, 'side']);
    this.httpConnectFailures = r.counter('portico_http_upstream_connect_failures_total', 'Upstream connections that failed or closed before any response byte (each attempt, retried or not).', RL);
    this.httpTimeouts = r.counter('portico_http_timeouts_total', 'Requests cut by the route rule timeout (request or backendRequest).', RL);
    this.httpRetries = r.counter('portico_http_retries_total', 'Requests sent again to the backend (HTTPRoute retry).', RL);
    this.httpMirrors = r.counter('portico_http_mirror_requests_total', 'Mirrored copies of requests (RequestMirror), by outcome: sent (handed to a socket), not_sent (no cluster or ready endpoint), error (a sent copy that then failed; a subset of sent).', [...RL, 'outcome']);
    this.grpcRequests = r.counter('portico_grpc_requests_total', 'gRPC calls answered, by route rule, backend and grpc-status name ("none" when the call ended without one).', [...RL, 'grpc_status']);
    const PL = ['port'];
    this.connectionsActive = r.gauge('portico_http_connections_active', 'Open client connections on an HTTP/HTTPS port (IR port name address:port/protocol).', PL);
    this.connectionsTotal = r.counter('portico_http_connections_total', 'Client connections accepted on an HTTP/HTTPS port.', PL);
    this.h2StreamsActive = r.gauge('portico_http2_streams_active', 'Open HTTP/2 streams from clients on a port.', PL);
    this.tlsHandshakeFailures = r.counter('portico_tls_handshake_failures_total', 'Client TLS handshakes that failed on a port (HTTPS, and TLS listeners in Terminate mode).', PL);
    const LL = ['gateway_namespace', 'gateway_name', 'listener', 'route_kind', 'route_namespace', 'route_name', 'backend'];
    this.l4Connections = r.counter('portico_l4_connections_total', 'TCP and TLS (TLSRoute) client connections spliced to a backend.', LL);
    this.l4ConnectionsActive = r.gauge('portico_l4_connections_active', 'TCP and TLS client connections open.', LL);
    this.l4Refused = r.counter('portico_l4_connections_refused_total', 'TCP and TLS client connections closed without a backend (no route, no endpoints, backend unreachable).', LL);
    this.l4BytesIn = r.counter('portico_l4_received_bytes_total', 'Bytes received from clients on TCP/TLS connections and UDP sessions.', LL);
    this.l4BytesOut = r.counter('portico_l4_sent_bytes_total', 'Bytes sent to clients on TCP/TLS connections and UDP sessions.', LL);
    this.l4Duration = r.histogram('portico_l4_connection_duration_seconds', 'Lifetime of TCP and TLS client connections.', LL);
    this.udpSessions = r.counter('portico_udp_sessions_total', 'UDP sessions (client address:port flows) opened to a backend.', LL);
    this.udpSessionsActive = r.gauge('portico_udp_sessions_active', 'UDP sessions open.', LL);
    this.udpRefused = r.counter('portico_udp_sessions_refused_total', 'UDP datagrams dropped because they could not open a session (no route, no endpoints, session limit).', LL);
    this.udpDuration = r.histogram('portico_udp_session_duration_seconds', 'Lifetime of UDP sessions.', LL);
    this.endpointsReady = r.gauge('portico_backend_endpoints_ready', 'Ready endpoints of a backend in the configuration being served.', ENDPOINT_LABELS, 'max');
    this.poolIdle = r.gauge('portico_upstream_pool_idle_connections', 'Idle keep-alive HTTP/1.1 connections to a backend in the pool.', ENDPOINT_LABELS);
    this.poolActive = r.gauge('portico_upstream_pool_active_connections', 'HTTP/1.1 connections to a backend carrying a request.', ENDPOINT_LABELS);
    this.applies = r.counter('portico_dataplane_applies_total', 'Configurations applied by the data plane, by result (ok, partial: some port could not bind, error).', ['result']);
    this.applyDuration = r.histogram('portico_dataplane_apply_duration_seconds', 'Time to apply one configuration in the data plane.', [], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
    this.lastApply = r.gauge('portico_dataplane_last_apply_timestamp_seconds', 'Unix time of the last configuration applied without error.', [], 'max');
    this.spansExported = r.counter('portico_trace_spans_exported_total', 'Spans the OTLP collector accepted (2xx answer to the post).').child();
    this.spansDropped = r.counter('portico_trace_spans_dropped_total', 'Spans that never reached the OTLP collector, by reason: queue_full (4 posts already in flight), export_failed (post refused, non-2xx, or timed out).', ['reason']);
    this.spansPending = r.gauge('portico_trace_spans_pending', 'Spans held for export: the open batch and the posts in flight (bounded: 5 batches).').child();
  }

  /** Count one apply of a configuration (result, duration, time of the last good one) around `run`. */
  async countApply<R extends { unbound: unknown[] }>(run: () => Promise<R>): Promise<R> {
    const t0 = performance.now();
    try {
      const r = await run();
      this.applies.child([r.unbound.length ? 'partial' : 'ok']).v++;
      this.lastApply.child().v = Date.now() / 1000;
      return r;
    } catch (e) {
      this.applies.child(['error']).v++;
      throw e;
    } finally {
      observe(this.applyDuration.child(), (performance.now() - t0) / 1000);
    }
  }

  /** Cells for one listener x route rule x backend (same object across applies for the same labels). */
  route(listener: Listener | undefined, src: RouteSource | undefined, cluster: string | undefined): RouteCells {
    const labels = routeLabels(listener, src, cluster);
    const key = labels.join('\u0000');
    let c = this.routeCells.get(key);
    if (!c) this.routeCells.set(key, (c = new RouteCells(this, labels)));
    return c;
  }

  /** Resolves the cells of every RequestMirror filter of `r` (labelled with the mirror's backend). */
  mirrorCells(listener: Listener, r: HTTPRouteEntry): void {
    const all = [...r.filters, ...r.backends.flatMap((b) => b.filters ?? [])];
    for (const f of all) if (f.type === 'RequestMirror') this.mirrors.set(f, this.route(listener, r.source, f.backend.cluster));
  }

  /** The cells of a RequestMirror filter resolved at apply time (a WeakMap lookup per mirrored request). */
  mirrorFor(f: HTTPFilter): RouteCells | undefined {
    return this.mirrors.get(f);
  }

  port(port: Port): PortCells {
    let c = this.portCells.get(port.name);
    if (!c) this.portCells.set(port.name, (c = new PortCells(this, [port.name])));
    return c;
  }

  /** TLS listeners in Terminate mode (L4): only the handshake-failure counter of their port. */
  tlsFailures(port: Port): Cell {
    return this.tlsHandshakeFailures.child([port.name]);
  }

  l4Route(listener: Listener | undefined, src: RouteSource | undefined, cluster: string | undefined, udp: boolean): L4Cells {
    const all = routeLabels(listener, src, cluster);
    const labels = [...all.slice(0, 6), all[7]!];
    const key = (udp ? 'u' : 't') + labels.join('\u0000');
    let c = this.l4.get(key);
    if (!c) this.l4.set(key, (c = new L4Cells(this, labels, udp)));
    return c;
  }
}
