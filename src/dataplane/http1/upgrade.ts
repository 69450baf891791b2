// Which HTTP/1.1 Upgrade requests Portico tunnels, and the check on the 101 that answers one.
// Only reached when the parser saw an Upgrade header with a Connection "upgrade" token: the
// hot path never calls into this file.
//
// The rule (see ../README.md, "Upgrades"): a request is tunnelled only when it is a WebSocket
// opening handshake (GET, HTTP/1.1, Upgrade token "websocket") and the backendRef's cluster is
// a WebSocket one (Service port appProtocol kubernetes.io/ws or kubernetes.io/wss -> IR
// protocol 'ws'). Every other Upgrade (h2c, unknown tokens, WebSocket to a plain HTTP
// backend) is dropped with its Connection token and HTTP2-Settings, and the request is
// forwarded as an ordinary request. A 101 is accepted only for the protocol we asked for; it
// turns the connection into a raw tunnel (startTunnel; connection.ts and response.ts then relay
// bytes both ways untouched).

import type { ClusterProtocol } from '../../ir/types.js';
import { filteredResponseLines } from '../filters/response-filters.js';
import type { UpstreamConn } from '../upstream/pool.js';
import type { Http1Conn } from './connection.js';
import { R_BODY } from './exchange-state.js';
import type { RequestHead } from './parser.js';

export const WEBSOCKET = 'websocket';

/** The backend takes WebSocket upgrades (HTTP/1.1 and the HTTP/2 extended CONNECT path alike). */
export function websocketBackend(protocol: ClusterProtocol): boolean {
  return protocol === 'ws';
}

/** `list` (a comma-separated header value) holds `token`, compared case-insensitively. */
export function hasToken(list: string, token: string): boolean {
  let start = 0;
  while (start <= list.length) {
    let end = list.indexOf(',', start);
    if (end < 0) end = list.length;
    if (list.slice(start, end).trim().toLowerCase() === token) return true;
    start = end + 1;
  }
  return false;
}

/**
 * The Upgrade protocol to send upstream for this request: 'websocket', or '' when the upgrade
 * is not allowed (then the request goes out as an ordinary request, without Upgrade).
 */
export function allowedUpgrade(h: RequestHead, protocol: ClusterProtocol): string {
  if (h.method !== 'GET' || h.minor !== 1 || !websocketBackend(protocol)) return '';
  return hasToken(h.upgrade, WEBSOCKET) ? WEBSOCKET : '';
}

/**
 * A 101 response head `head` (status line and header lines, no final CRLFCRLF) switches to
 * exactly `want`: its Upgrade header names that one protocol and nothing else.
 */
export function switchesTo(head: string, want: string): boolean {
  let found = '';
  let pos = head.indexOf('\r\n');
  while (pos >= 0 && pos < head.length) {
    pos += 2;
    let end = head.indexOf('\r\n', pos);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', pos);
    if (colon > pos && colon < end && head.slice(pos, colon).toLowerCase() === 'upgrade') {
      found = found ? found + ',' + head.slice(colon + 1, end) : head.slice(colon + 1, end);
    }
    pos = end;
  }
  return found.trim().toLowerCase() === want;
}

/**
 * The backend switched to WebSocket: pass its 101 on (response header filters applied, our own
 * Connection/Upgrade), then bytes flow raw both ways until either side closes. buf[start..end)
 * is what followed the 101 head.
 */
export function startTunnel(c: Http1Conn, up: UpstreamConn, buf: Buffer, start: number, end: number): void {
  const resp = c.resp;
  const plan = c.plan!;
  c.upgrading = false;
  c.tunnel = true;
  c.status = 101;
  c.respHeadSent = true;
  c.respStage = R_BODY;
  c.rs.endTry();
  if (c.timer) {
    clearTimeout(c.timer);
    c.timer = null;
  }
  const lines = filteredResponseLines(plan, resp.lines);
  c.out(resp.statusLine + '\r\n' + lines + 'connection: upgrade\r\nupgrade: ' + WEBSOCKET + '\r\n\r\n');
  if (start < end) c.socket.write(up.ephemeral ? Buffer.from(buf.subarray(start, end)) : buf.subarray(start, end));
  if (c.buf) {
    up.socket.write(c.buf);
    c.buf = null;
  }
  if (c.socket.isPaused()) c.socket.resume();
  if (c.socket.readableEnded) up.socket.end();
}
