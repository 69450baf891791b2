// An HTTP/2 stream proxied to an HTTP/1.1 upstream over the same pooled raw sockets the
// HTTP/1.1 fast path uses (no node:http client in between). The request body is re-framed
// (Content-Length when the client gave one, else chunked); the response head is parsed by the
// fast-path parser and its body de-framed onto the stream.

import * as http2 from 'node:http2';
import type { PortContext } from '../context.js';
import { linesToFlat } from '../filters/header-modifier.js';
import { applyResponseFilters } from '../filters/response-filters.js';
import { ChunkedReader, MAX_RESPONSE_HEAD, newResponseHead, parseResponseHead, type RequestHead } from '../http1/parser.js';
import { upstreamHead } from '../http1/request-head.js';
import { writeUpstreamHead } from '../http1/direct-write.js';
import type { Plan } from '../plan.js';
import type { UpstreamConn, UpstreamOwner } from '../upstream/pool.js';
import { BUDGET_EXHAUSTED, connectFailureBody, connectFailureStatus, RetryState, type RetryOwner } from '../upstream/retry.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export class H2ToH1 implements UpstreamOwner, RetryOwner {
  private up: UpstreamConn | null = null;
  private readonly resp = newResponseHead();
  private headBuf: Buffer | null = null;
  /** 0 waiting for the head, 1 body, 2 done. */
  private stage = 0;
  private left = 0;
  private chunk: ChunkedReader | null = null;
  private untilClose = false;
  private reusable = true;
  private reqDone = false;
  /** Upstream response bytes of the current attempt (metrics read it when the stream closes). */
  respBytes = 0;
  /** Access log figures: endpoint index of the last attempt, its send time, time to its response head, its status, retries. */
  endpoint = -1;
  upT0 = 0;
  upMs = -1;
  upStatus = 0;
  private readonly chunkedReq: boolean;
  private readonly head: RequestHead;
  /** HTTPRoute retry (upstream/retry.ts); only requests without a body are sent again. */
  private readonly rs = new RetryState(this);

  constructor(
    private readonly ctx: PortContext,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly plan: Plan,
    private readonly clientIp: string,
    authority: string,
    contentLength: number,
    hasBody: boolean,
    private readonly onLocal: (status: number, body: string) => void,
    private readonly onDone: () => void,
  ) {
    this.chunkedReq = hasBody && contentLength < 0;
    this.head = {
      method: plan.method, target: plan.target, minor: 1, headers: plan.headers, host: authority || undefined,
      contentLength: hasBody ? contentLength : plan.method === 'POST' || plan.method === 'PUT' ? 0 : -1,
      chunked: this.chunkedReq, transferCodings: '', close: false, upgrade: '', expectContinue: false, te: '',
    };
    this.reqDone = !hasBody;
    this.rs.begin(plan, !hasBody);
  }

  /** Retries sent (access log). */
  get retries(): number {
    return this.rs.count;
  }

  /** Send the request head to the next endpoint (first try, and each retry). */
  private send(): void {
    const cl = this.plan.cluster!;
    const i = this.plan.pickEndpoint();
    this.endpoint = i;
    this.upT0 = performance.now();
    const up = this.ctx.shared.pool.acquire(cl, i, this);
    this.up = up;
    this.respBytes = 0;
    writeUpstreamHead(up, upstreamHead(this.plan, this.head, this.clientIp, this.ctx.scheme, false));
    this.rs.armTry();
  }

  /** Drop this try's upstream (its response is not wanted, or never came); the retry state resends. */
  private retry(): void {
    const up = this.up;
    this.up = null;
    up?.destroy(); // the unwanted response may still be arriving: never reused
    this.headBuf = null;
    this.rs.schedule();
  }

  resend(): void {
    if (this.stage === 0 && !this.stream.destroyed) this.send();
  }

  tryTimedOut(): void {
    if (this.stage === 2) return;
    if (this.stage === 0 && !this.stream.headersSent && this.rs.take(this.plan.cells)) return this.retry();
    this.onTimeout();
  }

  start(): void {
    this.send();
    const s = this.stream;
    if (!this.reqDone) {
      s.on('data', (d: Buffer) => {
        const u = this.up;
        if (!u) return;
        const ok = this.chunkedReq ? u.socket.write(d.length.toString(16) + '\r\n') && u.socket.write(d) && u.socket.write('\r\n') : u.socket.write(d);
        if (!ok) s.pause();
      });
      s.on('end', () => {
        this.reqDone = true;
        if (this.up && this.chunkedReq) this.up.socket.write('0\r\n\r\n');
        if (this.stage === 2) this.finish();
      });
    }
    s.on('drain', () => {
      if (this.up && this.up.socket.isPaused()) this.up.socket.resume();
    });
    s.on('close', () => {
      this.rs.cancel();
      // Client went away (or we are done): an upstream still mid-exchange cannot be reused.
      if (this.up && this.stage !== 2) {
        this.up.destroy();
        this.up = null;
      }
    });
  }

  /** The last try ran past its backendRequest timeout: 504, or a reset once the head went out. */
  private onTimeout(): void {
    if (this.plan.cells) this.plan.cells.timeouts.v++;
    const refused = this.rs.refused;
    this.abort();
    if (!this.stream.headersSent) this.onLocal(refused ? 503 : 504, refused ? BUDGET_EXHAUSTED : 'upstream request timeout\n');
    else if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  abort(): void {
    this.rs.cancel();
    this.reusable = false;
    if (this.up) {
      this.up.destroy();
      this.up = null;
    }
    this.stage = 2;
  }

  upData(up: UpstreamConn, buf: Buffer, n: number): void {
    if (up !== this.up) return;
    try {
      this.onUpData(up, n === buf.length ? buf : buf.subarray(0, n));
    } catch {
      this.abort();
      if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  private onUpData(up: UpstreamConn, chunk: Buffer): void {
    this.respBytes += chunk.length;
    if (this.stage === 0) {
      let buf = chunk;
      if (this.headBuf) {
        buf = Buffer.concat([this.headBuf, chunk]);
        this.headBuf = null;
      }
      const idx = buf.indexOf(CRLFCRLF);
      if (idx < 0) {
        if (buf.length > MAX_RESPONSE_HEAD) return this.fail('upstream response head too large\n');
        this.headBuf = up.ephemeral && buf === chunk ? Buffer.from(buf) : buf;
        return;
      }
      if (!parseResponseHead(buf.toString('latin1', 0, idx), this.resp)) return this.fail('malformed upstream response\n');
      const start = idx + 4;
      const r = this.resp;
      // This path never sends Upgrade (the extended CONNECT WebSocket has its own, websocket.ts): a 101
      // is a protocol switch nobody asked for, and the socket cannot be trusted or reused.
      if (r.status === 101) return this.fail('unexpected upgrade\n');
      if (r.status < 200) {
        // Interim responses (100 Continue) are not relayed on HTTP/2.
        if (start < buf.length) this.onUpData(up, buf.subarray(start));
        return;
      }
      this.upMs = performance.now() - this.upT0;
      this.upStatus = r.status;
      if (this.rs.takeStatus(r.status, this.plan.cells)) return this.retry();
      if (this.rs.refused) return this.fail(BUDGET_EXHAUSTED, 503);
      const noBody = this.plan.method === 'HEAD' || r.status === 204 || r.status === 304;
      if (r.close) this.reusable = false;
      this.respond(noBody);
      if (noBody || (!r.chunked && r.contentLength === 0)) {
        if (start < buf.length) this.reusable = false;
        return this.respDone();
      }
      this.stage = 1;
      if (r.chunked) {
        (this.chunk ??= new ChunkedReader()).reset();
        this.chunk.decoded = [];
      } else if (r.contentLength > 0) this.left = r.contentLength;
      else {
        this.untilClose = true;
        this.reusable = false;
      }
      if (start < buf.length) this.body(buf, start, up.ephemeral);
    } else if (this.stage === 1) {
      this.body(chunk, 0, up.ephemeral);
    } else {
      this.reusable = false;
    }
  }

  private respond(noBody: boolean): void {
    const s = this.stream;
    if (s.destroyed) return;
    const flat = linesToFlat(this.resp.lines);
    applyResponseFilters(this.plan, flat);
    const out: http2.OutgoingHttpHeaders = { ':status': this.resp.status };
    for (let i = 0; i < flat.length; i += 2) {
      const n = flat[i]!.toLowerCase();
      if (HOP.has(n)) continue;
      const prev = out[n];
      const v = flat[i + 1]!;
      out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    s.respond(out, noBody ? { endStream: true } : undefined);
  }

  private body(buf: Buffer, start: number, ephemeral: boolean): void {
    let ok = true;
    let done = false;
    let end: number;
    const s = this.stream;
    if (this.chunk && this.resp.chunked) {
      const r = this.chunk.feed(buf, start);
      if (r === -2) return this.fail('bad chunked upstream body\n');
      done = r >= 0;
      end = done ? r : buf.length;
      for (const d of this.chunk.decoded!) if (!s.destroyed) ok = s.write(ephemeral ? Buffer.from(d) : d) && ok;
      this.chunk.decoded!.length = 0;
    } else if (this.untilClose) {
      end = buf.length;
      if (!s.destroyed) ok = s.write(ephemeral ? Buffer.from(buf.subarray(start)) : buf.subarray(start));
    } else {
      const n = Math.min(this.left, buf.length - start);
      this.left -= n;
      end = start + n;
      done = this.left === 0;
      if (n > 0 && !s.destroyed) {
        const slice = buf.subarray(start, end);
        const data = ephemeral ? Buffer.from(slice) : slice;
        // The last bytes go out with END_STREAM: one DATA frame, no separate end().
        if (done && this.reqDone) s.end(data);
        else ok = s.write(data);
      }
    }
    if (end < buf.length) this.reusable = false;
    if (done) this.respDone();
    else if (!ok && this.up) this.up.socket.pause();
  }

  private respDone(): void {
    this.stage = 2;
    this.rs.endTry();
    if (!this.stream.destroyed && this.stream.headersSent && !this.stream.writableEnded) this.stream.end();
    if (this.reqDone) this.finish();
    else this.reusable = false;
  }

  private finish(): void {
    const up = this.up;
    this.up = null;
    if (up) {
      if (this.reusable && this.reqDone) {
        if (up.socket.isPaused()) up.socket.resume();
        this.ctx.shared.pool.release(up);
      } else up.destroy();
    }
    this.onDone();
  }

  private fail(body: string, status = 502): void {
    this.abort();
    if (!this.stream.headersSent) this.onLocal(status, body);
    else if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  upDrain(up: UpstreamConn): void {
    if (up === this.up && this.stream.isPaused()) this.stream.resume();
  }

  upClose(up: UpstreamConn, err: Error | undefined): void {
    if (up !== this.up) return;
    this.up = null;
    if (this.stage === 2) return;
    if (this.stage === 1 && this.untilClose) {
      this.reqDone = true;
      return this.respDone();
    }
    if (this.stage === 0 && !this.stream.headersSent) {
      // Stale pooled socket: replay once when nothing of the request body was streamed.
      if (up.reused && this.respBytes === 0 && this.head.contentLength <= 0 && !this.chunkedReq) {
        const cl = this.plan.cluster!;
        const fresh = this.ctx.shared.pool.fresh(cl, this.plan.replayEndpoint(), this);
        this.up = fresh;
        fresh.socket.write(upstreamHead(this.plan, this.head, this.clientIp, this.ctx.scheme, false), 'latin1');
        return;
      }
      if (this.plan.cells) this.plan.cells.connectFailures.v++;
      if (this.respBytes === 0 && this.rs.take(this.plan.cells)) return this.retry();
      this.stage = 2;
      return this.onLocal(connectFailureStatus(this.plan), connectFailureBody(this.plan, err));
    }
    this.stage = 2;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}
