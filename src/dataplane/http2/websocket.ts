// WebSocket over HTTP/2 (RFC 8441): an extended CONNECT stream (:protocol websocket) becomes
// the HTTP/1.1 Upgrade the backend expects, and once it answers 101 the stream carries the
// WebSocket bytes both ways. The route is matched as the GET that Upgrade is.

import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type * as http2 from 'node:http2';
import type { PortContext } from '../context.js';
import type { Plan } from '../plan.js';
import { newResponseHead, parseResponseHead, type RequestHead } from '../http1/parser.js';
import { upstreamHead } from '../http1/request-head.js';
import { switchesTo, websocketBackend, WEBSOCKET } from '../http1/upgrade.js';
import { upstreamTlsOptions } from '../upstream/tls-loader.js';
import { linesToFlat } from '../filters/header-modifier.js';

const MAX_HEAD = 64 * 1024;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Response headers of the 101 that describe the WebSocket session and so belong on the 200. */
const KEEP = new Set(['sec-websocket-protocol', 'sec-websocket-extensions']);

export function websocketOverH2(ctx: PortContext, stream: http2.ServerHttp2Stream, plan: Plan, clientIp: string, authority: string): void {
  const cl = plan.cluster!;
  if (!websocketBackend(cl.protocol)) {
    // The HTTP/1.1 rule (http1/upgrade.ts): WebSocket only to backends that opted in with appProtocol
    // kubernetes.io/ws(s). An extended CONNECT cannot go on as a plain GET (a 2xx would open the
    // tunnel), so it is refused here.
    stream.respond({ ':status': 501, 'content-type': 'text/plain' });
    stream.end('websocket is not enabled for this backend\n');
    return;
  }
  const i = plan.pickEndpoint();
  const ep = cl.endpoints[i]!;
  // RFC 8441 has no Sec-WebSocket-Key: the HTTP/1.1 side needs one, so the proxy makes it up.
  const key = randomBytes(16).toString('base64');
  const headers = plan.headers.filter((_, k, a) => a[k - (k % 2)] !== 'sec-websocket-key');
  headers.push('sec-websocket-key', key);
  plan.headers = headers; // the plan is this stream's own
  const head: RequestHead = {
    method: 'GET', target: plan.target, minor: 1, headers, host: authority || undefined,
    contentLength: -1, chunked: false, transferCodings: '', close: false, upgrade: 'websocket', expectContinue: false, te: '',
  };
  const up: net.Socket = cl.tls
    ? tls.connect({ host: ep.address, port: ep.port, ...upstreamTlsOptions(cl.tls), ALPNProtocols: ['http/1.1'] })
    : net.connect(ep.port, ep.address);
  up.setNoDelay(true);
  up.write(upstreamHead(plan, head, clientIp, ctx.scheme, true), 'latin1');

  let buf: Buffer | null = null;
  const fail = (status: number): void => {
    up.destroy();
    if (stream.destroyed) return;
    if (!stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
    else stream.close();
  };
  up.on('error', () => fail(502));
  stream.on('error', () => up.destroy());
  stream.on('close', () => up.destroy());
  const onHead = (chunk: Buffer): void => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) fail(502);
      return;
    }
    up.off('data', onHead);
    const resp = newResponseHead();
    const text = buf.toString('latin1', 0, end);
    if (!parseResponseHead(text, resp)) return fail(502);
    if (resp.status !== 101) return fail(resp.status >= 200 ? resp.status : 502);
    // A 101 to another protocol than the one asked for is not a WebSocket.
    if (!switchesTo(text, WEBSOCKET)) return fail(502);
    const flat = linesToFlat(resp.lines);
    const out: http2.OutgoingHttpHeaders = { ':status': 200 };
    let accept = '';
    for (let k = 0; k < flat.length; k += 2) {
      const name = flat[k]!.toLowerCase();
      if (KEEP.has(name)) out[name] = flat[k + 1]!;
      if (name === 'sec-websocket-accept') accept = flat[k + 1]!;
    }
    // The backend must have answered our key (RFC 6455 4.2.2): anything else is not a WebSocket.
    if (accept !== createHash('sha1').update(key + WS_GUID).digest('base64')) return fail(502);
    if (stream.destroyed) return void up.destroy();
    stream.respond(out);
    if (end + 4 < buf.length) stream.write(buf.subarray(end + 4));
    buf = null;
    up.pipe(stream);
    stream.pipe(up);
  };
  up.on('data', onHead);
}
