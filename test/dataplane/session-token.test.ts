// Session tokens on their own (dataplane/upstream/session.ts): what goes in comes out under the
// same key and nowhere else; every altered, cut, foreign or made-up token reads as no token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { SessionPersistence } from '../../src/ir/types.js';
import { sealSessionKey } from '../../src/ir/keys.js';
import { openSessionToken, readSession, sealSessionToken, type SessionToken } from '../../src/dataplane/upstream/session.js';

const session = (extra: Partial<SessionPersistence> = {}, key = 'a1'.repeat(32)): SessionPersistence =>
  sealSessionKey({ type: 'Cookie' as const, name: 'sid', absoluteTimeoutMs: 0, idleTimeoutMs: 0, permanent: false, cookiePath: '/', from: 'HTTPRoute rule', ...extra }, key);
const NOW = 1_800_000_000;
const token: SessionToken = { cluster: 'default/app:8080', address: '10.244.1.23', port: 8080, issued: NOW - 30, lastUse: NOW - 5 };

test('round trip: the token opens to what was sealed, on another rule object with the same key too', () => {
  const sp = session();
  const v = sealSessionToken(sp, token);
  assert.match(v, /^[A-Za-z0-9_-]+$/, 'a cookie-safe value');
  assert.deepEqual(openSessionToken(sp, v), token);
  // Another worker or replica builds its own SessionPersistence from the same IR: same key.
  assert.deepEqual(openSessionToken(session(), v), token);
  const v6 = { ...token, address: 'fd00:10:244::1f', cluster: 'ns-with-a-long-name/service-with-a-long-name:443' };
  assert.deepEqual(openSessionToken(sp, sealSessionToken(sp, v6)), v6);
});

test('each sealing draws a fresh nonce: equal contents give different tokens, all of which open', () => {
  const sp = session();
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const v = sealSessionToken(sp, token);
    assert.deepEqual(openSessionToken(sp, v), token);
    seen.add(v);
  }
  assert.equal(seen.size, 50);
});

test('size: nonce, tag and a compact payload; an IPv4 endpoint of a typical cluster stays under 100 characters', () => {
  const sp = session();
  const v = sealSessionToken(sp, token);
  const bytes = 12 + 16 + 12 + token.address.length + token.cluster.length;
  assert.equal(Buffer.from(v, 'base64url').length, bytes);
  assert.equal(v.length, Math.ceil((bytes * 4) / 3));
  assert.ok(v.length < 100, `${v.length} characters`);
});

test('tamper: changing any single byte, or any bit of the tag, makes the token unreadable', () => {
  const sp = session();
  const raw = Buffer.from(sealSessionToken(sp, token), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i] = bad[i]! ^ 0x01;
    assert.equal(openSessionToken(sp, bad.toString('base64url')), null, `byte ${i}`);
  }
  for (let bit = 0; bit < 128; bit++) {
    const bad = Buffer.from(raw);
    bad[raw.length - 16 + (bit >> 3)]! ^= 1 << (bit & 7);
    assert.equal(openSessionToken(sp, bad.toString('base64url')), null, `tag bit ${bit}`);
  }
});

test('wrong key: a token of another rule (or another controller) does not open', () => {
  const v = sealSessionToken(session(), token);
  assert.equal(openSessionToken(session({}, 'b2'.repeat(32)), v), null);
  assert.equal(openSessionToken(session({}, 'a1'.repeat(31) + 'a0'), v), null);
});

test('truncated: every shorter prefix, and the token with its first bytes cut off, is no token', () => {
  const sp = session();
  const v = sealSessionToken(sp, token);
  for (let n = 0; n < v.length; n++) assert.equal(openSessionToken(sp, v.slice(0, n)), null, `first ${n} characters`);
  const raw = Buffer.from(v, 'base64url');
  for (let n = 1; n < raw.length; n++) assert.equal(openSessionToken(sp, raw.subarray(n).toString('base64url')), null, `without the first ${n} bytes`);
});

test('garbage: empty, not base64, random bytes of every length, oversize, and the old signed-only format', () => {
  const sp = session();
  for (const v of ['', '.', 'abc', '!!!!', 'sid=1', '%00%00', ' '.repeat(80), 'A'.repeat(5000), '\u00ff'.repeat(64)])
    assert.equal(openSessionToken(sp, v), null, JSON.stringify(v.slice(0, 20)));
  for (let n = 0; n < 160; n++) assert.equal(openSessionToken(sp, randomBytes(n).toString('base64url')), null, `${n} random bytes`);
  // The previous format: base64url(payload) "." HMAC-SHA256/128, under the very same key.
  const payload = Buffer.from(`${token.cluster}\n${token.address}\n${token.port}\n${token.issued}\n${token.lastUse}`).toString('base64url');
  const mac = createHmac('sha256', Buffer.from('a1'.repeat(32), 'hex')).update(payload).digest().subarray(0, 16).toString('base64url');
  assert.equal(openSessionToken(sp, `${payload}.${mac}`), null);
});

test('expiry: absoluteTimeout counts from issued, idleTimeout from lastUse, in whole seconds', () => {
  const abs = session({ absoluteTimeoutMs: 60_000 });
  const cookie = (sp: SessionPersistence, t: SessionToken) => ['cookie', `a=1; sid=${sealSessionToken(sp, t)}; b=2`];
  const t = { ...token, issued: NOW - 59, lastUse: NOW - 59 };
  assert.deepEqual(readSession(abs, cookie(abs, t), NOW), t);
  assert.equal(readSession(abs, cookie(abs, t), NOW + 1), null, 'absoluteTimeout reached');
  const idle = session({ idleTimeoutMs: 10_000 });
  const u = { ...token, issued: NOW - 1000, lastUse: NOW - 9 };
  assert.deepEqual(readSession(idle, cookie(idle, u), NOW), u, 'old but recently used');
  assert.equal(readSession(idle, cookie(idle, u), NOW + 1), null, 'idleTimeout reached');
  // Neither timeout: a token of any age holds.
  const none = session();
  assert.deepEqual(readSession(none, cookie(none, { ...token, issued: 1 }), NOW), { ...token, issued: 1 });
});

test('readSession finds the token in the named cookie or header only, and a bad one reads as none', () => {
  const sp = session();
  const v = sealSessionToken(sp, token);
  assert.deepEqual(readSession(sp, ['cookie', `sid=${v}`], NOW), token);
  assert.equal(readSession(sp, ['cookie', `xsid=${v}`], NOW), null, 'another cookie whose name ends in sid');
  assert.equal(readSession(sp, ['cookie', `sid=${v.slice(0, -2)}`], NOW), null);
  const hdr = session({ type: 'Header', name: 'X-Session' });
  const h = sealSessionToken(hdr, token);
  assert.deepEqual(readSession(hdr, ['x-session', h], NOW), token);
  assert.equal(readSession(hdr, ['cookie', `X-Session=${h}`], NOW), null);
  // Verified tokens are remembered by their text; an altered copy of a remembered one is still opened, and fails.
  const raw = Buffer.from(v, 'base64url');
  raw[20]! ^= 0x80;
  assert.equal(readSession(sp, ['cookie', `sid=${raw.toString('base64url')}`], NOW), null);
  assert.deepEqual(readSession(sp, ['cookie', `sid=${v}`], NOW), token);
});
