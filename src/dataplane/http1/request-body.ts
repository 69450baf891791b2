// The request body of an HTTP/1.1 exchange (connection.ts): Content-Length counted down or
// chunked framing checked (ChunkedReader), bytes passed on to the HTTP/1.1 upstream as they
// came, de-framed for an HTTP/2 upstream, copied to mirrors, or dropped after a local answer.
// Backpressure pauses the client. Functions of the connection (see response.ts for why).

import type { Http1Conn } from './connection.js';
import { R_DONE } from './exchange-state.js';

/** Body bytes that arrived with the head. */
export function feedBuffered(c: Http1Conn): void {
  if (c.bodyDone || c.buf === null) return;
  const b = c.buf;
  c.buf = null;
  const used = feedBody(c, b, 0);
  if (used < b.length) c.buf = c.buf === null ? b.subarray(used) : Buffer.concat([b.subarray(used), c.buf]);
}

/** Consume body bytes from chunk[start..]; returns the offset just past the body's end (or chunk.length). */
export function feedBody(c: Http1Conn, chunk: Buffer, start: number): number {
  let end: number;
  if (c.bodyChunked) {
    const rc = c.reqChunk!;
    const r = rc.feed(chunk, start);
    if (r === -2) {
      abortBadBody(c);
      return chunk.length;
    }
    end = r < 0 ? chunk.length : r;
    if (r >= 0) c.bodyDone = true;
  } else {
    const n = Math.min(c.bodyLeft, chunk.length - start);
    c.bodyLeft -= n;
    end = start + n;
    if (c.bodyLeft === 0) c.bodyDone = true;
  }
  c.reqBytes += end - start;
  if (end > start && !c.bodyDiscard) {
    const slice = start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
    if (c.up) {
      if (!c.up.socket.write(c.keep(slice))) c.socket.pause();
    } else if (c.h2) {
      const rc = c.reqChunk;
      if (rc && rc.decoded) {
        for (const d of rc.decoded) if (!c.h2.write(c.keep(d))) c.socket.pause();
        rc.decoded.length = 0;
      } else if (!c.h2.write(c.keep(slice))) c.socket.pause();
    }
    if (c.mirrors) for (const m of c.mirrors) m.write(c.keep(slice));
  }
  if (c.bodyDone) onBodyDone(c);
  return end;
}

export function onBodyDone(c: Http1Conn): void {
  if (c.mirrors) {
    for (const m of c.mirrors) m.end();
    c.mirrors = null;
  }
  if (c.h2 && !c.bodyDiscard) c.h2.end();
  if (c.socket.isPaused()) c.socket.resume();
  if (c.respStage === R_DONE && c.active) c.finishExchange();
}

export function abortBadBody(c: Http1Conn): void {
  c.bodyDone = true;
  c.keepAlive = false;
  if (!c.respHeadSent) {
    c.dropUpstream();
    c.respondLocal(400, 'bad chunked body\n', null);
  } else c.socket.destroy();
}
