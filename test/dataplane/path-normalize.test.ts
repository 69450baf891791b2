// Issue 10, defect 2: route rules bypassed through the path. With rule 1 `PathPrefix /admin`
// (a redirect) and rule 2 `PathPrefix /` (a backend), `/x/../admin/secret`, `/./admin/secret`,
// `/%2e%2e/admin` or `/%61dmin` must hit rule 1 on both front ends, and what the backend
// receives is the normalised path. Unit tests of the normaliser (RFC 3986 5.2.4, 5.4, 6.2.2),
// then real sockets: HTTP/1.1, h2c, TLS with ALPN h2, WebSocket over HTTP/2, every setting of
// the escaped-slashes and merge-slashes options.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import type { HTTPRouteEntry, IR, Listener } from '../../src/ir/types.js';
import {
  DEFAULT_PATH_OPTIONS,
  ESCAPED_SLASHES_ACTIONS,
  MERGE_SLASHES_ACTIONS,
  normalizePath,
  pathNeedsWork,
  resolvePathOptions,
  type EscapedSlashesAction,
  type MergeSlashesAction,
} from '../../src/dataplane/path.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, raw, request, route, to, type Backend } from './helpers.js';

const norm = (p: string, escaped?: EscapedSlashesAction, merge?: MergeSlashesAction) => normalizePath(p, resolvePathOptions(escaped, merge));
const normPath = (p: string, escaped?: EscapedSlashesAction, merge?: MergeSlashesAction): string => {
  const r = norm(p, escaped, merge);
  assert.equal(r.verdict, 0, `${p}: ${r.verdict} ${r.reason}`);
  return r.path;
};

describe('path normaliser', () => {
  test('RFC 3986 5.4.1 and 5.4.2: references against base path /b/c/d;p, as a proxy sees them merged', () => {
    // merge(base, ref) is "/b/c/" + ref for every relative-path reference; remove_dot_segments does the rest.
    const cases: [string, string][] = [
      ['g', '/b/c/g'], ['./g', '/b/c/g'], ['g/', '/b/c/g/'], [';x', '/b/c/;x'], ['g;x', '/b/c/g;x'], ['', '/b/c/'],
      ['.', '/b/c/'], ['./', '/b/c/'], ['..', '/b/'], ['../', '/b/'], ['../g', '/b/g'], ['../..', '/'], ['../../', '/'], ['../../g', '/g'],
      // 5.4.2 abnormal: ".." above the root stays at "/"
      ['../../../g', '/g'], ['../../../../g', '/g'],
      ['g.', '/b/c/g.'], ['.g', '/b/c/.g'], ['g..', '/b/c/g..'], ['..g', '/b/c/..g'],
      ['./../g', '/b/g'], ['./g/.', '/b/c/g/'], ['g/./h', '/b/c/g/h'], ['g/../h', '/b/c/h'], ['g;x=1/./y', '/b/c/g;x=1/y'], ['g;x=1/../y', '/b/c/y'],
    ];
    for (const [ref, want] of cases) assert.equal(normPath('/b/c/' + ref), want, ref);
    // Absolute-path references: "/./g" and "/../g" resolve to "/g".
    assert.equal(normPath('/./g'), '/g');
    assert.equal(normPath('/../g'), '/g');
  });

  test('RFC 3986 5.2.4 examples', () => {
    assert.equal(normPath('/a/b/c/./../../g'), '/a/g');
    assert.equal(normPath('/mid/content=5/../6'), '/mid/6');
    for (const p of ['/..', '/../..', '/.', '/./', '/a/..', '/a/../..']) assert.equal(normPath(p), '/', p);
    assert.equal(normPath('/a/.'), '/a/');
    assert.equal(normPath('/a/b/..'), '/a/');
  });

  test('RFC 3986 6.2.2: unreserved escapes decoded, the others upper-cased, never decoded twice', () => {
    assert.equal(normPath('/%7Euser/%7efoo'), '/~user/~foo');
    assert.equal(normPath('/%41%62%2D%2e%5F%30'), '/Ab-._0');
    assert.equal(normPath('/%c3%a9t%c3%A9'), '/%C3%A9t%C3%A9');
    assert.equal(normPath('/a%3ab%3F%23%20'), '/a%3Ab%3F%23%20');
    assert.equal(normPath('/%252e%252e/admin'), '/%252e%252e/admin', '%25 stays an escape: no double decoding');
    assert.equal(normPath('/%25%32%65'), '/%252e');
  });

  test('encoded dots are dot segments once decoded (as in Envoy)', () => {
    assert.equal(normPath('/%2e%2e/admin'), '/admin');
    assert.equal(normPath('/%2E/admin'), '/admin');
    assert.equal(normPath('/x/.%2e/admin'), '/admin');
    assert.equal(normPath('/x/%2e./admin/secret'), '/admin/secret');
    assert.equal(normPath('/%61dmin'), '/admin');
  });

  test('invalid percent-encoding is a 400', () => {
    for (const p of ['/%zz', '/a%4', '/a%', '/%g0/x', '/%0g', '/ok/%%41']) {
      const r = norm(p);
      assert.equal(r.verdict, 400, p);
      assert.match(r.reason, /percent-encoding/);
    }
  });

  test('escaped slashes and backslashes, each action', () => {
    const inputs = ['/a%2fb', '/a%2Fb', '/a%5cb', '/a%5Cb', '/a\\b'];
    for (const p of inputs) {
      assert.equal(norm(p, 'reject').verdict, 400, p);
      assert.equal(normPath(p, 'unescape-and-forward'), '/a/b', p);
      const r = norm(p, 'unescape-and-redirect');
      assert.deepEqual([r.verdict, r.path], [307, '/a/b'], p);
    }
    assert.equal(normPath('/a%2fb', 'keep'), '/a%2Fb');
    assert.equal(normPath('/a%5cb', 'keep'), '/a%5Cb');
    assert.equal(normPath('/a\\b', 'keep'), '/a\\b');
    // Decoded slashes take part in dot-segment removal: no "..%2F" smuggling.
    assert.equal(normPath('/x/..%2Fadmin', 'unescape-and-forward'), '/admin');
    assert.equal(normPath('/x\\..\\admin', 'unescape-and-forward'), '/admin');
    assert.deepEqual([norm('/x/..%2Fadmin', 'unescape-and-redirect').verdict, norm('/x/..%2Fadmin', 'unescape-and-redirect').path], [307, '/admin']);
    // Kept, they are not separators: "..%2F" is an ordinary segment.
    assert.equal(normPath('/x/..%2Fadmin', 'keep'), '/x/..%2Fadmin');
  });

  test('repeated slashes, each action', () => {
    assert.equal(normPath('//admin', undefined, 'merge-and-forward'), '/admin');
    assert.equal(normPath('/a///b//', undefined, 'merge-and-forward'), '/a/b/');
    assert.equal(normPath('/a//b', undefined, 'keep'), '/a//b');
    assert.equal(normPath('//admin', undefined, 'keep'), '//admin');
    assert.equal(norm('/a//b', undefined, 'reject').verdict, 400);
    assert.deepEqual([norm('/a//b/./c', undefined, 'merge-and-redirect').verdict, norm('/a//b/./c', undefined, 'merge-and-redirect').path], [307, '/a/b/c']);
    // A trailing slash is not a repeated one.
    assert.equal(norm('/a/', undefined, 'reject').verdict, 0);
    assert.equal(norm('/', undefined, 'reject').verdict, 0);
    // merged before dot segments (Envoy's order); kept, an empty segment is a segment (RFC 5.2.4).
    assert.equal(normPath('/a//../b', undefined, 'merge-and-forward'), '/b');
    assert.equal(normPath('/a//../b', undefined, 'keep'), '/a/b');
  });

  test('defaults: unescape-and-redirect, merge-and-forward', () => {
    assert.deepEqual(DEFAULT_PATH_OPTIONS, resolvePathOptions('unescape-and-redirect', 'merge-and-forward'));
    assert.throws(() => resolvePathOptions('decode' as EscapedSlashesAction, undefined), /expected one of keep, reject, unescape-and-forward, unescape-and-redirect/);
    assert.throws(() => resolvePathOptions(undefined, 'yes' as MergeSlashesAction), /expected one of keep, reject, merge-and-forward, merge-and-redirect/);
  });

  test('pre-scan: ordinary paths take no work, every trigger does', () => {
    for (const p of ['/', '/a', '/a/b/c', '/a/b/', '/file.txt', '/a.b/c..d', '/a-b_c~d', '/api/v1/users/42', '/.well-known/acme-challenge/x', '/a/.hidden', '/a/...', '/..a/b']) assert.equal(pathNeedsWork(p), false, p);
    for (const p of ['/%41', '/a\\b', '//a', '/a//', '/.', '/..', '/./a', '/../a', '/a/..', '/a/.', '/a/../b', '/a/./b']) assert.equal(pathNeedsWork(p), true, p);
  });

  test('random paths: a path the pre-scan passes is already normal, and normalising is idempotent', () => {
    let seed = 7;
    const r = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const parts = ['a', 'b', '.', '..', '', '%2e', '%2E%2e', '%2f', '%5C', '\\', '%41', '%7e', '%c3%a9', '.x', 'x.', '~'];
    for (let i = 0; i < 5000; i++) {
      let p = '';
      const n = 1 + Math.floor(r() * 6);
      for (let k = 0; k < n; k++) p += '/' + parts[Math.floor(r() * parts.length)];
      for (const e of ESCAPED_SLASHES_ACTIONS) {
        for (const m of MERGE_SLASHES_ACTIONS) {
          const o = resolvePathOptions(e, m);
          const once = normalizePath(p, o);
          if (!pathNeedsWork(p)) assert.deepEqual(once, { verdict: 0, path: p, reason: '' }, p);
          if (once.verdict === 400) continue;
          assert.equal(once.path.charCodeAt(0), 47, p);
          assert.doesNotMatch(once.path, /(^|\/)\.\.?(\/|$)/, `${p} -> ${once.path}: a dot segment is left`);
          const twice = normalizePath(once.path, o);
          assert.deepEqual([twice.verdict, twice.path], [0, once.path], `${e}/${m}: ${p} -> ${once.path} -> ${twice.path}`);
        }
      }
    }
  });
});

// ------------------------------------------------------------------ real sockets

/** Rule 1 PathPrefix /admin -> redirect; /rw -> URLRewrite; /h2 -> an h2c backend; /ws -> WebSocket; rule 2 PathPrefix / -> backend. */
function routes(): HTTPRouteEntry[] {
  return [
    route({ path: { type: 'PathPrefix', value: '/admin' } }, [], [{ type: 'RequestRedirect', hostname: 'login.example', statusCode: 302 }]),
    route({ path: { type: 'PathPrefix', value: '/rw' } }, [to('a')], [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/new' } }]),
    route({ path: { type: 'PathPrefix', value: '/h2' } }, [to('h2c')]),
    route({ path: { type: 'Exact', value: '/pkg.Svc/Method' } }, [to('h2c')], [], { grpc: true }),
    route({ path: { type: 'PathPrefix', value: '/ws' } }, [to('ws')]),
    route({ path: { type: 'PathPrefix', value: '/' } }, [to('a')]),
  ];
}

interface H2Res { status: number; headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }

function h2req(session: http2.ClientHttp2Session, path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<H2Res> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ...extra }, { endStream: true });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let body = '';
    s.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    s.on('trailers', (t) => (trailers = t));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (body += d));
    s.on('end', () => resolve({ status, headers, trailers, body }));
    s.on('error', reject);
  });
}

describe('path normalisation on real sockets', () => {
  let a: Backend;
  let h2b: http2.Http2Server;
  let h2Paths: string[];
  let ws: http.Server;
  let wsUrls: string[];
  let clusters: IR['clusters'];
  const engines: Engine[] = [];

  /** An engine with these options serving routes() on a plain port (h1 + h2c) and an HTTPS port (ALPN h2). */
  async function serve(opts: EngineOptions = {}): Promise<{ port: number; tlsPort: number }> {
    const port = await freePort();
    const tlsPort = await freePort();
    const tlsListener: Listener = {
      ...listener('tls', routes()),
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificates: [{ secret: 'default/gw', ...pki.backend, dnsNames: ['backend.internal', 'foo.example.com'] }] },
    };
    const engine = createEngine({ ...opts, workers: 1 });
    engines.push(engine);
    await engine.apply({ ports: [httpPort(port, [listener('plain', routes())]), httpPort(tlsPort, [tlsListener], 'HTTPS')], clusters });
    return { port, tlsPort };
  }

  before(async () => {
    a = await echoBackend('a');
    h2Paths = [];
    h2b = http2.createServer();
    h2b.on('stream', (stream, headers) => {
      h2Paths.push(String(headers[':path']));
      stream.resume();
      stream.on('end', () => {
        if (headers['content-type'] === 'application/grpc') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end();
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ path: headers[':path'] }));
      });
    });
    await new Promise<void>((r) => h2b.listen(0, '127.0.0.1', r));
    wsUrls = [];
    ws = http.createServer((_req, res) => res.end('not a websocket'));
    ws.on('upgrade', (req, socket) => {
      wsUrls.push(req.url!);
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
    clusters = {
      a: cluster('a', [a.port]),
      h2c: cluster('h2c', [(h2b.address() as AddressInfo).port], { protocol: 'h2c' }),
      ws: cluster('ws', [(ws.address() as AddressInfo).port], { protocol: 'ws' }),
    };
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.close(100)));
    await a.close();
    await new Promise((r) => h2b.close(r));
    ws.closeAllConnections();
    await new Promise((r) => ws.close(r));
  });

  describe('HTTP/1.1, default settings', () => {
    let port: number;
    before(async () => ({ port } = await serve()));

    test('dot segments and encoded characters cannot get past the /admin rule', async () => {
      for (const p of ['/x/../admin/secret', '/./admin/secret', '/%2e%2e/admin/secret', '/%2E/admin/secret', '/%61dmin/secret', '/x/%2e%2E/%61%64min/secret', '/a/b/../../admin/secret', '/../admin/secret', '//admin/secret']) {
        const before = a.hits.length;
        const r = await request(port, p);
        assert.equal(r.status, 302, p);
        assert.match(String(r.headers.location), /^http:\/\/login\.example:\d+\/admin\/secret$/, p);
        assert.equal(a.hits.length, before, `${p} reached the backend`);
      }
    });

    test('the backend receives the normalised path; the query string is untouched', async () => {
      const cases: [string, string][] = [
        ['/x/../public', '/public'],
        ['/a/./b/../c/', '/a/c/'],
        ['/%7euser/%c3%a9', '/~user/%C3%A9'],
        ['/x/../public?q=/../%2e%2e&r=%7e', '/public?q=/../%2e%2e&r=%7e'],
        ['/..', '/'],
        ['/a//b', '/a/b'],
        ['/ok?', '/ok?'],
      ];
      for (const [sent, want] of cases) {
        const r = await request(port, sent);
        assert.equal(r.status, 200, sent);
        assert.equal(json(r).url, want, sent);
      }
    });

    test('URLRewrite works on the normalised path', async () => {
      const r = await request(port, '/x/../rw/%61/./b?z=1');
      assert.equal(json(r).url, '/new/a/b?z=1');
    });

    test('escaped slashes and backslashes are redirected (307) to the unescaped path', async () => {
      for (const [p, loc] of [['/x/..%2Fadmin?k=1', '/admin?k=1'], ['/a%2fb', '/a/b'], ['/a%5Cb', '/a/b'], ['/x\\..\\admin', '/admin']] as const) {
        const r = await request(port, p);
        assert.equal(r.status, 307, p);
        assert.equal(r.headers.location, loc, p);
      }
    });

    test('invalid percent-encoding is 400 and the connection stays usable', async () => {
      const out = await raw(port, 'GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\nGET /x/../ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(out, /^HTTP\/1\.1 400 /);
      assert.match(out, /invalid percent-encoding in path/);
      assert.match(out, /HTTP\/1\.1 200 [\s\S]*"url":"\/ok"/);
    });

    test('absolute-form targets are normalised too; "*" stays valid for OPTIONS only', async () => {
      const r = await request(port, 'http://any.example/x/../admin/secret');
      assert.equal(r.status, 302);
      assert.match(String(r.headers.location), /^http:\/\/login\.example:\d+\/admin\/secret$/);
      assert.match(await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      assert.match(await raw(port, 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
      assert.match(await raw(port, 'GET admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
    });
  });

  describe('HTTP/2, default settings', () => {
    let port: number, tlsPort: number;
    let h2c: http2.ClientHttp2Session, h2tls: http2.ClientHttp2Session;
    before(async () => {
      ({ port, tlsPort } = await serve());
      h2c = http2.connect(`http://127.0.0.1:${port}`);
      h2tls = http2.connect(`https://127.0.0.1:${tlsPort}`, { servername: 'foo.example.com', ca: pki.caPem });
      h2c.on('error', () => undefined);
      h2tls.on('error', () => undefined);
    });
    after(() => {
      h2c.close();
      h2tls.close();
    });

    test('h2c and TLS (ALPN h2): the /admin rule holds and the backend gets the normalised :path', async () => {
      for (const [name, s, authority] of [['h2c', () => h2c, 'x'], ['tls', () => h2tls, 'foo.example.com']] as const) {
        for (const p of ['/x/../admin/secret', '/./admin/secret', '/%2e%2e/admin/secret', '/%61dmin/secret', '//admin/secret']) {
          const r = await h2req(s(), p, { ':authority': authority });
          assert.equal(r.status, 302, `${name} ${p}`);
          assert.match(String(r.headers.location), /^https?:\/\/login\.example:\d+\/admin\/secret$/, `${name} ${p}`);
        }
        // HTTP/1.1 upstream
        const r = await h2req(s(), '/x/../public/%7e?q=..', { ':authority': authority });
        assert.equal(JSON.parse(r.body).url, '/public/~?q=..', name);
        // h2c upstream
        const r2 = await h2req(s(), '/h2/a/../b/%c3%a9', { ':authority': authority });
        assert.equal(JSON.parse(r2.body).path, '/h2/b/%C3%A9', name);
        // escaped slash: 307 with the unescaped path
        const r3 = await h2req(s(), '/x/..%2fadmin', { ':authority': authority });
        assert.deepEqual([r3.status, r3.headers.location], [307, '/admin'], name);
        const r4 = await h2req(s(), '/%zz', { ':authority': authority });
        assert.equal(r4.status, 400, name);
      }
    });

    test('a :path that is not origin-form never reaches a backend (asterisk only for OPTIONS)', async () => {
      // nghttp2 resets such a stream itself (RFC 9113 8.3.1); makePlan would answer 400 otherwise.
      const before = a.hits.length;
      await assert.rejects(h2req(h2c, 'admin/secret'), /PROTOCOL_ERROR/);
      await assert.rejects(h2req(h2c, '*'), /PROTOCOL_ERROR/);
      assert.equal(a.hits.length, before);
      const star = await h2req(h2c, '*', { ':method': 'OPTIONS' });
      assert.equal(star.status, 200);
      assert.equal(JSON.parse(star.body).url, '*');
    });

    test('gRPC: a path that would be redirected or rejected ends with grpc-status 13', async () => {
      for (const p of ['/pkg.Svc%2fMethod', '/pkg.Svc/%zz']) {
        const r = await h2req(h2c, p, { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' });
        assert.equal(r.status, 200, p);
        assert.equal(r.headers['grpc-status'] ?? r.trailers['grpc-status'], '13', p);
      }
      const ok = await h2req(h2c, '/pkg.Svc/./Method', { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' });
      assert.equal(ok.trailers['grpc-status'] ?? ok.headers['grpc-status'], '0');
      assert.equal(h2Paths.at(-1), '/pkg.Svc/Method');
    });

    test('WebSocket over HTTP/2 (extended CONNECT) is routed and forwarded on the normalised path', async () => {
      const s = h2c.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/x/../ws/%72oom?k=%2e', ':authority': 'x', 'sec-websocket-version': '13' });
      const head = await new Promise<http2.IncomingHttpHeaders>((r) => s.once('response', r));
      assert.equal(head[':status'], 200);
      assert.equal(wsUrls.at(-1), '/ws/room?k=%2e');
      s.close();
      const adm = h2c.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/ws/../admin', ':authority': 'x', 'sec-websocket-version': '13' });
      const h2 = await new Promise<http2.IncomingHttpHeaders>((r) => adm.once('response', r));
      assert.equal(h2[':status'], 302);
      adm.close();
    });
  });

  describe('escaped-slashes settings (%2F, %5C, \\)', () => {
    const sent = ['/d/a%2fb?q=%2f', '/d/a%5Cb?q=%2f', '/d/a\\b?q=%2f'];
    test('keep: forwarded with the escape kept (upper-cased) or the backslash as is', async () => {
      const { port } = await serve({ pathEscapedSlashes: 'keep' });
      const got: string[] = [];
      for (const p of sent) got.push(json(await request(port, p)).url);
      assert.deepEqual(got, ['/d/a%2Fb?q=%2f', '/d/a%5Cb?q=%2f', '/d/a\\b?q=%2f']);
      // Kept, "..%2F" is not a separator: this path stays outside /admin, for Portico and the backend alike.
      assert.equal(json(await request(port, '/x/..%2Fadmin')).url, '/x/..%2Fadmin');
    });
    test('reject: 400', async () => {
      const { port } = await serve({ pathEscapedSlashes: 'reject' });
      for (const p of sent) {
        const r = await request(port, p);
        assert.equal(r.status, 400, p);
        assert.match(r.body, /escaped slash|backslash/);
      }
    });
    test('unescape-and-forward: the backend gets real slashes, and the rules see them', async () => {
      const { port, tlsPort } = await serve({ pathEscapedSlashes: 'unescape-and-forward' });
      for (const p of sent) assert.equal(json(await request(port, p)).url, '/d/a/b?q=%2f', p);
      const r = await request(port, '/x/..%2Fadmin');
      assert.equal(r.status, 302);
      const s = http2.connect(`https://127.0.0.1:${tlsPort}`, { servername: 'foo.example.com', ca: pki.caPem });
      try {
        assert.equal(JSON.parse((await h2req(s, '/d/a%2fb', { ':authority': 'foo.example.com' })).body).url, '/d/a/b');
      } finally {
        s.close();
      }
    });
    test('unescape-and-redirect (default): 307 to the unescaped, normalised path', async () => {
      const { port } = await serve({ pathEscapedSlashes: 'unescape-and-redirect' });
      const before = a.hits.length;
      for (const p of sent) {
        const r = await request(port, p);
        assert.equal(r.status, 307, p);
        assert.equal(r.headers.location, '/d/a/b?q=%2f', p);
      }
      assert.equal(a.hits.length, before);
    });
  });

  describe('merge-slashes settings (//)', () => {
    test('keep: forwarded unchanged (and "//admin" is not under /admin)', async () => {
      const { port } = await serve({ pathMergeSlashes: 'keep' });
      assert.equal(json(await request(port, '/a//b/')).url, '/a//b/');
      assert.equal(json(await request(port, '//admin')).url, '//admin');
    });
    test('reject: 400', async () => {
      const { port } = await serve({ pathMergeSlashes: 'reject' });
      const r = await request(port, '/a//b');
      assert.equal(r.status, 400);
      assert.match(r.body, /repeated slashes/);
      assert.equal(json(await request(port, '/a/b/')).url, '/a/b/', 'a trailing slash is fine');
    });
    test('merge-and-forward (default): merged, forwarded', async () => {
      const { port } = await serve({ pathMergeSlashes: 'merge-and-forward' });
      assert.equal(json(await request(port, '/a//b///c?x=//')).url, '/a/b/c?x=//');
      assert.equal((await request(port, '//admin')).status, 302);
    });
    test('merge-and-redirect: 307 to the merged path', async () => {
      const { port, tlsPort } = await serve({ pathMergeSlashes: 'merge-and-redirect' });
      const r = await request(port, '/a//b?x=//');
      assert.deepEqual([r.status, r.headers.location], [307, '/a/b?x=//']);
      const s = http2.connect(`https://127.0.0.1:${tlsPort}`, { servername: 'foo.example.com', ca: pki.caPem });
      try {
        const h = await h2req(s, '//admin', { ':authority': 'foo.example.com' });
        assert.deepEqual([h.status, h.headers.location], [307, '/admin']);
      } finally {
        s.close();
      }
    });
  });

  test('the options reach worker processes (workers: 2)', async () => {
    const port = await freePort();
    const engine = createEngine({ workers: 2, pathEscapedSlashes: 'reject', pathMergeSlashes: 'keep' });
    engines.push(engine);
    await engine.apply({ ports: [httpPort(port, [listener('plain', routes())])], clusters });
    assert.equal((await request(port, '/a%2Fb', { agent: false })).status, 400);
    assert.equal(json(await request(port, '/a//b/../c', { agent: false })).url, '/a//c', 'slashes kept: the empty segment counts (RFC 3986 5.2.4)');
    assert.equal((await request(port, '/x/../admin', { agent: false })).status, 302);
  });

  test('an unknown option value fails engine creation with the valid ones named', () => {
    assert.throws(() => createEngine({ pathEscapedSlashes: 'decode' as EscapedSlashesAction }), /expected one of keep, reject, unescape-and-forward, unescape-and-redirect/);
  });

});
