// The response relay of an HTTP/1.1 connection (connection.ts) to an HTTP/1.1 upstream: the
// upstream's bytes, its response head (interim heads passed on, retries by status, the 101 of
// a WebSocket handshake handed to upgrade.ts), the head the client gets (response filters,
// framing, keep-alive) and the body de-framed or passed through. These are functions of the
// connection, not methods, only to keep connection.ts one job: they read and write its fields
// directly, allocate nothing per chunk and are called with Http1Conn alone (monomorphic).

import { clock } from '../clock.js';
import { filteredResponseLines } from '../filters/response-filters.js';
import type { UpstreamConn } from '../upstream/pool.js';
import { BUDGET_EXHAUSTED } from '../upstream/retry.js';
import type { Http1Conn } from './connection.js';
import { CRLFCRLF, R_BODY, R_DONE, R_HEAD, SMALL_READ } from './exchange-state.js';
import { ChunkedReader, latin1, MAX_RESPONSE_HEAD, parseResponseHead } from './parser.js';
import { startTunnel, switchesTo, WEBSOCKET } from './upgrade.js';

/** Upstream bytes buf[0..n). */
export function handleUpData(c: Http1Conn, up: UpstreamConn, buf: Buffer, n: number): void {
  if (up !== c.up) return;
  c.lastActive = clock.now;
  if (c.tunnel) {
    if (!c.socket.write(n === buf.length ? buf : buf.subarray(0, n))) up.socket.pause();
    return;
  }
  c.respBytes += n;
  if (c.respStage === R_HEAD) {
    if (c.respHeadBuf === null && n <= SMALL_READ) {
      // A small read holding the whole head (often the whole response): one string for both.
      const s = latin1(buf, 0, n);
      const idx = s.indexOf('\r\n\r\n');
      if (idx >= 0) return responseHead(c, up, s.substring(0, idx), buf, idx + 4, n, s);
    }
    let chunk = n === buf.length ? buf : buf.subarray(0, n);
    if (c.respHeadBuf) {
      chunk = Buffer.concat([c.respHeadBuf, chunk]);
      c.respHeadBuf = null;
    }
    const idx = chunk.indexOf(CRLFCRLF);
    if (idx < 0) {
      if (chunk.length > MAX_RESPONSE_HEAD) c.badGateway('upstream response head too large\n');
      else c.respHeadBuf = up.ephemeral && chunk.buffer === buf.buffer ? Buffer.from(chunk) : chunk;
      return;
    }
    responseHead(c, up, latin1(chunk, 0, idx), chunk, idx + 4, chunk.length, null);
  } else if (c.respStage === R_BODY) {
    respBody(c, buf, 0, n, null);
  } else {
    // Bytes after the response ended: this upstream is out of sync.
    c.upReusable = false;
  }
}

/**
 * The upstream's response head `head` (without its final CRLFCRLF) arrived; what follows it is
 * buf[start..end). `s`, when given, is buf[0..end) as a latin1 string.
 */
function responseHead(c: Http1Conn, up: UpstreamConn, head: string, buf: Buffer, start: number, end: number, s: string | null): void {
  const resp = c.resp;
  if (!parseResponseHead(head, resp)) return c.badGateway('malformed upstream response\n');
  if (resp.status < 200) {
    if (resp.status === 101) {
      // Only the protocol Portico asked for: any other 101 would give the client a raw pipe to the backend.
      if (c.upgrading && switchesTo(head, WEBSOCKET)) return startTunnel(c, up, buf, start, end);
      return c.badGateway('unexpected upgrade\n');
    }
    // Interim (100 Continue, 103 Early Hints): pass on, keep waiting for the final head.
    if (c.head.minor === 1) c.socket.write(resp.statusLine + '\r\n' + resp.lines + '\r\n', 'latin1');
    if (start < end) {
      const rest = buf.subarray(start, end);
      handleUpData(c, up, rest, rest.length);
    }
    return;
  }
  if (c.upgrading) {
    // The backend declined the upgrade: an ordinary response, and a socket nobody reuses.
    c.upgrading = false;
    c.upReusable = false;
  }
  if (c.logging) {
    c.upMs = performance.now() - c.upT0;
    c.upStatus = resp.status;
  }
  if (c.rs.takeStatus(resp.status, c.plan!.cells)) return c.retry();
  if (c.rs.refused) return c.badGateway(BUDGET_EXHAUSTED, 503);
  sendResponseHead(c);
  if ((c.respStage as number) === R_DONE) {
    if (start < end) c.upReusable = false;
    flushHead(c);
    return c.respDone();
  }
  if (start < end) respBody(c, buf, start, end, s);
  flushHead(c);
}

function sendResponseHead(c: Http1Conn): void {
  const resp = c.resp;
  const plan = c.plan!;
  c.status = resp.status;
  const lines = filteredResponseLines(plan, resp.lines);
  const noBody = c.isHeadMethod || resp.status === 204 || resp.status === 304;
  c.respStage = R_BODY;
  c.respDecode = false;
  c.respUntilClose = false;
  let framing = '';
  if (noBody) {
    c.respStage = R_DONE;
  } else if (resp.chunked) {
    (c.respChunk ??= new ChunkedReader()).reset();
    if (c.head.minor === 0) {
      // An HTTP/1.0 client cannot read chunked: send the data unframed and close.
      c.respDecode = true;
      c.respChunk.decoded = [];
      c.keepAlive = false;
    } else {
      c.respChunk.decoded = null;
      framing = 'transfer-encoding: chunked\r\n';
    }
  } else if (resp.contentLength >= 0) {
    c.respLeft = resp.contentLength;
    if (c.respLeft === 0) c.respStage = R_DONE;
  } else {
    c.respUntilClose = true;
    c.keepAlive = false;
    c.upReusable = false;
  }
  if (resp.close) c.upReusable = false;
  if (c.ctx.draining) c.keepAlive = false;
  const s = resp.statusLine + '\r\n' + lines + framing + (c.keepAlive ? '\r\n' : 'connection: close\r\n\r\n');
  c.respHeadSent = true;
  // Held back so the first body bytes go out in the same write (one syscall, no writev).
  c.pendingHead = s;
}

export function flushHead(c: Http1Conn): void {
  const s = c.pendingHead;
  if (s === null) return;
  c.pendingHead = null;
  if (!c.out(s) && c.up) c.up.socket.pause();
}

/** Response body bytes buf[start..limit); `s` is buf[0..limit) as a latin1 string, when the caller has it. */
function respBody(c: Http1Conn, buf: Buffer, start: number, limit: number, s: string | null): void {
  let end: number;
  let done = false;
  if (c.respChunk && c.resp.chunked) {
    const r = c.respChunk.feed(limit === buf.length ? buf : buf.subarray(0, limit), start);
    if (r === -2) {
      c.upReusable = false;
      c.dropUpstream();
      c.socket.destroy();
      return;
    }
    done = r >= 0;
    end = done ? r : limit;
  } else if (c.respUntilClose) {
    end = limit;
  } else {
    const n = Math.min(c.respLeft, limit - start);
    c.respLeft -= n;
    end = start + n;
    done = c.respLeft === 0;
  }
  if (end < limit) c.upReusable = false;
  let ok = true;
  if (c.respDecode) {
    flushHead(c);
    const d = c.respChunk!.decoded!;
    for (const x of d) ok = c.socket.write(c.up?.ephemeral ? Buffer.from(x) : x) && ok;
    d.length = 0;
  } else if (s !== null && end > start) {
    // Strings are copied when written: nothing refers to the shared read buffer afterwards.
    const head = c.pendingHead;
    c.pendingHead = null;
    ok = c.out(head !== null ? head + s.substring(start, end) : s.substring(start, end));
  } else if (end > start) {
    const head = c.pendingHead;
    if (head !== null) {
      c.pendingHead = null;
      const hl = head.length; // latin1: one byte per char
      const out = Buffer.allocUnsafe(hl + end - start);
      out.write(head, 0, hl, 'latin1');
      buf.copy(out, hl, start, end);
      ok = c.out(out);
    } else {
      const slice = buf.subarray(start, end);
      ok = c.out(c.up?.ephemeral ? Buffer.from(slice) : slice);
    }
  }
  if (done) c.respDone();
  else if (!ok && c.up) c.up.socket.pause();
}
