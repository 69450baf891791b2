// Session persistence at run time (IR SessionPersistence, translate/session.ts): which backend
// and endpoint a request with a session token goes to, and the token the response carries.
//
// Token: base64url(nonce[12] ‖ AES-256-GCM(payload) ‖ tag[16]); payload = issued u32 ‖ lastUse
// u32 (Unix seconds) ‖ port u16 ‖ address length u16 ‖ address ‖ cluster (UTF-8). Encrypted, not
// only signed: a client can neither read which backend and endpoint (pod IP:port) it is pinned to
// nor choose one. The AES key comes from the rule's key (sealed in the IR; the translator derives
// it from a seed every data plane of one controller shares) through HKDF-SHA256, once per rule
// per IR apply, so a token minted by one worker or replica opens on all of them with no shared
// state. A token that does not open (tampered, truncated, garbage, another rule's key), that
// expired (absoluteTimeout from `issued`, idleTimeout from `lastUse`), or whose endpoint is gone
// or no longer among the rule's backends is ignored: the request is balanced as a new session and
// the response carries the new token (Set-Cookie, or the header for type Header). With an
// idleTimeout the token is re-issued (same `issued`, new `lastUse`) at most once a second of use,
// so activity keeps it alive.
//
// A random nonce, not a deterministic (SIV-like) one: nothing needs a token to be stable (it
// changes each second it is re-issued, and any engine opens any token), so GCM as specified is
// enough. Its bound, 2^32 random nonces per key, counts every token minted under one rule's key by
// all workers and replicas together; the minted-token cache below holds encryptions to one per
// endpoint and `issued` second in each second (at 1,000 tokens a second the bound is 136 years).

import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';
import type { SessionPersistence, WeightedBackend } from '../../ir/types.js';
import type { RuntimeCluster } from './cluster.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** issued, lastUse, port, address length. */
const FIXED_BYTES = 12;
/** Longer values are not ours (ours are well under 200 characters): not worth a decode. */
const MAX_TOKEN_CHARS = 1024;
/** HKDF info: a new token format gets a new label, so old tokens simply fail to open. */
const INFO = 'portico-session-token/v2 aes-256-gcm';
/** Verified tokens remembered per rule: a client sends the same token again and again, and opening one costs microseconds. */
const MAX_VERIFIED = 10_000;

interface Keyed {
  key: KeyObject;
  /** Lower-cased header name (type Header). */
  header: string;
  /** Token string -> its verified contents (only tokens that opened get here). */
  verified: Map<string, SessionToken>;
  /** Tokens minted in second `mintedAt`, by "cluster\nendpoint\nissued": new sessions in one second share them. */
  minted: Map<string, string>;
  mintedAt: number;
}
const keyed = new WeakMap<SessionPersistence, Keyed>();

function keyOf(sp: SessionPersistence): Keyed {
  let k = keyed.get(sp);
  if (!k) {
    const secret = Buffer.from(hkdfSync('sha256', Buffer.from(sp.sessionKey, 'hex'), Buffer.alloc(0), INFO, 32));
    k = { key: createSecretKey(secret), header: sp.name.toLowerCase(), verified: new Map(), minted: new Map(), mintedAt: 0 };
    secret.fill(0);
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

/** Nonces are cut from one random block, refilled when used up: one getrandom call per 256 tokens. */
const noncePool = Buffer.alloc(NONCE_BYTES * 256);
let nonceAt = noncePool.length;
function nonce(): Buffer {
  if (nonceAt === noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  nonceAt += NONCE_BYTES;
  return noncePool.subarray(nonceAt - NONCE_BYTES, nonceAt);
}

/** The token carrying `t`, encrypted and authenticated under the rule's key. */
export function sealSessionToken(sp: SessionPersistence, t: SessionToken): string {
  return seal(keyOf(sp), t);
}

/** What `v` carries when it opens under the rule's key; null for anything else. Expiry is readSession's. */
export function openSessionToken(sp: SessionPersistence, v: string): SessionToken | null {
  return open(keyOf(sp), v);
}

function seal(k: Keyed, t: SessionToken): string {
  const addressLength = Buffer.byteLength(t.address);
  const plain = Buffer.allocUnsafe(FIXED_BYTES + addressLength + Buffer.byteLength(t.cluster));
  plain.writeUInt32BE(t.issued, 0);
  plain.writeUInt32BE(t.lastUse, 4);
  plain.writeUInt16BE(t.port, 8);
  plain.writeUInt16BE(addressLength, 10);
  plain.write(t.address, FIXED_BYTES);
  plain.write(t.cluster, FIXED_BYTES + addressLength);
  const iv = nonce();
  const c = createCipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
  const body = c.update(plain);
  c.final();
  return Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url');
}

function open(k: Keyed, v: string): SessionToken | null {
  if (v.length > MAX_TOKEN_CHARS) return null;
  const raw = Buffer.from(v, 'base64url');
  if (raw.length < NONCE_BYTES + FIXED_BYTES + TAG_BYTES) return null;
  const tagAt = raw.length - TAG_BYTES;
  const d = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  d.setAuthTag(raw.subarray(tagAt));
  const plain = d.update(raw.subarray(NONCE_BYTES, tagAt));
  try {
    d.final();
  } catch {
    return null; // the tag does not verify: forged, altered, or another key's
  }
  const addressLength = plain.readUInt16BE(10);
  if (FIXED_BYTES + addressLength > plain.length) return null;
  return {
    issued: plain.readUInt32BE(0),
    lastUse: plain.readUInt32BE(4),
    port: plain.readUInt16BE(8),
    address: plain.toString('utf8', FIXED_BYTES, FIXED_BYTES + addressLength),
    cluster: plain.toString('utf8', FIXED_BYTES + addressLength),
  };
}

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

/** Opens the token; a good one is remembered. */
function verify(k: Keyed, v: string): SessionToken | null {
  const t = open(k, v);
  if (t === null) return null;
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
    token = seal(k, { cluster: cluster.name, address: e.address, port: e.port, issued, lastUse: now });
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
