// One downstream HTTP/1.1 connection on the fast path: raw socket in, own parser, pooled raw
// upstream sockets out, bytes streamed both ways with backpressure. Requests on a connection
// are served one at a time (pipelined ones wait in `buf`). All per-request state lives in
// fields of this object and every listener is bound once, so a keep-alive request allocates
// little beyond its head strings and header array. This file is the per-connection state
// machine (reads, request heads, keep-alive, timeouts, upstream events, local answers, close);
// the rest of an exchange is in the files named at the class.

import type * as net from 'node:net';
import type * as http2 from 'node:http2';
import { clientAddress, reason, type PortContext } from '../context.js';
import type { MirrorSink } from '../filters/mirror.js';
import type { Plan } from '../plan.js';
import type { UpstreamConn, UpstreamOwner } from '../upstream/pool.js';
import { BUDGET_EXHAUSTED, connectFailureBody, connectFailureStatus, RetryState, type RetryOwner } from '../upstream/retry.js';
import { upstreamHead } from './request-head.js';
import { readIntoShared } from './user-read.js';
import { directWrite, writeUpstreamHead, type DrainOwner } from './direct-write.js';
import { clock } from '../clock.js';
import { localReason, REASON } from '../../observability/metrics/dataplane.js';
import type { Span } from '../../observability/tracing.js';
import type { IdleSweepable } from './idle.js';
import { countExchange, logExchange } from './exchange-record.js';
import { CRLFCRLF, MAX_DISCARD, R_BODY, R_DONE, SMALL_READ } from './exchange-state.js';
import { ChunkedReader, latin1, newRequestHead, newResponseHead, parseRequestHead } from './parser.js';
import { feedBody } from './request-body.js';
import { startRequest } from './request-start.js';
import { flushHead, handleUpData } from './response.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Fields without `private` are the exchange state shared with the files that serve parts of it
 * (request-start.ts, request-body.ts, response.ts, h2-upstream.ts, upgrade.ts, exchange-record.ts):
 * module functions taking the connection, so the split costs no closure, no allocation and no
 * dispatch per request or chunk. Nothing outside this folder touches them.
 */
export class Http1Conn implements UpstreamOwner, DrainOwner, IdleSweepable, RetryOwner {
  readonly clientIp: string;
  buf: Buffer | null = null;
  private scanFrom = 0;
  readonly head = newRequestHead();
  private headTimer: NodeJS.Timeout | null = null;
  private processing = false;
  private closed = false;
  /** Armed once we send our FIN: a client that never closes its side is dropped at the idle timeout. */
  private endTimer: NodeJS.Timeout | null = null;
  /** False while handling a chunk that lives in the shared read buffer (valid only during the call). */
  private owned = true;
  /** Plain TCP: responses are written straight to the handle (direct-write.ts). */
  private direct = false;
  /** `clock.now` at the last byte read from the client or from its upstream (idle.ts). */
  lastActive = clock.now;
  /**
   * Set while the first bytes of a plain connection may still be the HTTP/2 preface (prior
   * knowledge h2c): called with the socket and the bytes read so far when they are.
   */
  private h2Preface: ((socket: net.Socket, first: Buffer) => void) | null = null;

  // --- the request being served ---
  active = false;
  plan: Plan | null = null;
  keepAlive = true;
  isHeadMethod = false;
  /** Access log (only when this request is logged): wall start, clock start, upstream figures. */
  logging = false;
  /** This request gets an access log line / a span (`logging` = either). */
  logged = false;
  span: Span | null = null;
  startedAt = 0;
  logT0 = 0;
  upT0 = 0;
  upMs = -1;
  upStatus = 0;
  epIdx = -1;
  reqId = '';
  bodyDone = true;
  bodyChunked = false;
  bodyLeft = 0;
  bodyDiscard = false;
  reqChunk: ChunkedReader | null = null;
  mirrors: MirrorSink[] | null = null;
  timer: NodeJS.Timeout | null = null;
  status = 0;
  /** HTTPRoute retry of this request (upstream/retry.ts). */
  readonly rs = new RetryState(this);

  // --- upstream (HTTP/1.1 socket, raw tunnel, or HTTP/2 stream) ---
  up: UpstreamConn | null = null;
  upReusable = true;
  tunnel = false;
  /** A WebSocket handshake went upstream and its answer has not come yet (see startTunnel). */
  upgrading = false;
  h2: http2.ClientHttp2Stream | null = null;
  readonly resp = newResponseHead();
  respHeadBuf: Buffer | null = null;
  respStage = R_DONE;
  respChunk: ChunkedReader | null = null;
  respDecode = false;
  respLeft = 0;
  respUntilClose = false;
  respHeadSent = false;
  pendingHead: string | null = null;
  respBytes = 0;
  // --- metrics (ctx.shared.opts.metrics): plain numbers, counted into plan.cells when the exchange ends ---
  /** performance.now() when the head was complete; 0 with metrics off. */
  t0 = 0;
  reqBytes = 0;
  /** Bytes of a local answer written to the client. */
  localBytes = 0;
  /** LOCAL_REASONS index of a local answer, -1 when the backend answered. */
  why = -1;

  constructor(
    readonly socket: net.Socket,
    readonly ctx: PortContext,
    private readonly onGone: (c: Http1Conn) => void,
  ) {
    this.clientIp = clientAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('end', this.onEnd);
    // The head of the first request is due within the head timeout from accept (slowloris).
    this.armHeadTimer();
  }

  /**
   * From now on read into the shared buffer: chunks are then borrowed, see `owned`. Works for TCP
   * and TLS sockets alike; responses go straight to the handle only on plain TCP (`tcp`).
   */
  useSharedReads(tcp: boolean): void {
    readIntoShared(this.socket, this.onRead);
    this.direct = tcp;
  }

  /**
   * Watch the first bytes for the HTTP/2 connection preface; when they are, this connection lets
   * go of the socket (listeners removed, nothing written) and `onH2` takes it with those bytes.
   * Sniffing here rather than before the connection exists keeps one read path from accept on.
   */
  sniffH2(onH2: (socket: net.Socket, first: Buffer) => void): void {
    this.h2Preface = onH2;
  }

  /** True when `chunk` was taken by the preface check (h2c, or too few bytes to tell yet). */
  private sniff(chunk: Buffer): boolean {
    const first = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    const n = Math.min(first.length, PREFACE.length);
    if (first.compare(PREFACE, 0, n, 0, n) !== 0) {
      this.h2Preface = null;
      return false;
    }
    if (first.length < PREFACE.length) {
      this.buf = first === chunk ? Buffer.from(chunk) : first; // the chunk may be borrowed
      return true;
    }
    const onH2 = this.h2Preface!;
    this.h2Preface = null;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('drain', this.onDrain);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('end', this.onEnd);
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = null;
    this.buf = null;
    this.closed = true;
    this.onGone(this);
    onH2(socket, first === chunk ? Buffer.from(chunk) : first);
    return true;
  }

  /** Write to the client; false = backpressure (resumed by onDrain either way). */
  out(data: Buffer | string): boolean {
    if (this.direct) return directWrite(this.socket, data, this);
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  directDrained(): void {
    this.onDrain();
  }

  private onRead = (n: number, buf: Buffer): void => {
    this.lastActive = clock.now;
    if (this.h2Preface !== null && this.sniff(buf.subarray(0, n))) return;
    // The common case: one read holding a whole small request head, nothing buffered before it.
    if (n <= SMALL_READ && this.buf === null && !this.active && buf[0] !== 13) {
      const s = latin1(buf, 0, n);
      const idx = s.indexOf('\r\n\r\n');
      if (idx >= 0 && idx <= this.ctx.shared.opts.maxHeaderBytes) {
        this.processing = true;
        try {
          // Body bytes or a pipelined request after the head outlive this call: copied.
          if (idx + 4 < n) this.buf = Buffer.from(buf.subarray(idx + 4, n));
          this.scanFrom = 0;
          this.headReady(s.substring(0, idx));
        } catch {
          this.dropUpstream();
          this.socket.destroy();
        } finally {
          this.processing = false;
        }
        if (!this.active && this.buf !== null) this.processInput();
        return;
      }
    }
    this.owned = false;
    this.onData(buf.subarray(0, n));
    this.owned = true;
  };

  /** Copy of a borrowed chunk, or the chunk itself when we own it. */
  keep(b: Buffer): Buffer {
    return this.owned ? b : Buffer.from(b);
  }

  /** Finish the current request, then close; close now when idle. */
  drain(): void {
    this.keepAlive = false;
    if (!this.active) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get idle(): boolean {
    return !this.active;
  }

  // ---------------------------------------------------------------- downstream input

  private onData = (chunk: Buffer): void => {
    try {
      this.handleData(chunk);
    } catch {
      // A bug reached by one request costs that connection, never the process.
      this.dropUpstream();
      this.socket.destroy();
    }
  };

  private handleData(chunk: Buffer): void {
    this.lastActive = clock.now;
    if (this.h2Preface !== null && this.sniff(chunk)) return;
    if (this.tunnel) {
      if (this.up && !this.up.socket.write(this.keep(chunk))) this.socket.pause();
      return;
    }
    if (this.active && !this.bodyDone) {
      const used = feedBody(this, chunk, 0);
      if (used >= chunk.length) return;
      chunk = chunk.subarray(used);
    }
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.active) this.processInput();
    else if (this.buf.length > this.ctx.shared.opts.maxHeaderBytes) this.socket.pause(); // pipelined flood: wait for our turn
    // Whatever is left of a borrowed chunk (partial head, pipelined request) must outlive this call.
    if (!this.owned && this.buf !== null && this.buf.buffer === chunk.buffer) this.buf = Buffer.from(this.buf);
  }

  private processInput(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      const maxHead = this.ctx.shared.opts.maxHeaderBytes;
      while (!this.active && this.buf !== null && !this.closed) {
        let buf: Buffer = this.buf;
        // RFC 9112 2.2: ignore empty lines before a request line.
        let lead = 0;
        while (lead + 1 < buf.length && buf[lead] === 13 && buf[lead + 1] === 10) lead += 2;
        if (lead) {
          buf = lead < buf.length ? buf.subarray(lead) : Buffer.alloc(0);
          this.buf = buf.length ? buf : null;
          if (!this.buf) break;
        }
        const idx = buf.indexOf(CRLFCRLF, this.scanFrom > 3 ? this.scanFrom - 3 : 0);
        if (idx < 0) {
          if (buf.length > maxHead) return this.reject(431);
          this.scanFrom = buf.length;
          this.armHeadTimer();
          break;
        }
        if (idx > maxHead) return this.reject(431);
        this.scanFrom = 0;
        const s = latin1(buf, 0, idx);
        this.buf = idx + 4 < buf.length ? buf.subarray(idx + 4) : null;
        this.headReady(s);
      }
    } finally {
      this.processing = false;
    }
  }

  /** A complete request head (without its final CRLFCRLF): parse it and start the request. */
  private headReady(s: string): void {
    this.reqBytes = s.length + 4;
    const err = parseRequestHead(s, this.head, this.ctx.shared.opts.maxHeaderCount);
    if (err) return this.reject(err);
    if (this.headTimer) {
      clearTimeout(this.headTimer);
      this.headTimer = null;
    }
    startRequest(this);
  }

  private armHeadTimer(): void {
    if (this.headTimer || this.closed) return;
    this.headTimer = setTimeout(this.onHeadTimeout, this.ctx.shared.opts.requestHeadTimeoutMs);
  }

  private onHeadTimeout = (): void => {
    this.headTimer = null;
    if (this.active || this.closed) return;
    // Nothing at all received: just close; a partial head gets a 408.
    if (this.buf === null) this.socket.destroy();
    else this.reject(408);
  };

  /** Answer a request we could not parse, then close: the framing of what follows is unknown. */
  private reject(status: number): void {
    this.buf = null;
    if (this.headTimer) {
      clearTimeout(this.headTimer);
      this.headTimer = null;
    }
    this.active = true; // nothing more is read from this connection
    this.endSoon();
    const body = reason(status) + '\n';
    this.socket.end(`HTTP/1.1 ${status} ${reason(status)}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`, 'latin1');
    logExchange(this, status);
    const cells = this.ctx.router.noListener;
    if (cells) cells.done(status, 0, 0, 0, REASON.bad_request);
  }

  // ---------------------------------------------------------------- request start

  // ---------------------------------------------------------------- request body

  // ---------------------------------------------------------------- upstream (HTTP/1.1)

  upData(up: UpstreamConn, buf: Buffer, n: number): void {
    try {
      handleUpData(this, up, buf, n);
    } catch {
      this.dropUpstream();
      this.socket.destroy();
    }
  }

  respDone(): void {
    flushHead(this);
    this.respStage = R_DONE;
    this.rs.endTry();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const up = this.up;
    this.up = null;
    if (up) {
      if (this.upReusable && this.bodyDone && !this.resp.close) {
        if (up.socket.isPaused()) up.socket.resume();
        this.ctx.shared.pool.release(up);
      } else up.destroy();
    }
    if (!this.bodyDone) {
      // The upstream answered before reading the whole body: drop the rest of it.
      this.bodyDiscard = true;
      if (this.bodyChunked || this.bodyLeft > MAX_DISCARD) this.keepAlive = false;
    }
    if (this.bodyDone || !this.keepAlive) this.finishExchange();
  }

  /** Drop this try's upstream (its response is not wanted, or never came); the retry state resends. */
  retry(): void {
    const up = this.up;
    this.up = null;
    // The unwanted response's body may still be arriving: the socket cannot be reused.
    up?.destroy();
    this.respHeadBuf = null;
    this.respBytes = 0;
    this.rs.schedule();
  }

  resend(): void {
    if (this.closed || !this.active || this.respHeadSent) return;
    const plan = this.plan!;
    const cl = plan.cluster!;
    const i = cl.next();
    if (this.logging) {
      this.epIdx = i;
      this.upT0 = performance.now();
    }
    const up = this.ctx.shared.pool.acquire(cl, i, this);
    this.up = up;
    writeUpstreamHead(up, upstreamHead(plan, this.head, this.clientIp, this.ctx.scheme, false));
    this.rs.armTry();
  }

  tryTimedOut(): void {
    if (this.respStage === R_DONE || !this.active) return;
    if (!this.respHeadSent && this.rs.take(this.plan!.cells)) return this.retry();
    if (this.timer) clearTimeout(this.timer);
    this.onRouteTimeout();
  }

  upDrain(up: UpstreamConn): void {
    if (up === this.up && this.socket.isPaused()) this.socket.resume();
  }

  upClose(up: UpstreamConn, err: Error | undefined): void {
    if (up !== this.up) return;
    this.up = null;
    if (this.tunnel) {
      this.socket.end();
      return;
    }
    if (this.respStage === R_DONE) return;
    if (this.respStage === R_BODY && this.respUntilClose) return this.respDone();
    if (!this.respHeadSent) {
      // A pooled socket the upstream closed while idle: replay once on a fresh one if nothing was streamed.
      if (up.reused && this.respBytes === 0 && this.head.contentLength <= 0 && !this.head.chunked && this.plan?.cluster) {
        const cl = this.plan.cluster;
        const fresh = this.ctx.shared.pool.fresh(cl, this.plan.replayEndpoint(), this);
        this.up = fresh;
        fresh.socket.write(upstreamHead(this.plan, this.head, this.clientIp, this.ctx.scheme, false), 'latin1');
        return;
      }
      if (this.plan?.cells) this.plan.cells.connectFailures.v++;
      if (this.rs.take(this.plan!.cells)) return this.retry();
      this.upReusable = false;
      return this.respondLocal(connectFailureStatus(this.plan!), connectFailureBody(this.plan!, err), null);
    }
    // Mid-body: the client cannot be told cleanly; cut the connection so it sees a truncated response.
    this.socket.destroy();
  }

  dropUpstream(): void {
    if (this.up) {
      this.up.destroy();
      this.up = null;
    }
    if (this.h2) {
      this.h2.close();
      this.h2 = null;
    }
  }

  /** Drop the upstream and answer `status` (502; 503 when the retry budget refused a retry). */
  badGateway(body: string, status = 502): void {
    this.upReusable = false;
    this.dropUpstream();
    if (!this.respHeadSent) this.respondLocal(status, body, null);
    else this.socket.destroy();
  }

  onRouteTimeout = (): void => {
    this.timer = null;
    this.rs.cancel();
    if (this.respStage === R_DONE || !this.active) return;
    if (this.plan?.cells) this.plan.cells.timeouts.v++;
    this.dropUpstream();
    if (!this.respHeadSent) {
      if (!this.bodyDone) this.keepAlive = false;
      this.bodyDiscard = true;
      if (this.rs.refused) this.respondLocal(503, BUDGET_EXHAUSTED, null);
      else this.respondLocal(504, 'upstream request timeout\n', null);
    } else this.socket.destroy();
  };

  // ---------------------------------------------------------------- upstream (HTTP/2)

  // ---------------------------------------------------------------- responses and completion

  respondLocal(status: number, body: string, headers: string[] | null): void {
    this.status = status;
    if (this.t0 !== 0 || this.logging) this.why = localReason(status, body);
    if (!this.bodyDone && (this.bodyChunked || this.bodyLeft > MAX_DISCARD)) this.keepAlive = false;
    if (this.ctx.draining) this.keepAlive = false;
    let s = 'HTTP/1.1 ' + status + ' ' + reason(status) + '\r\n';
    if (headers) for (let i = 0; i < headers.length; i += 2) s += headers[i] + ': ' + headers[i + 1] + '\r\n';
    const blen = Buffer.byteLength(body);
    if (blen) s += 'content-type: text/plain\r\n';
    s += 'content-length: ' + blen + '\r\n' + (this.keepAlive ? '\r\n' : 'connection: close\r\n\r\n');
    this.respHeadSent = true;
    this.respStage = R_DONE;
    this.rs.cancel();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const out = this.isHeadMethod ? s : s + body;
    this.localBytes = out.length;
    this.socket.write(out);
    if (this.bodyDone || !this.keepAlive) this.finishExchange();
  }

  finishExchange(): void {
    if (!this.active) return;
    logExchange(this, this.status);
    if (this.t0 !== 0) countExchange(this);
    this.active = false;
    this.plan = null;
    if (this.mirrors) {
      for (const m of this.mirrors) m.end();
      this.mirrors = null;
    }
    if (!this.keepAlive) {
      this.active = true; // read nothing more
      this.endSoon();
      this.buf = null;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) this.processInput();
  }

  // ---------------------------------------------------------------- socket events

  private onDrain = (): void => {
    if (this.up && this.up.socket.isPaused()) this.up.socket.resume();
    if (this.h2 && this.h2.isPaused()) this.h2.resume();
  };

  /** The client half-closed: answer what it already sent, then close (sockets are allowHalfOpen). */
  private onEnd = (): void => {
    this.keepAlive = false;
    if (this.tunnel) {
      this.up?.socket.end();
      return;
    }
    if (!this.active) {
      // A complete request may still sit in the buffer (processInput runs before 'end'); anything else is cut off.
      this.buf = null;
      this.socket.end();
    }
  };

  private endSoon(): void {
    if (this.endTimer || this.closed) return;
    this.endTimer = setTimeout(this.forceClose, this.ctx.shared.opts.idleTimeoutMs);
  }

  private forceClose = (): void => {
    this.endTimer = null;
    this.socket.destroy();
  };

  sweep(cutoff: number): void {
    // An idle keep-alive connection, or a client stalled in the middle of its request body, times
    // out here; a request waiting on its upstream has the route timeouts instead.
    if (this.lastActive < cutoff && (!this.active || this.tunnel || !this.bodyDone)) {
      if (this.tunnel) this.dropUpstream();
      this.socket.destroy();
    }
  };

  private onError = (): void => {
    // 'close' follows; nothing to report to anyone.
  };

  private onClose = (): void => {
    this.closed = true;
    // A request the connection ended before it finished (client gone, response cut, WebSocket
    // tunnel closing) is counted with whatever status went out (0 = none: code "other").
    if (this.t0 !== 0 && this.active) countExchange(this);
    if (this.logging && this.active) logExchange(this, this.status);
    if (this.headTimer) clearTimeout(this.headTimer);
    if (this.timer) clearTimeout(this.timer);
    this.rs.cancel();
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    this.headTimer = this.timer = null;
    this.upReusable = false;
    this.dropUpstream();
    if (this.mirrors) {
      for (const m of this.mirrors) m.end();
      this.mirrors = null;
    }
    this.onGone(this);
  };
}
