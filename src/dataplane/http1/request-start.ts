// The start of a request on an HTTP/1.1 connection (connection.ts): from a parsed head to the
// upstream. Per-request state is reset, the route plan made (a local answer when it says so), the
// mirrors and the route timeout started, then the head goes to an HTTP/2 upstream (h2-upstream.ts)
// or to a pooled HTTP/1.1 socket (a fresh one for a WebSocket handshake, upgrade.ts), followed by
// the body bytes that came with the head. A function of the connection (see response.ts for why).

import { requestId } from '../../observability/access-log.js';
import { startMirror } from '../filters/mirror.js';
import { makePlan, type Plan } from '../plan.js';
import { sniOf } from '../tls/misdirected.js';
import { exchangeTimeoutMs } from '../upstream/retry.js';
import type { Http1Conn } from './connection.js';
import { writeUpstreamHead } from './direct-write.js';
import { R_HEAD } from './exchange-state.js';
import { forwardH2 } from './h2-upstream.js';
import { ChunkedReader } from './parser.js';
import { feedBuffered } from './request-body.js';
import { absoluteForm, upstreamHead } from './request-head.js';
import { allowedUpgrade } from './upgrade.js';

export function startRequest(c: Http1Conn): void {
  const h = c.head;
  const ctx = c.ctx;
  c.active = true;
  const logger = ctx.shared.opts.logger;
  const tracer = ctx.shared.opts.tracer;
  c.logged = logger !== null && logger.sampled();
  c.span = tracer !== null ? tracer.start(h.headers) : null;
  c.logging = c.logged || c.span !== null;
  if (c.logging) {
    c.startedAt = Date.now();
    c.logT0 = performance.now();
    c.upMs = -1;
    c.upStatus = 0;
    c.epIdx = -1;
  }
  c.reqId = ctx.shared.opts.requestId !== 0 ? requestId(h.headers, ctx.shared.opts.requestId) : '';
  c.t0 = ctx.shared.opts.metrics ? performance.now() : 0;
  c.why = -1;
  c.isHeadMethod = h.method === 'HEAD';
  c.keepAlive = !h.close && !ctx.draining && !c.socket.readableEnded;
  c.bodyDiscard = false;
  c.status = 0;
  c.rs.reset();
  c.respStage = R_HEAD;
  c.respHeadSent = false;
  c.respBytes = 0;
  c.upReusable = true;
  c.upgrading = false;
  if (h.chunked) {
    c.bodyChunked = true;
    c.bodyDone = false;
    (c.reqChunk ??= new ChunkedReader()).reset();
    c.reqChunk.decoded = null;
  } else {
    c.bodyChunked = false;
    c.bodyLeft = h.contentLength > 0 ? h.contentLength : 0;
    c.bodyDone = c.bodyLeft === 0;
  }
  // A body on GET or HEAD has no defined meaning (RFC 9110 9.3.1, 9.3.2): a backend that ignores it
  // reads it as the next request (CL.0 desync), so that upstream connection is never reused.
  if (!c.bodyDone && (c.isHeadMethod || h.method === 'GET')) c.upReusable = false;
  if (h.target.charCodeAt(0) !== 47 && absoluteForm(h)) {
    c.bodyDiscard = true;
    c.keepAlive = false;
    c.respondLocal(400, 'bad request target\n', null);
    return;
  }
  let plan: Plan;
  try {
    plan = makePlan(ctx.cfg, ctx.router, {
      method: h.method,
      target: h.target,
      authority: h.host ?? '',
      headers: h.headers,
      scheme: ctx.scheme,
      listenerPort: ctx.listenerPort,
      sni: sniOf(c.socket),
    }, ctx.shared.opts.path);
  } catch {
    // A filter bug must cost one request, never the process.
    c.bodyDiscard = true;
    c.respondLocal(500, 'internal error\n', null);
    return feedBuffered(c);
  }
  c.plan = plan;
  if (plan.status) {
    c.bodyDiscard = true;
    c.respondLocal(plan.status, plan.localBody, plan.localHeaders);
    return feedBuffered(c);
  }
  const cl = plan.cluster!;
  if (h.transferCodings && (cl.protocol === 'h2c' || cl.protocol === 'h2')) {
    // HTTP/2 has no transfer codings: "gzip, chunked" cannot be carried there, only refused.
    c.bodyDiscard = true;
    c.keepAlive = false;
    c.respondLocal(501, 'transfer coding not supported by this backend\n', null);
    return feedBuffered(c);
  }
  if (plan.mirrors) {
    const hasBody = !c.bodyDone;
    for (const m of plan.mirrors) {
      const sink = startMirror(ctx.cfg, ctx.shared.h2pool, m, plan, hasBody, ctx.shared.opts.metrics);
      if (sink) (c.mirrors ??= []).push(sink);
    }
  }
  const h2 = cl.protocol === 'h2c' || cl.protocol === 'h2';
  const whole = h2 ? plan.timeoutMs : exchangeTimeoutMs(plan);
  if (whole > 0) c.timer = setTimeout(c.onRouteTimeout, whole);
  if (h2) {
    forwardH2(c, plan);
    return feedBuffered(c);
  }
  const i = plan.pickEndpoint();
  if (c.logging) {
    c.epIdx = i;
    c.upT0 = performance.now();
  }
  // Rare path (the parser saw Upgrade + Connection: upgrade): only a WebSocket handshake to a
  // WebSocket backend keeps it; anything else (h2c, unknown tokens) goes out as a plain request.
  if (h.upgrade !== '') h.upgrade = allowedUpgrade(h, cl.protocol);
  const tunnel = h.upgrade !== '';
  // Only a request without a body can be sent again: nothing of it is lost once forwarded.
  c.rs.begin(plan, !tunnel && h.contentLength <= 0 && !h.chunked);
  const up = tunnel ? ctx.shared.pool.fresh(cl, i, c) : ctx.shared.pool.acquire(cl, i, c);
  c.up = up;
  // Cork only when body bytes follow the head in this turn: a lone write skips the Writable buffer.
  const cork = c.buf !== null && !c.bodyDone;
  if (cork) up.socket.cork();
  writeUpstreamHead(up, upstreamHead(plan, c.head, c.clientIp, c.ctx.scheme, tunnel));
  c.rs.armTry();
  if (tunnel) {
    // A WebSocket handshake: this exchange is the connection's last. Bytes the client sends
    // before the backend's 101 wait in `buf`; the 101 switches both sides to raw (startTunnel).
    c.upgrading = true;
    c.keepAlive = false;
  }
  feedBuffered(c);
  if (cork) up.socket.uncork();
}
