// HTTP/2 downstream (ALPN h2 on HTTPS ports, prior-knowledge h2c on HTTP ports). Node's
// http2 server sessions are fed sockets we accepted; each stream goes through the same plan
// as HTTP/1.1, then to an HTTP/2 upstream (h2c/h2 clusters, gRPC: trailers passed through,
// both directions streamed) or to an HTTP/1.1 upstream over the fast path's pooled sockets.

import type * as http from 'node:http';
import * as http2 from 'node:http2';
import { clientAddress, type PortContext } from '../context.js';
import { applyResponseFilters } from '../filters/response-filters.js';
import { startMirror, type MirrorSink } from '../filters/mirror.js';
import { makePlan, type Plan } from '../plan.js';
import { localReason, type RouteCells } from '../../observability/metrics/dataplane.js';
import { requestId, traceIdOf, type AccessRecord } from '../../observability/access-log.js';
import { sniOf } from '../tls/misdirected.js';
import { H2ToH1 } from './h1-upstream.js';
import { exchangeTimeoutMs } from '../upstream/retry.js';
import { websocketOverH2 } from './websocket.js';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export function createH2Server(ctx: PortContext): http2.Http2Server {
  // Every limit explicit (config.ts DEFAULT_LIMITS, dataplane/README.md), for h2c and ALPN h2 alike:
  // both hand their sockets to this server. nghttp2 also caps CONTINUATION frames per header
  // block and refuses streams past SETTINGS_MAX_CONCURRENT_STREAMS on its own.
  const h2 = ctx.shared.opts.h2;
  const server = http2.createServer({
    maxHeaderListPairs: h2.maxHeaderListPairs,
    maxSessionMemory: h2.maxSessionMemoryMb,
    maxSessionInvalidFrames: h2.maxSessionInvalidFrames,
    maxSessionRejectedStreams: h2.maxSessionRejectedStreams,
    // Rapid Reset (CVE-2023-44487): nghttp2's token bucket for inbound RST_STREAM; both must be set.
    streamResetBurst: h2.streamResetBurst,
    streamResetRate: h2.streamResetRate,
    settings: {
      maxConcurrentStreams: h2.maxConcurrentStreams,
      maxHeaderListSize: h2.maxHeaderListSize,
      // RFC 8441: clients may open WebSocket streams with extended CONNECT (websocket.ts).
      enableConnectProtocol: true,
    },
  });
  const portCells = ctx.port ? (ctx.shared.opts.metrics?.port(ctx.port) ?? null) : null;
  server.on('stream', (stream, headers) => {
    if (portCells) {
      portCells.streams.v++;
      stream.once('close', () => void portCells.streams.v--);
    }
    try {
      handleStream(ctx, stream, headers);
    } catch {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  });
  server.on('sessionError', () => undefined);
  server.setTimeout(h2.idleTimeoutMs, (session?: unknown) => {
    (session as http2.Http2Session | undefined)?.close?.();
  });
  return server;
}

function flatHeaders(headers: http2.IncomingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const k of Object.keys(headers)) {
    if (k.charCodeAt(0) === 58 || HOP.has(k)) continue;
    const v = headers[k];
    if (k === 'te') continue;
    if (Array.isArray(v)) for (const x of v) flat.push(k, x);
    else if (v !== undefined) flat.push(k, v);
  }
  return flat;
}

function toOutgoing(flat: string[], into: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i]!.toLowerCase();
    if (HOP.has(n)) continue;
    const prev = into[n];
    const v = flat[i + 1]!;
    into[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  return into;
}

function respHeaders(plan: Plan, status: number, incoming: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const flat: string[] = [];
  for (const k of Object.keys(incoming)) {
    if (k.charCodeAt(0) === 58 || HOP.has(k)) continue;
    const v = incoming[k];
    if (Array.isArray(v)) for (const x of v) flat.push(k, x);
    else if (v !== undefined) flat.push(k, String(v));
  }
  applyResponseFilters(plan, flat);
  return toOutgoing(flat, { ':status': status });
}

function grpcTrailersOnly(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
}

function localAnswer(stream: http2.ServerHttp2Stream, plan: Plan, isGrpc: boolean, status: number, body: string, headers: string[] | null): void {
  if (stream.destroyed) return;
  if ((plan.cells || plan.logged) && !stream.headersSent) LOCAL.set(stream, localReason(status, body));
  if (isGrpc && (plan.grpcStatus || status >= 500)) {
    return grpcTrailersOnly(stream, plan.grpcStatus || (status === 504 ? 4 : 14), body.trim());
  }
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const out: http2.OutgoingHttpHeaders = { ':status': status };
  if (headers) toOutgoing(headers, out);
  if (body) out['content-type'] = 'text/plain';
  out['content-length'] = String(Buffer.byteLength(body));
  stream.respond(out);
  stream.end(body);
}

/** Why Portico answered a stream itself (metrics); set only on local answers. */
const LOCAL = new WeakMap<http2.ServerHttp2Stream, number>();

/** A logged stream's upstream figures: when it started, time to the response head, its status, the endpoint index. */
interface UpstreamFigures {
  t0: number;
  ms: number;
  status: number;
  endpoint: number;
}

/** Counts a finished stream into its plan's cells: status and grpc-status from what was sent. */
function countStream(stream: http2.ServerHttp2Stream, cells: RouteCells, t0: number, reqBytes: number, resp: { bytes: number }, grpc: boolean): void {
  const sent = stream.sentHeaders as http2.OutgoingHttpHeaders | undefined;
  const status = Number(sent?.[':status'] ?? 0);
  const local = LOCAL.get(stream) ?? -1;
  cells.done(status, (performance.now() - t0) / 1000, reqBytes, resp.bytes, local);
  if (grpc) {
    const g = (stream.sentTrailers as http2.OutgoingHttpHeaders | undefined)?.['grpc-status'] ?? sent?.['grpc-status'];
    cells.grpcDone(g === undefined ? -1 : Number(g));
  }
}

export function handleStream(ctx: PortContext, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  // An extended CONNECT for a WebSocket is routed as the GET its HTTP/1.1 Upgrade is.
  const wsConnect = headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket';
  const method = wsConnect ? 'GET' : String(headers[':method'] ?? 'GET');
  const authority = String(headers[':authority'] ?? headers['host'] ?? '');
  const target = String(headers[':path'] ?? '/');
  const flat = flatHeaders(headers);
  const ct = headers['content-type'];
  const isGrpc = typeof ct === 'string' && ct.startsWith('application/grpc');
  const clientIp = clientAddress(stream.session?.socket?.remoteAddress);
  const reqId = ctx.shared.opts.requestId !== 0 ? requestId(flat, ctx.shared.opts.requestId) : '';
  const tracer = ctx.shared.opts.tracer;
  const span = tracer !== null ? tracer.start(flat) : null;
  const plan = makePlan(ctx.cfg, ctx.router, { method, target, authority, headers: flat, scheme: ctx.scheme, listenerPort: ctx.listenerPort, sni: sniOf(stream.session?.socket) }, ctx.shared.opts.path);
  const cells = plan.cells;
  let resp: { readonly bytes: number } = { bytes: 0 };
  const logger = ctx.shared.opts.logger;
  let ex: H2ToH1 | null = null;
  const logged = logger !== null && logger.sampled();
  const fig: UpstreamFigures | null = logged || span ? { t0: performance.now(), ms: -1, status: 0, endpoint: -1 } : null;
  if (fig) {
    plan.logged = true;
    const started = Date.now();
    const cl = Number(headers['content-length']);
    stream.once('close', () => {
      const q = target.indexOf('?');
      const local = LOCAL.get(stream) ?? -1;
      if (ex) {
        fig.endpoint = ex.endpoint;
        fig.ms = ex.upMs;
        fig.status = ex.upStatus;
      }
      const ep = plan.cluster && fig.endpoint >= 0 ? plan.cluster.endpoints[fig.endpoint] : undefined;
      const status = Number(stream.sentHeaders?.[':status'] ?? 0);
      const rec: AccessRecord = {
        start: started,
        listener: plan.listener,
        source: plan.entry?.source,
        backend: plan.backend,
        endpoint: ep ? `${ep.address}:${ep.port}` : '',
        method,
        authority,
        path: q < 0 ? target : target.slice(0, q),
        protocol: 'HTTP/2',
        status,
        bytesReceived: cl > 0 ? cl : 0,
        bytesSent: resp.bytes,
        durationMs: performance.now() - fig.t0,
        upstreamMs: fig.ms,
        upstreamStatus: fig.status,
        retries: ex ? ex.retries : 0,
        local,
        requestId: reqId,
        traceId: span ? span.traceId : traceIdOf(flat),
        client: clientIp,
      };
      if (logged) logger!.write(rec);
      if (span) tracer!.end(span, rec);
    });
  }
  if (cells) {
    const t0 = performance.now();
    const cl = Number(headers['content-length']);
    const reqBytes = cl > 0 ? cl : 0;
    stream.once('close', () => countStream(stream, cells, t0, reqBytes, resp, isGrpc));
  }
  if (plan.status) {
    stream.resume(); // discard any request body
    return localAnswer(stream, plan, isGrpc, plan.status, plan.localBody, plan.localHeaders);
  }
  if (wsConnect) return websocketOverH2(ctx, stream, plan, clientIp, authority);
  const cl = plan.cluster!;
  const hasBody = !stream.readableEnded && !(stream as unknown as { endAfterHeaders?: boolean }).endAfterHeaders;
  let mirrors: MirrorSink[] | null = null;
  if (plan.mirrors) {
    for (const m of plan.mirrors) {
      const s = startMirror(ctx.cfg, ctx.shared.h2pool, m, plan, hasBody, ctx.shared.opts.metrics);
      if (s) (mirrors ??= []).push(s);
    }
    if (mirrors) {
      stream.on('data', (d: Buffer) => {
        for (const m of mirrors!) m.write(d);
      });
      stream.on('end', () => {
        for (const m of mirrors!) m.end();
      });
    }
  }
  let timer: NodeJS.Timeout | null = null;
  let abortUpstream: () => void = () => undefined;
  // An HTTP/1.1 upstream retries, each try under its own backendRequest timer (upstream/retry.ts).
  const whole = cl.protocol === 'h2c' || cl.protocol === 'h2' ? plan.timeoutMs : exchangeTimeoutMs(plan);
  if (whole > 0) {
    timer = setTimeout(() => {
      if (cells) cells.timeouts.v++;
      abortUpstream();
      localAnswer(stream, plan, isGrpc, 504, 'upstream request timeout\n', null);
    }, whole);
    stream.on('close', () => clearTimeout(timer!));
  }
  const xffIn = headers['x-forwarded-for'] ? String(headers['x-forwarded-for']) : '';
  const xff = xffIn ? `${xffIn}, ${clientIp}` : clientIp;
  const outFlat = plan.headers.filter((_, i, a) => {
    const n = a[i - (i % 2)];
    return n !== 'x-forwarded-for' && n !== 'x-forwarded-proto' && n !== 'x-forwarded-host';
  });
  outFlat.push('x-forwarded-for', xff, 'x-forwarded-proto', ctx.scheme);
  if (authority) outFlat.push('x-forwarded-host', authority);

  if (cl.protocol === 'h2c' || cl.protocol === 'h2') {
    const out = toOutgoing(outFlat, { ':method': method, ':path': plan.target, ':authority': plan.authority, ':scheme': cl.tls ? 'https' : 'http' });
    if (headers['te']) out['te'] = String(headers['te']);
    let up: http2.ClientHttp2Stream;
    try {
      const i = plan.pickEndpoint();
      if (fig) fig.endpoint = i;
      up = ctx.shared.h2pool.request(cl, i, out, !hasBody);
    } catch {
      if (cells) cells.connectFailures.v++;
      return localAnswer(stream, plan, isGrpc, 502, 'upstream connect error\n', null);
    }
    abortUpstream = () => up.close(http2.constants.NGHTTP2_CANCEL);
    let trailers: http2.OutgoingHttpHeaders | null = null;
    up.on('response', (rh, flags) => {
      if (stream.destroyed) return;
      const status = Number(rh[':status']) || 502;
      if (fig) {
        fig.ms = performance.now() - fig.t0;
        fig.status = status;
      }
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(respHeaders(plan, status, rh), endStream ? { endStream: true } : { waitForTrailers: true });
    });
    up.on('trailers', (t) => {
      trailers = {};
      for (const k of Object.keys(t)) if (k.charCodeAt(0) !== 58) trailers[k] = t[k];
    });
    stream.on('wantTrailers', () => {
      stream.sendTrailers(trailers ?? {});
    });
    up.on('data', (d: Buffer) => {
      (resp as { bytes: number }).bytes += d.length;
      if (!stream.destroyed && !stream.write(d)) up.pause();
    });
    stream.on('drain', () => up.resume());
    up.on('end', () => {
      if (timer) clearTimeout(timer);
      if (!stream.destroyed && stream.headersSent && !stream.writableEnded) stream.end();
    });
    up.on('error', () => undefined);
    up.on('close', () => {
      if (timer) clearTimeout(timer);
      if (stream.destroyed) return;
      if (!stream.headersSent) {
        if (cells) cells.connectFailures.v++;
        return localAnswer(stream, plan, isGrpc, 502, 'upstream connect error\n', null);
      }
      if (!stream.writableEnded) {
        // Upstream reset mid-stream: reset ours with the same code so the client sees it.
        stream.close(up.rstCode || http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
    stream.on('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
    if (hasBody) stream.pipe(up);
    return;
  }

  // HTTP/1.1 upstream: the fast path's pooled raw sockets.
  const cLen = headers['content-length'] !== undefined ? Number(headers['content-length']) : -1;
  ex = new H2ToH1(ctx, stream, plan, clientIp, authority, Number.isFinite(cLen) ? cLen : -1, hasBody,
    (status, body) => localAnswer(stream, plan, isGrpc, status, body, null),
    () => timer && clearTimeout(timer));
  abortUpstream = () => ex.abort();
  resp = { get bytes() { return ex.respBytes; } };
  ex.start();
}
