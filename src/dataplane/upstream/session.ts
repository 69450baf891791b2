// Session persistence at run time (IR SessionPersistence, translate/session.ts): which backend
// and endpoint a request with a session token goes to, and the token the response carries.
//
// Token: base64url(payload) "." base64url(first 16 bytes of HMAC-SHA256(key, base64url(payload))),
// payload = cluster "\n" address "\n" port "\n" issued "\n" lastUse (Unix seconds). Every data
// plane of one controller holds the same key (derived by the translator), so a token minted by
// one worker or replica routes the same way on all of them, with no shared state. A token whose
// MAC does not verify (tampered, or from another rule's key), that expired (absoluteTimeout from
// `issued`, idleTimeout from `lastUse`), or whose endpoint is gone or no longer among the rule's
// backends is ignored: the request is balanced as a new session and the response carries the new
// token (Set-Cookie, or the header for type Header). With an idleTimeout the token is re-issued
// (same `issued`, new `lastUse`) at most once a second of use, so activity keeps it alive.
//
// The token names the endpoint in clear (as Envoy's stateful session cookie does); the MAC only
// stops a client from choosing one. Tamper-proof, not secret.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionPersistence, WeightedBackend } from '../../ir/types.js';
import type { RuntimeCluster } from './cluster.js';

const MAC_BYTES = 16;
/** Verified tokens remembered per rule: a client sends the same token again and again, and an HMAC costs ~10 µs. */
const MAX_VERIFIED = 10_000;

interface Keyed {
  key: Buffer;
  /** Lower-cased header name (type Header). */
  header: string;
  /** Token string -> its verified contents (only tokens whose MAC checked out get here). */
  verified: Map<string, SessionToken>;
  /** Tokens minted in second `mintedAt`, by "cluster\nendpoint\nissued": new sessions in one second share them. */
  minted: Map<string, string>;
  mintedAt: number;
}
const keyed = new WeakMap<SessionPersistence, Keyed>();

function keyOf(sp: SessionPersistence): Keyed {
  let k = keyed.get(sp);
  if (!k) {
    k = { key: Buffer.from(sp.sessionKey, 'hex'), header: sp.name.toLowerCase(), verified: new Map(), minted: new Map(), mintedAt: 0 };
    keyed.set(sp, k);
  }
  return k;
}

export interface SessionToken {
  cluster: string;
  address: string;
  port: number;
  issued: number;
  lastUse: number;
}

const mac = (key: Buffer, payload: string): Buffer => createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);

/** The session cookie's value among the request's Cookie headers, or the session header; undefined when absent. */
function presented(sp: SessionPersistence, k: Keyed, headers: string[]): string | undefined {
  if (sp.type === 'Header') {
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === k.header) return headers[i + 1]!.trim();
    return undefined;
  }
  const prefix = sp.name + '=';
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    const v = headers[i + 1]!;
    let at = v.indexOf(prefix);
    while (at >= 0) {
      // A whole cookie name: at the start of the header or after "; ".
      if (at === 0 || v.charCodeAt(at - 1) === 32 || v.charCodeAt(at - 1) === 59) {
        const end = v.indexOf(';', at);
        return v.slice(at + prefix.length, end < 0 ? v.length : end).trim();
      }
      at = v.indexOf(prefix, at + 1);
    }
  }
  return undefined;
}

/** The request's verified, unexpired token; null when none, forged, malformed or expired. `now` in Unix seconds. */
export function readSession(sp: SessionPersistence, headers: string[], now: number): SessionToken | null {
  const k = keyOf(sp);
  const v = presented(sp, k, headers);
  if (v === undefined) return null;
  const t = k.verified.get(v) ?? verify(k, v);
  if (t === null) return null;
  if (sp.absoluteTimeoutMs > 0 && now - t.issued >= sp.absoluteTimeoutMs / 1000) return null;
  if (sp.idleTimeoutMs > 0 && now - t.lastUse >= sp.idleTimeoutMs / 1000) return null;
  return t;
}

/** Checks the MAC and parses; a good token is remembered. */
function verify(k: Keyed, v: string): SessionToken | null {
  const dot = v.indexOf('.');
  if (dot <= 0) return null;
  const payload64 = v.slice(0, dot);
  const given = Buffer.from(v.slice(dot + 1), 'base64url');
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(k.key, payload64))) return null;
  const f = Buffer.from(payload64, 'base64url').toString('utf8').split('\n');
  if (f.length !== 5) return null;
  const t: SessionToken = { cluster: f[0]!, address: f[1]!, port: Number(f[2]), issued: Number(f[3]), lastUse: Number(f[4]) };
  if (!Number.isInteger(t.port) || !Number.isInteger(t.issued) || !Number.isInteger(t.lastUse)) return null;
  if (k.verified.size >= MAX_VERIFIED) k.verified.clear();
  k.verified.set(v, t);
  return t;
}

/** A token for `cluster`'s endpoint `i`. */
export function mintSession(sp: SessionPersistence, cluster: RuntimeCluster, i: number, issued: number, now: number): string {
  const k = keyOf(sp);
  const e = cluster.endpoints[i]!;
  if (k.mintedAt !== now) {
    k.minted.clear();
    k.mintedAt = now;
  }
  const id = `${cluster.name}\n${e.address}\n${e.port}\n${issued}`;
  let token = k.minted.get(id);
  if (token === undefined) {
    const payload64 = Buffer.from(`${id}\n${now}`, 'utf8').toString('base64url');
    token = payload64 + '.' + mac(k.key, payload64).toString('base64url');
    k.minted.set(id, token);
  }
  return token;
}

/** The backendRef the token names, when it is still one of the rule's (and not weighted out). */
export function stickyBackend(backends: WeightedBackend[], t: SessionToken): WeightedBackend | undefined {
  for (const b of backends) if (b.cluster === t.cluster && b.weight > 0 && !b.invalid) return b;
  return undefined;
}

/** The response header that hands the token to the client: [name, value]. */
export function sessionHeader(sp: SessionPersistence, token: string, https: boolean): [string, string] {
  if (sp.type === 'Header') return [sp.name, token];
  let c = `${sp.name}=${token}; Path=${sp.cookiePath}; HttpOnly`;
  if (sp.permanent) c += `; Max-Age=${Math.floor(sp.absoluteTimeoutMs / 1000)}`;
  if (https) c += '; Secure';
  return ['set-cookie', c];
}
