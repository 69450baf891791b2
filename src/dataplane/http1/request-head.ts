// The request head as the upstream sees it, and request-target normalisation.

import type { Plan } from '../plan.js';
import type { RequestHead } from './parser.js';

/**
 * Request line, filtered end-to-end headers, X-Forwarded-For/-Proto/-Host, and our own framing
 * (the client's Transfer-Encoding / Content-Length, never hop-by-hop headers). One string,
 * written in one call.
 */
export function upstreamHead(plan: Plan, h: RequestHead, clientIp: string, scheme: string, tunnel: boolean): string {
  let s = plan.method + ' ' + plan.target + ' HTTP/1.1\r\nhost: ' + plan.authority + '\r\n';
  const hs = plan.headers;
  let xff = '';
  for (let i = 0; i < hs.length; i += 2) {
    const n = hs[i]!;
    if (n.length === 15 && n === 'x-forwarded-for') {
      xff = xff ? xff + ', ' + hs[i + 1] : hs[i + 1]!;
      continue;
    }
    if ((n.length === 17 && n === 'x-forwarded-proto') || (n.length === 16 && n === 'x-forwarded-host')) continue;
    s += n + ': ' + hs[i + 1] + '\r\n';
  }
  s += 'x-forwarded-for: ' + (xff ? xff + ', ' + clientIp : clientIp) + '\r\nx-forwarded-proto: ' + scheme + '\r\n';
  if (h.host !== undefined) s += 'x-forwarded-host: ' + h.host + '\r\n';
  if (h.chunked) s += h.transferCodings ? 'transfer-encoding: ' + h.transferCodings + '\r\n' : 'transfer-encoding: chunked\r\n';
  else if (h.contentLength >= 0) s += 'content-length: ' + h.contentLength + '\r\n';
  if (h.expectContinue) s += 'expect: 100-continue\r\n';
  if (tunnel) s += 'connection: upgrade\r\nupgrade: ' + h.upgrade + '\r\n';
  return s + '\r\n';
}

/**
 * RFC 9112 3.2.2: an absolute-form target ("http://host/path") carries the authority, which
 * replaces Host. Returns true when the target is neither origin-form nor a usable absolute-form
 * ("*" is accepted for OPTIONS only).
 */
export function absoluteForm(h: { method: string; target: string; host: string | undefined }): boolean {
  const t = h.target;
  if (t === '*') return h.method !== 'OPTIONS';
  const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(t);
  if (!m) return true;
  h.host = m[1]!;
  const rest = m[2]!;
  h.target = rest === '' ? '/' : rest.charCodeAt(0) === 63 ? '/' + rest : rest;
  return false;
}
