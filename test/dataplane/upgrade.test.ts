// HTTP Upgrade smuggling (issue 10, defect 3). Only a WebSocket handshake (GET, HTTP/1.1,
// Upgrade: websocket, Connection: upgrade) to a WebSocket backend (appProtocol kubernetes.io/ws,
// IR protocol 'ws') is tunnelled. h2c, unknown tokens and WebSocket to a plain backend lose their
// Upgrade, Connection token and HTTP2-Settings and go out as ordinary requests; a 101 for a
// protocol Portico did not ask for is a 502 and its upstream socket is closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { newRequestHead, parseRequestHead } from '../../src/dataplane/http1/parser.js';
import { allowedUpgrade, switchesTo } from '../../src/dataplane/http1/upgrade.js';
import { cluster, freePort, httpPort, listener, route, to } from './helpers.js';

interface Seen {
  line: string;
  headers: Record<string, string>;
  conn: number;
}

/**
 * A raw HTTP/1.1 backend. `answer(path)` gives the response for a request (default: 200 "ok
 * <path>"); after a 101 the socket echoes "echo:<bytes>". Records each request head and which
 * connection (by number) carried it, and which connections were closed by the peer.
 */
async function rawBackend(answer: (path: string, h: Record<string, string>) => string | null) {
  const seen: Seen[] = [];
  const closed = new Set<number>();
  const raw: string[] = [];
  let conns = 0;
  const srv = net.createServer((s) => {
    const id = ++conns;
    let buf = '';
    let upgraded = false;
    s.on('data', (d) => {
      if (upgraded) {
        raw.push(d.toString('latin1'));
        s.write('echo:' + d.toString('latin1'));
        return;
      }
      buf += d.toString('latin1');
      let idx: number;
      while (!upgraded && (idx = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, idx);
        buf = buf.slice(idx + 4);
        const [line, ...rest] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of rest) {
          const c = l.indexOf(':');
          const k = l.slice(0, c).trim().toLowerCase();
          const v = l.slice(c + 1).trim();
          headers[k] = headers[k] !== undefined ? headers[k] + ', ' + v : v;
        }
        seen.push({ line: line!, headers, conn: id });
        const path = line!.split(' ')[1]!;
        const out = answer(path, headers) ?? `HTTP/1.1 200 OK\r\ncontent-length: ${3 + path.length}\r\n\r\nok ${path}`;
        s.write(out);
        if (out.startsWith('HTTP/1.1 101')) {
          upgraded = true;
          if (buf) {
            raw.push(buf);
            s.write('echo:' + buf);
          }
        }
      }
    });
    s.on('close', () => closed.add(id));
    s.on('error', () => undefined);
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    seen,
    closed,
    raw,
    get conns() {
      return conns;
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

const WS_101 = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';
const H2C_101 = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

/** Open a client connection; `until` decides when enough has been read. */
function client(port: number) {
  const s = net.connect(port, '127.0.0.1');
  let out = '';
  let ended = false;
  s.on('data', (d) => (out += d.toString('latin1')));
  s.on('end', () => (ended = true));
  s.on('close', () => (ended = true));
  s.on('error', () => undefined);
  return {
    s,
    get out() {
      return out;
    },
    get ended() {
      return ended;
    },
    async wait(cond: () => boolean, ms = 3000): Promise<void> {
      for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const WS_REQ = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
const H2C_REQ = (path: string, connection = 'Upgrade, HTTP2-Settings') =>
  `GET ${path} HTTP/1.1\r\nHost: app\r\nConnection: ${connection}\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`;

describe('HTTP Upgrade: only WebSocket, only to WebSocket backends', () => {
  let engine: Engine;
  let port: number;
  let plain: Awaited<ReturnType<typeof rawBackend>>;
  let ws: Awaited<ReturnType<typeof rawBackend>>;

  before(async () => {
    // /h2c-101: the backend switches to h2c whatever it was asked; /ws-h2c: answers a WebSocket
    // handshake with a 101 to h2c; /decline: 426; /ws*: a proper WebSocket 101.
    const behave = (path: string, h: Record<string, string>): string | null => {
      if (path.startsWith('/h2c-101')) return H2C_101;
      if (path.startsWith('/ws-h2c')) return H2C_101;
      if (path.startsWith('/decline')) return 'HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\n\r\nnope';
      if (path.startsWith('/ws') && h.upgrade) return WS_101;
      return null;
    };
    plain = await rawBackend(behave);
    ws = await rawBackend(behave);
    port = await freePort();
    engine = createEngine({});
    await engine.apply({
      ports: [
        httpPort(port, [
          listener('l', [
            route({ path: { type: 'PathPrefix', value: '/plain' } }, [to('plain')]),
            route({ path: { type: 'PathPrefix', value: '/h2c-101' } }, [to('plain')]),
            route({}, [to('ws')]),
          ]),
        ]),
      ],
      clusters: { plain: cluster('plain', [plain.port]), ws: cluster('ws', [ws.port], { protocol: 'ws' }) },
    });
  });

  after(async () => {
    await engine.close(100);
    await plain.close();
    await ws.close();
  });

  test('h2c upgrade with HTTP2-Settings: forwarded without Upgrade, its Connection token or HTTP2-Settings, answered as a normal request', async () => {
    for (const [path, backend] of [['/plain/a', plain], ['/ws-backend/a', ws]] as const) {
      // HTTP2-Settings listed in Connection, and not listed (still connection-specific).
      for (const connection of ['Upgrade, HTTP2-Settings', 'Upgrade']) {
        const c = client(port);
        c.s.write(H2C_REQ(path, connection));
        await c.wait(() => c.out.includes('ok ' + path));
        assert.match(c.out, /^HTTP\/1\.1 200 /, c.out);
        const h = backend.seen.at(-1)!;
        assert.equal(h.line, `GET ${path} HTTP/1.1`);
        assert.equal(h.headers.upgrade, undefined);
        assert.equal(h.headers['http2-settings'], undefined);
        assert.ok(!/upgrade|http2-settings/i.test(h.headers.connection ?? ''), h.headers.connection);
        // Still HTTP/1.1 on the client connection: a second request is served normally.
        c.s.write(`GET ${path}2 HTTP/1.1\r\nHost: app\r\n\r\n`);
        await c.wait(() => c.out.includes('ok ' + path + '2'));
        assert.ok(c.out.includes('ok ' + path + '2'), c.out);
        c.s.destroy();
      }
    }
  });

  test('a backend that answers the h2c upgrade with 101 anyway: 502, and that upstream socket is closed', async () => {
    const c = client(port);
    c.s.write(H2C_REQ('/h2c-101'));
    await c.wait(() => c.out.includes('\r\n\r\n'));
    assert.match(c.out, /^HTTP\/1\.1 502 /, c.out);
    const conn = plain.seen.at(-1)!.conn;
    assert.equal(plain.seen.at(-1)!.headers.upgrade, undefined);
    for (let i = 0; i < 200 && !plain.closed.has(conn); i++) await sleep(10);
    assert.ok(plain.closed.has(conn), 'the upstream connection that sent the 101 is closed');
    // Nothing of the client's later bytes reaches a backend raw.
    c.s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    await sleep(100);
    assert.equal(plain.raw.length, 0);
    // The next request is answered over another upstream connection.
    c.s.destroy();
    const d = client(port);
    d.s.write('GET /plain/next HTTP/1.1\r\nHost: app\r\n\r\n');
    await d.wait(() => d.out.includes('ok /plain/next'));
    assert.ok(d.out.includes('ok /plain/next'), d.out);
    assert.notEqual(plain.seen.at(-1)!.conn, conn);
    d.s.destroy();
  });

  test('a 101 to a request without Upgrade is a 502', async () => {
    const c = client(port);
    c.s.write('GET /h2c-101/plain HTTP/1.1\r\nHost: app\r\n\r\n');
    await c.wait(() => c.out.includes('\r\n\r\n'));
    assert.match(c.out, /^HTTP\/1\.1 502 /, c.out);
    c.s.destroy();
  });

  test('WebSocket upgrade to a kubernetes.io/ws backend still tunnels both ways (bytes sent early wait for the 101)', async () => {
    const c = client(port);
    // Token and Connection in odd case; a frame sent right behind the head.
    c.s.write(WS_REQ('/ws/room').replace('Upgrade: websocket', 'Upgrade: WebSocket').replace('Connection: Upgrade', 'Connection: keep-alive, UPGRADE') + 'early');
    await c.wait(() => c.out.includes('echo:early'));
    assert.match(c.out, /^HTTP\/1\.1 101 /, c.out);
    assert.match(c.out, /\r\nconnection: upgrade\r\n/i);
    assert.match(c.out, /\r\nupgrade: websocket\r\n/i);
    assert.match(c.out, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    const h = ws.seen.at(-1)!;
    assert.equal(h.headers.upgrade, 'websocket');
    assert.match(h.headers.connection!, /upgrade/i);
    c.s.write('ping');
    await c.wait(() => c.out.includes('echo:ping'));
    assert.ok(c.out.endsWith('echo:earlyecho:ping'), c.out);
    c.s.destroy();
  });

  test('WebSocket upgrade answered with a 101 to another protocol: 502, nothing tunnelled', async () => {
    const c = client(port);
    c.s.write(WS_REQ('/ws-h2c'));
    await c.wait(() => c.out.includes('\r\n\r\n'));
    assert.match(c.out, /^HTTP\/1\.1 502 /, c.out);
    const conn = ws.seen.at(-1)!.conn;
    for (let i = 0; i < 200 && !ws.closed.has(conn); i++) await sleep(10);
    assert.ok(ws.closed.has(conn));
    c.s.destroy();
  });

  test('WebSocket upgrade the backend declines: its answer, then the connection closes', async () => {
    const c = client(port);
    c.s.write(WS_REQ('/decline'));
    await c.wait(() => c.ended);
    assert.match(c.out, /^HTTP\/1\.1 426 /, c.out);
    assert.match(c.out, /\r\nconnection: close\r\n/i);
    assert.ok(c.out.endsWith('nope'));
  });

  test('unknown Upgrade token: stripped, forwarded as a normal request', async () => {
    const c = client(port);
    c.s.write('GET /ws/foo HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n');
    await c.wait(() => c.out.includes('ok /ws/foo'));
    assert.match(c.out, /^HTTP\/1\.1 200 /, c.out);
    assert.equal(ws.seen.at(-1)!.headers.upgrade, undefined);
    assert.ok(!/upgrade/i.test(ws.seen.at(-1)!.headers.connection ?? ''));
    c.s.destroy();
  });

  test('WebSocket to a backend without appProtocol kubernetes.io/ws, or not a GET: stripped, forwarded as a normal request', async () => {
    for (const [req, path, backend] of [
      [WS_REQ('/plain/ws'), '/plain/ws', plain],
      [WS_REQ('/ws/post').replace('GET', 'POST').replace('\r\n\r\n', '\r\ncontent-length: 0\r\n\r\n'), '/ws/post', ws],
      [WS_REQ('/ws/http10').replace('HTTP/1.1', 'HTTP/1.0'), '/ws/http10', ws],
    ] as const) {
      const c = client(port);
      c.s.write(req);
      await c.wait(() => c.out.includes('ok ' + path));
      assert.match(c.out, /^HTTP\/1\.1 200 /, c.out);
      assert.equal(backend.seen.at(-1)!.headers.upgrade, undefined, req);
      c.s.destroy();
    }
  });

  test('HTTP/2 front end: a 101 from an HTTP/1.1 upstream is a 502; extended CONNECT to a plain backend is refused', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    try {
      const status = (headers: http2.OutgoingHttpHeaders) =>
        new Promise<number>((resolve, reject) => {
          const s = session.request(headers);
          const t = setTimeout(() => reject(new Error('no response')), 3000);
          s.on('response', (h) => {
            clearTimeout(t);
            resolve(Number(h[':status']));
            s.close();
          });
          s.on('error', () => undefined);
        });
      assert.equal(await status({ ':method': 'GET', ':path': '/h2c-101/h2', ':authority': 'app', ':scheme': 'http' }), 502);
      assert.equal(plain.seen.at(-1)!.headers.upgrade, undefined);
      const before = plain.seen.length;
      assert.equal(await status({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/plain/ws', ':authority': 'app', ':scheme': 'http', 'sec-websocket-version': '13' }), 501);
      assert.equal(plain.seen.length, before, 'nothing sent to the plain backend');
      // A WebSocket backend that answers with a 101 to another protocol: 502.
      assert.equal(await status({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws-h2c', ':authority': 'app', ':scheme': 'http', 'sec-websocket-version': '13' }), 502);
    } finally {
      session.close();
    }
  });
});

describe('upgrade rule (unit)', () => {
  const parse = (s: string) => {
    const h = newRequestHead();
    assert.equal(parseRequestHead(s, h, 100), 0);
    return h;
  };

  test('parser: Upgrade only with a real "upgrade" Connection token; HTTP2-Settings never kept; repeated Upgrade fields joined', () => {
    assert.equal(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: x-upgraded\r\nUpgrade: websocket').upgrade, '');
    assert.equal(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket').upgrade, 'websocket');
    const h = parse('GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMAAABk\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\nX-Other: 1');
    assert.equal(h.upgrade, 'h2c,websocket');
    assert.deepEqual(h.headers, ['x-other', '1']);
  });

  test('allowedUpgrade: websocket token, GET, HTTP/1.1, ws cluster; nothing else', () => {
    const ws = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ';
    assert.equal(allowedUpgrade(parse(ws + 'websocket'), 'ws'), 'websocket');
    assert.equal(allowedUpgrade(parse(ws + 'WebSocket'), 'ws'), 'websocket');
    assert.equal(allowedUpgrade(parse(ws + 'h2c, websocket'), 'ws'), 'websocket');
    assert.equal(allowedUpgrade(parse(ws + 'h2c'), 'ws'), '');
    assert.equal(allowedUpgrade(parse(ws + 'websocket/13'), 'ws'), '');
    assert.equal(allowedUpgrade(parse(ws + 'websocket'), 'http1'), '');
    assert.equal(allowedUpgrade(parse(ws.replace('GET', 'POST') + 'websocket'), 'ws'), '');
    assert.equal(allowedUpgrade(parse(ws.replace('HTTP/1.1', 'HTTP/1.0') + 'websocket'), 'ws'), '');
  });

  test('switchesTo: the 101 names exactly the protocol asked for', () => {
    assert.ok(switchesTo('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: WebSocket', 'websocket'));
    assert.ok(switchesTo('HTTP/1.1 101 Switching Protocols\r\nupgrade:websocket \r\nX: y', 'websocket'));
    assert.ok(!switchesTo('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c', 'websocket'));
    assert.ok(!switchesTo('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c', 'websocket'));
    assert.ok(!switchesTo('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nUpgrade: h2c', 'websocket'));
    assert.ok(!switchesTo('HTTP/1.1 101 Switching Protocols\r\nX-Upgrade: websocket', 'websocket'));
    assert.ok(!switchesTo('HTTP/1.1 101 Switching Protocols', 'websocket'));
  });
});
