// Session persistence through real sockets: the token sticks a client to one endpoint, on any
// worker and on any engine holding the same IR; forged, expired and orphaned tokens are replaced.
import { after, before, describe, test } from 'node:test';
import * as http2 from 'node:http2';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { IR, SessionPersistence } from '../../src/ir/types.js';
import { sealSessionKey } from '../../src/ir/keys.js';
import { cluster, echoBackend, freePort, request, route, simpleIR, to, type Backend, type Res } from './helpers.js';

const KEY = 'a1'.repeat(32);
/** In production each rule or policy has its own key (translate/session.ts); `key` stands for that. */
const session = (extra: Partial<SessionPersistence> = {}, key = KEY): SessionPersistence =>
  sealSessionKey({ type: 'Cookie' as const, name: 'sid', absoluteTimeoutMs: 0, idleTimeoutMs: 0, permanent: false, cookiePath: '/', from: 'HTTPRoute rule', ...extra }, key);
const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });
const backendOf = (r: Res): string => (JSON.parse(r.body) as { backend: string }).backend;
/** The cookie's name=value from Set-Cookie, undefined when the response sets none. */
const cookieOf = (r: Res): string | undefined => r.headers['set-cookie']?.[0]?.split(';')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session persistence', () => {
  let backends: Backend[];
  let ir: (ports: number[]) => IR;
  let engine: Engine, port: number;
  before(async () => {
    backends = await Promise.all(['e0', 'e1', 'e2'].map((n) => echoBackend(n)));
    port = await freePort();
    ir = (ports) =>
      simpleIR(port, [
        route(prefix('/cookie'), [to('svc')], [], { session: session({ cookiePath: '/cookie' }) }),
        route(prefix('/header'), [to('svc')], [], { session: session({ type: 'Header', name: 'x-session' }) }),
        route(prefix('/absolute'), [to('svc')], [], { session: session({ name: 'abs', absoluteTimeoutMs: 1000, permanent: true }) }),
        route(prefix('/idle'), [to('svc')], [], { session: session({ name: 'idle', idleTimeoutMs: 3000 }, 'b2'.repeat(32)) }),
        route(prefix('/plain'), [to('svc')]),
      ], [cluster('svc', ports)]);
    engine = createEngine({});
    await engine.apply(ir(backends.map((b) => b.port)));
  });
  after(async () => {
    await engine.close();
    for (const b of backends) await b.close();
  });

  test('the first response sets the cookie; every request carrying it reaches the same endpoint', async () => {
    const first = await request(port, '/cookie/a');
    const c = cookieOf(first);
    assert.ok(c?.startsWith('sid='), String(first.headers['set-cookie']));
    assert.match(first.headers['set-cookie']![0]!, /; Path=\/cookie; HttpOnly$/);
    const pinned = backendOf(first);
    for (let i = 0; i < 9; i++) {
      const r = await request(port, '/cookie/a', { headers: { cookie: `other=1; ${c}` } });
      assert.equal(backendOf(r), pinned, `request ${i}`);
      assert.equal(r.headers['set-cookie'], undefined, 'a valid token is not re-issued');
    }
    // Without the cookie, round robin spreads requests over all three endpoints.
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(backendOf(await request(port, '/plain')));
    assert.equal(seen.size, 3);
  });

  test('type Header: the token travels in the named header both ways', async () => {
    const first = await request(port, '/header');
    const token = first.headers['x-session'];
    assert.equal(typeof token, 'string');
    for (let i = 0; i < 6; i++) {
      const r = await request(port, '/header', { headers: { 'x-session': token as string } });
      assert.equal(backendOf(r), backendOf(first));
    }
  });

  test('a tampered token is not honoured: the request is balanced anew and gets a fresh token', async () => {
    const first = await request(port, '/cookie');
    const [name, value] = cookieOf(first)!.split('=') as [string, string];
    const raw = Buffer.from(value, 'base64url');
    // Flip bits in the nonce, the ciphertext (where the endpoint is) and the tag in turn.
    const seen = new Set<string>();
    for (const at of [0, 11, 12, 20, raw.length - 17, raw.length - 1]) {
      const forged = Buffer.from(raw);
      forged[at]! ^= 0x04;
      for (let i = 0; i < 3; i++) {
        const r = await request(port, '/cookie', { headers: { cookie: `${name}=${forged.toString('base64url')}` } });
        assert.equal(r.status, 200);
        assert.ok(cookieOf(r), `a forged token (byte ${at}) is replaced`);
        seen.add(backendOf(r));
      }
    }
    assert.ok(seen.size > 1, 'the forged token pins nothing');
    // A cut token and a token of another session name are ignored the same way.
    assert.ok(cookieOf(await request(port, '/cookie', { headers: { cookie: `${name}=${value.slice(0, -4)}` } })));
    assert.ok(cookieOf(await request(port, '/idle', { headers: { cookie: `idle=${value}` } })), "another rule's token is not valid here");
  });

  test('the token does not reveal the endpoint: no address or port in it, plain, base64 or hex, and it still pins', async () => {
    /** Every way `text` could sit inside a token: as is, hex, and base64/base64url at each byte alignment. */
    const encodings = (text: string): string[] => {
      const b = Buffer.from(text);
      const out = [text, b.toString('hex')];
      for (let a = 0; a < 3; a++) {
        // Only the characters made of `text`'s bits alone: from ceil(8a/6) to floor(8(a+n)/6).
        const from = Math.ceil((8 * a) / 6), to = Math.floor((8 * (a + b.length)) / 6);
        for (const enc of ['base64', 'base64url'] as const) out.push(Buffer.concat([Buffer.alloc(a), b]).toString(enc).slice(from, to));
      }
      return out;
    };
    const reveals = (value: string, b: Backend): string[] => {
      const bytes = Buffer.from(value, 'base64url');
      // The token's text, what its bytes read as, and those bytes in hex; the binary IPv4+port as well.
      const views = [value, value.toLowerCase(), bytes.toString('latin1'), bytes.toString('hex')];
      const binary = Buffer.from([127, 0, 0, 1, b.port >> 8, b.port & 0xff]).toString('latin1');
      const needles = [...encodings(`127.0.0.1:${b.port}`), ...encodings('127.0.0.1'), ...encodings(`127.0.0.1\n${b.port}`), binary];
      return needles.filter((n) => views.some((v) => v.includes(n)));
    };
    // The check itself: it catches the endpoint in a token that merely encodes it (the old format).
    const b0 = backends[0]!;
    assert.notDeepEqual(reveals(Buffer.from(`svc\n127.0.0.1\n${b0.port}\n1\n1`).toString('base64url') + '.AAAA', b0), []);
    for (let k = 0; k < 6; k++) {
      const first = await request(port, k % 2 ? '/header' : '/cookie');
      const value = k % 2 ? (first.headers['x-session'] as string) : cookieOf(first)!.split('=')[1]!;
      const pinned = backends.find((b) => b.name === backendOf(first))!;
      for (const b of backends) assert.deepEqual(reveals(value, b), [], `token ${value}, endpoint ${b.name}`);
      const again = await request(port, k % 2 ? '/header' : '/cookie', { headers: k % 2 ? { 'x-session': value } : { cookie: `sid=${value}` } });
      assert.equal(backendOf(again), pinned.name, 'still pins');
    }
  });

  test('absoluteTimeout: a Permanent cookie carries Max-Age, and the session ends when it elapses', async () => {
    const first = await request(port, '/absolute');
    assert.match(first.headers['set-cookie']![0]!, /; Max-Age=1$/);
    const c = cookieOf(first)!;
    await sleep(2100);
    const later = await request(port, '/absolute', { headers: { cookie: c } });
    assert.ok(cookieOf(later) && cookieOf(later) !== c, 'an expired session gets a new token');
  });

  test('idleTimeout: use renews the token; a session left idle past it ends', async () => {
    const first = await request(port, '/idle');
    let c = cookieOf(first)!;
    const pinned = backendOf(first);
    // Tokens stamp whole seconds, so a 1.1 s gap can read as 2 s: the 3 s idle timeout leaves room.
    for (let i = 0; i < 2; i++) {
      await sleep(1100);
      const r = await request(port, '/idle', { headers: { cookie: c } });
      assert.equal(backendOf(r), pinned);
      const renewed = cookieOf(r);
      assert.ok(renewed && renewed !== c, 'used after a second: the token is re-issued');
      c = renewed;
    }
    await sleep(4100);
    const idle = await request(port, '/idle', { headers: { cookie: c } });
    assert.ok(cookieOf(idle) && cookieOf(idle) !== c, 'idle too long: a new session');
  });

  test('over HTTP/2: the same token sticks, and a new session sets the cookie', async () => {
    const first = await request(port, '/cookie');
    const c = cookieOf(first)!;
    const session2 = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const get = (headers: Record<string, string>) =>
        new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const req = session2.request({ ':path': '/cookie', ...headers });
          let body = '';
          let h: http2.IncomingHttpHeaders = {};
          req.on('response', (x) => (h = x));
          req.setEncoding('utf8');
          req.on('data', (d: string) => (body += d));
          req.on('end', () => resolve({ headers: h, body }));
          req.on('error', reject);
        });
      for (let i = 0; i < 4; i++) assert.equal((JSON.parse((await get({ cookie: c })).body) as { backend: string }).backend, backendOf(first));
      assert.ok(String((await get({})).headers['set-cookie']).startsWith('sid='));
    } finally {
      session2.close();
    }
  });

  test('when the endpoint goes away the session moves, and the response says where', async () => {
    const first = await request(port, '/cookie');
    const c = cookieOf(first)!;
    const gone = backendOf(first);
    await engine.apply(ir(backends.filter((b) => b.name !== gone).map((b) => b.port)));
    try {
      const moved = await request(port, '/cookie', { headers: { cookie: c } });
      assert.notEqual(backendOf(moved), gone);
      const next = cookieOf(moved);
      assert.ok(next && next !== c, 'the new endpoint comes with a new token');
      for (let i = 0; i < 4; i++) assert.equal(backendOf(await request(port, '/cookie', { headers: { cookie: next } })), backendOf(moved));
    } finally {
      await engine.apply(ir(backends.map((b) => b.port)));
    }
  });

  test('a token minted by one engine is honoured by another holding the same IR (replicas)', async () => {
    const port2 = await freePort();
    const other = createEngine({});
    try {
      const second = ir(backends.map((b) => b.port));
      second.ports[0]!.port = port2;
      second.ports[0]!.name = `127.0.0.1:${port2}/HTTP`;
      await other.apply(second);
      for (let k = 0; k < 3; k++) {
        const first = await request(port, '/cookie');
        const c = cookieOf(first)!;
        for (let i = 0; i < 3; i++) {
          const r = await request(port2, '/cookie', { headers: { cookie: c } });
          assert.equal(backendOf(r), backendOf(first));
          assert.equal(cookieOf(r), undefined);
        }
      }
    } finally {
      await other.close();
    }
  });
});

test('session persistence across workers: the key reaches every worker, any of them keeps the session', async () => {
  const backends = await Promise.all(['w0', 'w1', 'w2'].map((n) => echoBackend(n)));
  const port = await freePort();
  const engine = createEngine({ workers: 2 });
  try {
    await engine.apply(simpleIR(port, [route({}, [to('svc')], [], { session: session() })], [cluster('svc', backends.map((b) => b.port))]));
    for (let k = 0; k < 3; k++) {
      const first = await request(port, '/', { agent: false });
      assert.equal(first.status, 200);
      const c = cookieOf(first)!;
      // New connections land on either worker.
      for (let i = 0; i < 8; i++) {
        const r = await request(port, '/', { agent: false, headers: { cookie: c } });
        assert.equal(backendOf(r), backendOf(first), `session ${k} request ${i}`);
        assert.equal(cookieOf(r), undefined);
      }
    }
  } finally {
    await engine.close();
    for (const b of backends) await b.close();
  }
});
