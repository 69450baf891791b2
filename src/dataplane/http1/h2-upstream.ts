// An HTTP/1.1 request (connection.ts) to an HTTP/2 upstream (cluster protocol h2c or h2), over
// the shared HTTP/2 session pool: the request head becomes HTTP/2 headers, the body (chunked
// de-framed by request-body.ts) goes out as DATA, and the response is written back as HTTP/1.1
// (chunked when the backend gave no length and the client speaks 1.1). The mirror image of
// http2/h1-upstream.ts. A function of the connection (see response.ts for why).

import type * as http2 from 'node:http2';
import { reason } from '../context.js';
import { flatToLines } from '../filters/header-modifier.js';
import { applyResponseFilters } from '../filters/response-filters.js';
import type { Plan } from '../plan.js';
import type { Http1Conn } from './connection.js';
import { R_BODY, R_DONE } from './exchange-state.js';

export function forwardH2(c: Http1Conn, plan: Plan): void {
  const cl = plan.cluster!;
  const h = c.head;
  const headers: http2.OutgoingHttpHeaders = {
    ':method': plan.method,
    ':path': plan.target,
    ':authority': plan.authority,
    ':scheme': cl.tls ? 'https' : 'http',
  };
  const hs = plan.headers;
  for (let i = 0; i < hs.length; i += 2) {
    const n = hs[i]!;
    if (n === 'x-forwarded-for' || n === 'x-forwarded-proto' || n === 'x-forwarded-host') continue;
    const prev = headers[n];
    headers[n] = prev === undefined ? hs[i + 1] : Array.isArray(prev) ? [...prev, hs[i + 1]!] : [String(prev), hs[i + 1]!];
  }
  const xff = hs.indexOf('x-forwarded-for');
  headers['x-forwarded-for'] = xff >= 0 && xff % 2 === 0 ? hs[xff + 1] + ', ' + c.clientIp : c.clientIp;
  headers['x-forwarded-proto'] = c.ctx.scheme;
  if (h.host !== undefined) headers['x-forwarded-host'] = h.host;
  if (h.te) headers['te'] = h.te;
  if (h.contentLength >= 0) headers['content-length'] = String(h.contentLength);
  if (h.chunked) c.reqChunk!.decoded = [];
  let stream: http2.ClientHttp2Stream;
  try {
    const i = plan.pickEndpoint();
    if (c.logging) {
      c.epIdx = i;
      c.upT0 = performance.now();
    }
    stream = c.ctx.shared.h2pool.request(cl, i, headers, c.bodyDone);
  } catch {
    if (plan.cells) plan.cells.connectFailures.v++;
    c.respondLocal(502, 'upstream connect error\n', null);
    return;
  }
  c.h2 = stream;
  stream.on('response', (rh) => {
    if (stream !== c.h2) return;
    const status = Number(rh[':status']) || 502;
    c.status = status;
    if (c.logging) {
      c.upMs = performance.now() - c.upT0;
      c.upStatus = status;
    }
    const flat: string[] = [];
    let cl = -1;
    for (const k of Object.keys(rh)) {
      if (k.charCodeAt(0) === 58 || k === 'connection' || k === 'keep-alive' || k === 'transfer-encoding') continue;
      const v = rh[k];
      if (k === 'content-length') cl = Number(v);
      if (Array.isArray(v)) for (const x of v) flat.push(k, x);
      else if (v !== undefined) flat.push(k, String(v));
    }
    applyResponseFilters(plan, flat);
    const noBody = c.isHeadMethod || status === 204 || status === 304;
    const chunk = !noBody && cl < 0 && c.head.minor === 1;
    if (!noBody && cl < 0 && !chunk) c.keepAlive = false;
    if (c.ctx.draining) c.keepAlive = false;
    c.respDecode = chunk; // reused as "we chunk-encode"
    c.respHeadSent = true;
    c.respStage = R_BODY;
    c.socket.write(
      `HTTP/1.1 ${status} ${reason(status)}\r\n` + flatToLines(flat) + (chunk ? 'transfer-encoding: chunked\r\n' : '') + (c.keepAlive ? '\r\n' : 'connection: close\r\n\r\n'),
      'latin1',
    );
  });
  stream.on('data', (d: Buffer) => {
    if (stream !== c.h2 || !c.respHeadSent || c.isHeadMethod) return;
    c.respBytes += d.length;
    const ok = c.respDecode ? c.socket.write(d.length.toString(16) + '\r\n') && c.socket.write(d) && c.socket.write('\r\n') : c.socket.write(d);
    if (!ok) stream.pause();
  });
  stream.on('end', () => {
    if (stream !== c.h2) return;
    if (c.respDecode && !c.isHeadMethod) c.socket.write('0\r\n\r\n');
    c.h2 = null;
    c.respDone();
  });
  stream.on('error', () => {
    if (stream !== c.h2) return;
    c.h2 = null;
    if (!c.respHeadSent && plan.cells) plan.cells.connectFailures.v++;
    if (!c.respHeadSent) c.respondLocal(502, 'upstream connect error\n', null);
    else c.socket.destroy();
  });
  stream.on('close', () => {
    if (stream !== c.h2) return;
    c.h2 = null;
    if (!c.respHeadSent) c.respondLocal(502, 'upstream reset\n', null);
    else if (c.respStage !== R_DONE) c.socket.destroy();
  });
}
