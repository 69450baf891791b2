// Incremental HTTP/1.1 parsing for the fast path: request heads, response heads, and a
// chunked-body tracker that finds where a message ends so chunked bytes can be passed
// through unchanged (pipelining-safe: bytes after the end belong to the next message).
// Heads are parsed from one latin1 string (cheap for V8) into flat arrays, no objects per header.

import { hasToken } from './upgrade.js';

type Latin1Slicer = { latin1Slice?: (start: number, end: number) => string };
const hasLatin1Slice = typeof (Buffer.prototype as unknown as Latin1Slicer).latin1Slice === 'function';

/**
 * buf[start..end) as a latin1 string (one char per byte, lossless). Buffer's own latin1Slice
 * when Node has it: toString() checks and normalises its arguments first, per call.
 */
export function latin1(buf: Buffer, start: number, end: number): string {
  return hasLatin1Slice ? (buf as unknown as Required<Latin1Slicer>).latin1Slice(start, end) : buf.toString('latin1', start, end);
}

/** RFC 9110 tchar, as a table: checked per character of every header name, cheaper than a regex per name. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** s[start..end) is a non-empty token. */
function isToken(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** End-to-end headers only, flat [lowerName, value, ...]; host, framing and hop-by-hop ones are split out below. */
  headers: string[];
  host: string | undefined;
  contentLength: number; // -1 when absent
  chunked: boolean;
  /** With `chunked`: the transfer codings to forward when they are more than "chunked" alone ("gzip, chunked"), names only; else ''. */
  transferCodings: string;
  /** Connection: close (or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** Upgrade header value when Connection carries the "upgrade" token, else ''. */
  upgrade: string;
  expectContinue: boolean;
  /** TE header value ("trailers" matters for gRPC over h2 upstreams). */
  te: string;
}

export function newRequestHead(): RequestHead {
  return { method: '', target: '', minor: 1, headers: [], host: undefined, contentLength: -1, chunked: false, transferCodings: '', close: false, upgrade: '', expectContinue: false, te: '' };
}

/** Parse error results: HTTP status to answer with. 0 = ok. */
export const BAD_REQUEST = 400;
export const HEADERS_TOO_LARGE = 431;

/**
 * Parse a request head (request line + header lines, without the final CRLFCRLF) into `out`.
 * Returns 0, 400 or 431.
 */
export function parseRequestHead(s: string, out: RequestHead, maxHeaderCount: number): number {
  let eol = s.indexOf('\r\n');
  if (eol < 0) eol = s.length;
  const sp1 = s.indexOf(' ');
  if (sp1 <= 0 || sp1 > eol) return BAD_REQUEST;
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 > eol || sp2 === sp1 + 1) return BAD_REQUEST;
  if (!isToken(s, 0, sp1)) return BAD_REQUEST;
  const method = s.slice(0, sp1);
  const version = s.slice(sp2 + 1, eol);
  if (version === 'HTTP/1.1') out.minor = 1;
  else if (version === 'HTTP/1.0') out.minor = 0;
  else return BAD_REQUEST;
  const target = s.slice(sp1 + 1, sp2);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c === 127) return BAD_REQUEST;
  }
  out.method = method;
  out.target = target;
  const headers: string[] = [];
  out.headers = headers;
  out.host = undefined;
  out.contentLength = -1;
  out.chunked = false;
  out.transferCodings = '';
  out.upgrade = '';
  out.expectContinue = false;
  out.te = '';
  let connection = '';
  let upgrade = '';
  let transferEncoding: string | undefined;
  let count = 0;
  let pos = eol + 2;
  while (pos < s.length) {
    let end = s.indexOf('\r\n', pos);
    if (end < 0) end = s.length;
    if (++count > maxHeaderCount) return HEADERS_TOO_LARGE;
    const colon = s.indexOf(':', pos);
    if (colon <= pos || colon > end) return BAD_REQUEST; // also rejects obs-fold (leading whitespace has no name)
    if (!isToken(s, pos, colon)) return BAD_REQUEST;
    const rawName = s.slice(pos, colon);
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (s.charCodeAt(vs) === 32 || s.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--;
    const value = s.slice(vs, ve);
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) return BAD_REQUEST;
    const name = lowerName(rawName);
    pos = end + 2;
    switch (name) {
      case 'host':
        if (out.host !== undefined) return BAD_REQUEST;
        out.host = value;
        continue;
      case 'content-length': {
        const n = digits(value, 0, value.length);
        if (n < 0) return BAD_REQUEST;
        if (out.contentLength >= 0 && out.contentLength !== n) return BAD_REQUEST;
        out.contentLength = n;
        continue;
      }
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : transferEncoding + ',' + value;
        continue;
      case 'connection':
        connection = connection ? connection + ',' + value : value;
        continue;
      case 'upgrade':
        upgrade = upgrade ? upgrade + ',' + value : value;
        continue;
      case 'keep-alive':
      case 'proxy-connection':
      case 'trailer':
      case 'http2-settings': // connection-specific (RFC 7540 3.2.1; RFC 9113 retired the h2c upgrade): never forwarded
        continue;
      case 'te':
        out.te = value;
        continue;
      case 'expect':
        if (value.toLowerCase() === '100-continue') out.expectContinue = true;
        continue;
    }
    // "Content_Length", "transfer--encoding": a backend that folds '_' or repeated '-' would frame by it.
    if (name.length >= 13 && spellsFramingName(name)) return BAD_REQUEST;
    headers.push(name, value);
  }
  if (transferEncoding !== undefined) {
    // Smuggling defence: "chunked" exactly once and last, never together with Content-Length, never on HTTP/1.0.
    if (out.contentLength >= 0 || out.minor === 0) return BAD_REQUEST;
    if (transferEncoding !== 'chunked' && lower(transferEncoding) !== 'chunked') {
      const codings = transferCodings(transferEncoding);
      if (codings === null) return BAD_REQUEST;
      if (codings !== 'chunked') out.transferCodings = codings;
    }
    out.chunked = true;
  }
  let close = out.minor === 0;
  if (connection) {
    const c = connection.toLowerCase();
    if (c.indexOf('close') >= 0) close = true;
    else if (c.indexOf('keep-alive') >= 0) close = false;
    // Only on the rare Upgrade path: the token must be "upgrade" itself, not a substring of another.
    if (upgrade && c.indexOf('upgrade') >= 0 && hasToken(c, 'upgrade')) out.upgrade = upgrade;
    if (c !== 'close' && c !== 'keep-alive' && c !== 'upgrade') stripConnectionTokens(headers, c);
  }
  out.close = close;
  if (out.minor === 1 && out.host === undefined) return BAD_REQUEST;
  return 0;
}

/** s[start..end) with optional surrounding blanks as a decimal of 1 to 15 digits; -1 if it is not one. */
function digits(s: string, start: number, end: number): number {
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  if (end === start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const isOws = (c: number): boolean => c === 32 || c === 9;

/**
 * A Transfer-Encoding field value (repeated fields joined by ',') as the coding names to forward,
 * lower-case and joined by ", " ("gzip, chunked"); null unless "chunked" appears exactly once
 * and last. Elements are RFC 9112 transfer-codings: a token, then optional ";"-separated
 * parameters (dropped: no registered coding defines one). OWS is SP and HTAB only, never the
 * wider whitespace of String.prototype.trim or \s (which include U+00A0). Empty list elements
 * are ignored (RFC 9110 5.6.1.2).
 */
export function transferCodings(v: string): string | null {
  const names: string[] = [];
  let chunked = 0;
  for (const element of v.split(',')) {
    let s = 0;
    let e = element.length;
    while (s < e && isOws(element.charCodeAt(s))) s++;
    while (e > s && isOws(element.charCodeAt(e - 1))) e--;
    if (s === e) continue;
    let semi = element.indexOf(';', s);
    if (semi < 0 || semi > e) semi = e;
    let ne = semi;
    while (ne > s && isOws(element.charCodeAt(ne - 1))) ne--;
    if (!isToken(element, s, ne)) return null;
    for (let p = semi; p < e; ) {
      // parameter: OWS ";" OWS [ token [ BWS "=" BWS ( token / quoted-string ) ] ]
      let q = p + 1;
      while (q < e && isOws(element.charCodeAt(q))) q++;
      let t = q;
      while (t < e && element.charCodeAt(t) !== 59 && element.charCodeAt(t) !== 61 && !isOws(element.charCodeAt(t))) t++;
      if (t > q && !isToken(element, q, t)) return null;
      while (t < e && isOws(element.charCodeAt(t))) t++;
      if (t < e && element.charCodeAt(t) === 61) {
        if (t === q) return null;
        t++;
        while (t < e && isOws(element.charCodeAt(t))) t++;
        const vs = t;
        if (element.charCodeAt(t) === 34) {
          for (t++; t < e && element.charCodeAt(t) !== 34; t++) {
            const c = element.charCodeAt(t);
            if (c === 92) t++;
            else if ((c < 32 && c !== 9) || c === 127) return null;
          }
          if (t >= e) return null;
          t++;
        } else {
          while (t < e && element.charCodeAt(t) !== 59 && !isOws(element.charCodeAt(t))) t++;
          if (!isToken(element, vs, t)) return null;
        }
        while (t < e && isOws(element.charCodeAt(t))) t++;
      }
      if (t < e && element.charCodeAt(t) !== 59) return null;
      p = t;
    }
    const name = lower(element.slice(s, ne));
    if (name === 'chunked') chunked++;
    else if (chunked) return null; // a coding after chunked
    names.push(name);
  }
  if (chunked !== 1) return null;
  return names.length === 1 ? 'chunked' : names.join(', ');
}

/**
 * A lower-case field name other than content-length and transfer-encoding whose letters and
 * digits spell one of them ("content_length", "transfer---encoding", "-content-length"):
 * servers that fold '_' into '-' (CGI, WSGI, Rack, PHP) or normalise names would frame the body
 * by it. Allocation-free; most names differ from both by their first or second letter.
 */
function spellsFramingName(n: string): boolean {
  let i = 0;
  let c = n.charCodeAt(0);
  while (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) {
    if (++i === n.length) return false;
    c = n.charCodeAt(i);
  }
  const want = c === 99 ? 'contentlength' : c === 116 ? 'transferencoding' : '';
  if (want === '') return false;
  let j = 0;
  for (; i < n.length; i++) {
    c = n.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) continue;
    if (j === want.length || c !== want.charCodeAt(j)) return false;
    j++;
  }
  return j === want.length;
}

/** Headers named by Connection are hop-by-hop too (RFC 9110 7.6.1). */
function stripConnectionTokens(headers: string[], c: string): void {
  for (const t of c.split(',')) {
    const tok = t.trim();
    if (!tok || tok === 'close' || tok === 'keep-alive' || tok === 'upgrade') continue;
    for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === tok) headers.splice(i, 2);
  }
}

/**
 * Header name to lower case. Clients that capitalise (curl, wrk, browsers over HTTP/1.1) mostly
 * send a handful of names: those map to constants (no new string, and later comparisons against
 * literals are cheap); anything else goes through lower().
 */
export function lowerName(s: string): string {
  const c = s.charCodeAt(0);
  if (c < 65 || c > 90) return lower(s);
  switch (s) {
    case 'Host': return 'host';
    case 'User-Agent': return 'user-agent';
    case 'Accept': return 'accept';
    case 'Accept-Encoding': return 'accept-encoding';
    case 'Accept-Language': return 'accept-language';
    case 'Connection': return 'connection';
    case 'Content-Length': return 'content-length';
    case 'Content-Type': return 'content-type';
    case 'Cookie': return 'cookie';
    case 'Authorization': return 'authorization';
    case 'Referer': return 'referer';
    case 'Origin': return 'origin';
    case 'Cache-Control': return 'cache-control';
    case 'Transfer-Encoding': return 'transfer-encoding';
    case 'Upgrade': return 'upgrade';
    case 'X-Forwarded-For': return 'x-forwarded-for';
    case 'X-Forwarded-Proto': return 'x-forwarded-proto';
    case 'X-Forwarded-Host': return 'x-forwarded-host';
    case 'X-Request-Id': return 'x-request-id';
  }
  return lower(s);
}

/** s[pos..pos+lname.length) equals `lname` (lower-case) ignoring ASCII case, without allocating. */
function nameIs(s: string, pos: number, lname: string): boolean {
  for (let i = 0; i < lname.length; i++) {
    let c = s.charCodeAt(pos + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lname.charCodeAt(i)) return false;
  }
  return true;
}

/** Lower-case only when needed: most clients already send lower- or mixed-case names. */
export function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

export interface ResponseHead {
  status: number;
  /** "HTTP/1.1 200 OK" as the downstream should see it (version normalised). */
  statusLine: string;
  /** Kept (end-to-end) header lines, each ending in CRLF, original case and order. */
  lines: string;
  contentLength: number; // -1 absent
  chunked: boolean;
  close: boolean;
  minor: number;
}

export function newResponseHead(): ResponseHead {
  return { status: 0, statusLine: '', lines: '', contentLength: -1, chunked: false, close: false, minor: 1 };
}

/** An upstream response head longer than this is refused (502). */
export const MAX_RESPONSE_HEAD = 64 * 1024;

/** Parse an upstream response head. Returns false when malformed (the caller answers 502). */
export function parseResponseHead(s: string, out: ResponseHead): boolean {
  let eol = s.indexOf('\r\n');
  if (eol < 0) eol = s.length;
  if (!s.startsWith('HTTP/1.')) return false;
  const minor = s.charCodeAt(7) - 48;
  if (minor !== 0 && minor !== 1) return false;
  if (eol < 12) return false;
  const d0 = s.charCodeAt(9) - 48;
  const d1 = s.charCodeAt(10) - 48;
  const d2 = s.charCodeAt(11) - 48;
  // Three digits, then a space or the end of the line (the reason phrase may be empty).
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || s.charCodeAt(8) !== 32) return false;
  const after = s.charCodeAt(12);
  if (eol > 12 && after !== 32) return false;
  const status = d0 * 100 + d1 * 10 + d2;
  out.status = status;
  out.minor = minor;
  out.statusLine = minor === 1 ? s.slice(0, eol) : 'HTTP/1.1' + s.slice(8, eol);
  out.contentLength = -1;
  out.chunked = false;
  let close = minor === 0;
  // Kept lines are copied as runs between dropped (hop-by-hop) lines: usually two slices, not one per header.
  let lines = '';
  let pos = eol + 2;
  let runStart = pos;
  while (pos < s.length) {
    let end = s.indexOf('\r\n', pos);
    if (end < 0) end = s.length;
    const colon = s.indexOf(':', pos);
    if (colon <= pos || colon > end) return false;
    const nameLen = colon - pos;
    // Only names of these lengths can be framing or hop-by-hop; compared in place, case-insensitively.
    if (nameLen === 10 || nameLen === 14 || nameLen === 17 || nameLen === 16 || nameLen === 7 || nameLen === 2) {
      let drop = false;
      if (nameLen === 14 && nameIs(s, pos, 'content-length')) {
        const n = digits(s, colon + 1, end);
        if (n < 0 || (out.contentLength >= 0 && out.contentLength !== n)) return false;
        out.contentLength = n;
      } else if (nameLen === 17 && nameIs(s, pos, 'transfer-encoding')) {
        if (s.slice(colon + 1, end).trim().toLowerCase().endsWith('chunked')) out.chunked = true;
        drop = true;
      } else if (nameLen === 10 && nameIs(s, pos, 'connection')) {
        const v = s.slice(colon + 1, end).toLowerCase();
        if (v.indexOf('close') >= 0) close = true;
        else if (v.indexOf('keep-alive') >= 0) close = false;
        drop = true;
      } else if (
        (nameLen === 10 && nameIs(s, pos, 'keep-alive')) ||
        (nameLen === 16 && nameIs(s, pos, 'proxy-connection')) ||
        (nameLen === 2 && nameIs(s, pos, 'te')) ||
        (nameLen === 7 && (nameIs(s, pos, 'trailer') || nameIs(s, pos, 'upgrade')))
      ) {
        drop = true;
      }
      if (drop) {
        if (pos > runStart) lines += s.slice(runStart, pos);
        runStart = end + 2;
      }
    }
    pos = end + 2;
  }
  if (runStart < s.length) lines += s.slice(runStart) + '\r\n';
  if (out.chunked) out.contentLength = -1;
  out.close = close;
  out.lines = lines;
  return true;
}

/**
 * Tracks a chunked body to find its end; the bytes themselves are forwarded untouched.
 * With `decoded` set, data slices are also pushed there (for re-framing onto HTTP/2).
 */
export class ChunkedReader {
  private state = 0;
  private size = 0;
  private digits = 0;
  decoded: Buffer[] | null = null;

  reset(): void {
    this.state = 0;
    this.size = 0;
    this.digits = 0;
  }

  /** Consume from buf[start..]; returns the offset just past the body's end, -1 if more is needed, -2 when malformed. */
  feed(buf: Buffer, start: number): number {
    let i = start;
    const end = buf.length;
    while (i < end) {
      switch (this.state) {
        case 0: { // chunk size
          const c = buf[i]!;
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            if (++this.digits > 12) return -2;
            this.size = this.size * 16 + d;
          } else if (this.digits === 0) {
            return -2;
          } else if (c === 13) {
            this.state = 2;
          } else if (c === 59 || c === 32 || c === 9) {
            this.state = 1;
          } else return -2;
          i++;
          break;
        }
        case 1: // extension
          if (buf[i] === 13) this.state = 2;
          else if (buf[i] === 10) return -2;
          i++;
          break;
        case 2:
          if (buf[i] !== 10) return -2;
          i++;
          this.state = this.size === 0 ? 6 : 3;
          break;
        case 3: { // data
          const n = Math.min(this.size, end - i);
          if (this.decoded) this.decoded.push(buf.subarray(i, i + n));
          this.size -= n;
          i += n;
          if (this.size === 0) this.state = 4;
          break;
        }
        case 4:
          if (buf[i] !== 13) return -2;
          i++;
          this.state = 5;
          break;
        case 5:
          if (buf[i] !== 10) return -2;
          i++;
          this.state = 0;
          this.digits = 0;
          this.size = 0;
          break;
        case 6: // trailer section: empty line ends the body
          if (buf[i] === 13) this.state = 9;
          else this.state = 7;
          i++;
          break;
        case 7:
          if (buf[i] === 13) this.state = 8;
          i++;
          break;
        case 8:
          if (buf[i] !== 10) return -2;
          i++;
          this.state = 6;
          break;
        case 9:
          if (buf[i] !== 10) return -2;
          this.reset();
          return i + 1;
      }
    }
    return -1;
  }
}
