// HTTPS with SNI certificate choice, ALPN h2, prior-knowledge h2c, HTTP/2 upstreams with
// trailers, gRPC-style answers for unmatched requests, and WebSocket upgrade.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { IR, Listener } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, httpPort, listener, request, route, to, type Backend } from './helpers.js';

interface H2Res { status: number; headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<H2Res> {
  return new Promise((resolve, reject) => {
    const s = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let rh: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let out = '';
    s.on('response', (h) => {
      rh = h;
      status = Number(h[':status']);
    });
    s.on('trailers', (t) => (trailers = t));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve({ status, headers: rh, trailers, body: out }));
    s.on('error', reject);
    if (body !== undefined) s.end(body);
  });
}

async function h2cBackend(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = http2.createServer();
  srv.on('stream', (stream, headers) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      if (headers['content-type'] === 'application/grpc') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' }));
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]));
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-h2': 'yes' });
      stream.end(JSON.stringify({ backend: 'h2c', path: headers[':path'], authority: headers[':authority'], xfp: headers['x-forwarded-proto'], body }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

describe('TLS, HTTP/2, gRPC answers, WebSocket', () => {
  let a: Backend, h2b: { port: number; close: () => Promise<void> }, ws: http.Server, wsPort: number;
  let engine: Engine, httpsPort: number, plainPort: number, baseIR: IR;

  before(async () => {
    a = await echoBackend('a');
    h2b = await h2cBackend();
    ws = http.createServer((_req, res) => res.end('not a websocket'));
    ws.on('upgrade', (req, socket) => {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Upgrade: ' + req.headers.upgrade +
          `\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${req.headers['sec-websocket-protocol'] ?? 'none'}\r\n\r\n`,
      );
      socket.on('data', (d) => socket.write('echo:' + d.toString()));
      socket.on('end', () => socket.end()); // upgraded sockets are half-open by default
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
    wsPort = (ws.address() as AddressInfo).port;
    httpsPort = await freePort();
    plainPort = await freePort();
    const tlsListener = (name: string, hostname: string, cert: { certPem: string; keyPem: string }, dnsNames: string[]): Listener => ({
      ...listener(name, [route({}, [to('a')])], hostname),
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificates: [{ secret: `default/${name}`, ...cert, dnsNames }] },
    });
    const plainRoutes = [
      route({ path: { type: 'PathPrefix', value: '/h2c' } }, [to('h2c')]),
      route({ path: { type: 'Exact', value: '/pkg.Svc/Method' } }, [to('h2c')], [], { grpc: true }),
      route({ path: { type: 'Exact', value: '/pkg.Svc/Broken' } }, [{ weight: 1, invalid: { status: 500, reason: 'BackendNotFound' } }], [], { grpc: true }),
      route({ path: { type: 'PathPrefix', value: '/ws' } }, [to('ws')]),
      route({ path: { type: 'PathPrefix', value: '/' } }, [to('a')]),
    ];
    const ir: IR = {
      ports: [
        httpPort(httpsPort, [
          tlsListener('gw', '*.gw.example.com', pki.gateway, ['gw.example.com', '*.gw.example.com']),
          tlsListener('foo', 'foo.example.com', pki.backend, ['backend.internal', 'foo.example.com']),
        ], 'HTTPS'),
        httpPort(plainPort, [listener('plain', plainRoutes)]),
      ],
      clusters: {
        a: cluster('a', [a.port]),
        h2c: cluster('h2c', [h2b.port], { protocol: 'h2c' }),
        ws: cluster('ws', [wsPort], { protocol: 'ws' }),
      },
    };
    // Most specific listener first, as the translator orders them.
    ir.ports[0]!.listeners.reverse();
    baseIR = ir;
    engine = createEngine({});
    await engine.apply(ir);
  });
  after(async () => {
    await engine.close(100);
    await a.close();
    await h2b.close();
    ws.closeAllConnections();
    await new Promise((r) => ws.close(r));
  });

  const peerSAN = (servername: string | undefined): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: httpsPort, ...(servername ? { servername } : {}), ca: pki.caPem, rejectUnauthorized: false }, () => {
        const san = s.getPeerCertificate().subjectaltname ?? '';
        s.destroy();
        resolve(san);
      });
      s.on('error', reject);
    });

  test('SNI picks the certificate: exact listener, wildcard listener, default', async () => {
    assert.match(await peerSAN('foo.example.com'), /foo\.example\.com/);
    assert.match(await peerSAN('a.gw.example.com'), /gw\.example\.com/);
    assert.doesNotMatch(await peerSAN('a.gw.example.com'), /foo\.example\.com/);
    // Unknown or absent SNI: the port's default (first listener's first certificate).
    const def = await peerSAN(undefined);
    assert.ok(def.length > 0);
  });

  test('a certificate change applies to new handshakes without rebinding', async () => {
    const swapped: IR = structuredClone(baseIR);
    const foo = swapped.ports[0]!.listeners.find((l) => l.hostname === 'foo.example.com')!;
    foo.tls!.certificates = [{ secret: 'default/new', ...pki.gateway, dnsNames: ['gw.example.com'] }];
    await engine.apply(swapped);
    try {
      assert.doesNotMatch(await peerSAN('foo.example.com'), /foo\.example\.com/);
    } finally {
      await engine.apply(baseIR);
    }
    assert.match(await peerSAN('foo.example.com'), /foo\.example\.com/);
  });

  test('HTTPS with HTTP/1.1 (ALPN http/1.1): verified certificate, X-Forwarded-Proto https', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, servername: 'foo.example.com', headers: { host: 'foo.example.com' }, ca: pki.caPem, path: '/x', agent: false }, (res) => {
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(s));
      }).on('error', reject);
    });
    const j = JSON.parse(body);
    assert.equal(j.backend, 'a');
    assert.equal(j.headers['x-forwarded-proto'], 'https');
  });

  test('HTTPS with ALPN h2', async () => {
    const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: pki.caPem, servername: 'x.gw.example.com' });
    try {
      const r = await h2request(session, { ':path': '/via-h2', ':authority': 'x.gw.example.com' });
      assert.equal(r.status, 200);
      const j = JSON.parse(r.body);
      assert.equal(j.url, '/via-h2');
      assert.equal(j.headers['x-forwarded-proto'], 'https');
    } finally {
      session.close();
    }
  });

  test('prior-knowledge h2c on an HTTP port, to HTTP/1.1 and h2c upstreams, with a body', async () => {
    const session = http2.connect(`http://127.0.0.1:${plainPort}`);
    try {
      const r1 = await h2request(session, { ':path': '/plain', ':method': 'POST' }, 'payload');
      assert.equal(r1.status, 200);
      assert.equal(JSON.parse(r1.body).body, 'payload');
      const r2 = await h2request(session, { ':path': '/h2c/x', ':method': 'POST' }, 'to-h2');
      assert.equal(r2.status, 200);
      assert.equal(r2.headers['x-h2'], 'yes');
      assert.equal(JSON.parse(r2.body).body, 'to-h2');
      const r404 = await h2request(session, { ':path': '/nothing', ':authority': 'nohost.test' });
      assert.equal(r404.status, 200, 'catch-all listener routes everything to a');
    } finally {
      session.close();
    }
  });

  test('HTTP/1.1 client to an h2c upstream', async () => {
    const r = await request(plainPort, '/h2c/from-h1', { method: 'POST', body: 'hi' });
    assert.equal(r.status, 200);
    const j = JSON.parse(r.body);
    assert.equal(j.path, '/h2c/from-h1');
    assert.equal(j.body, 'hi');
    assert.equal(j.xfp, 'http');
  });

  test('gRPC: trailers pass through; no route -> UNIMPLEMENTED; invalid backend -> UNAVAILABLE', async () => {
    const session = http2.connect(`http://127.0.0.1:${plainPort}`);
    const grpc = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };
    try {
      const ok = await h2request(session, { ...grpc, ':path': '/pkg.Svc/Method' }, '\0\0\0\0\0');
      assert.equal(ok.status, 200);
      assert.equal(ok.trailers['grpc-status'], '0');
      assert.equal(ok.trailers['grpc-message'], 'fine');
      const missing = await h2request(session, { ...grpc, ':path': '/pkg.Svc/Nope' }, '\0\0\0\0\0');
      // The catch-all "/" HTTPRoute owns unmatched paths on this listener, so use a host with no route at all below.
      assert.equal(missing.status, 200);
      const broken = await h2request(session, { ...grpc, ':path': '/pkg.Svc/Broken' }, '\0\0\0\0\0');
      assert.equal(broken.status, 200);
      assert.equal(broken.headers['grpc-status'], '14');
      assert.equal(broken.headers['content-type'], 'application/grpc');
    } finally {
      session.close();
    }
  });

  test('WebSocket upgrade: both directions streamed', async () => {
    const s = net.connect(plainPort, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    await new Promise((r) => s.once('connect', r));
    s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    for (let i = 0; i < 50 && !out.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(out, /^HTTP\/1\.1 101/);
    assert.match(out, /X-Seen-Upgrade: websocket/);
    s.write('ping1');
    for (let i = 0; i < 50 && !out.includes('echo:ping1'); i++) await new Promise((r) => setTimeout(r, 10));
    s.write('ping2');
    for (let i = 0; i < 50 && !out.includes('echo:ping2'); i++) await new Promise((r) => setTimeout(r, 10));
    s.destroy();
    assert.ok(out.includes('echo:ping1') && out.includes('echo:ping2'), out);
  });
});

describe('WebSocket over HTTP/2 (RFC 8441)', () => {
  test('an extended CONNECT stream becomes the HTTP/1.1 Upgrade and carries bytes both ways', async () => {
    const ws = http.createServer((_req, res) => res.end('not a websocket'));
    const seen: http.IncomingHttpHeaders[] = [];
    ws.on('upgrade', (req, socket) => {
      seen.push(req.headers);
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`);
      socket.on('data', (d) => socket.write('echo:' + d.toString()));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
    const port = await freePort();
    const engine = createEngine({});
    await engine.apply({
      ports: [httpPort(port, [listener('plain', [route({ path: { type: 'PathPrefix', value: '/ws' } }, [to('ws')]), route({}, [to('none')])])])],
      clusters: { ws: cluster('ws', [(ws.address() as AddressInfo).port], { protocol: 'ws' }), none: cluster('none', []) },
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    try {
      await new Promise((r) => session.once('remoteSettings', r));
      assert.equal(session.remoteSettings.enableConnectProtocol, true, 'the server offers extended CONNECT');
      const open = (path: string) =>
        session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': path, ':authority': 'app.example', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat' });
      const req = open('/ws/room?x=1');
      const head = await new Promise<http2.IncomingHttpHeaders>((r) => req.once('response', r));
      assert.equal(head[':status'], 200);
      assert.equal(head['sec-websocket-protocol'], 'chat');
      const h = seen.at(-1)!;
      assert.equal(h.upgrade, 'websocket');
      assert.equal(h.host, 'app.example');
      assert.equal(h['sec-websocket-protocol'], 'chat');
      assert.match(String(h['sec-websocket-key']), /^[A-Za-z0-9+/]{22}==$/);
      let out = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (out += d));
      req.write('ping1');
      for (let i = 0; i < 500 && !out.includes('echo:ping1'); i++) await new Promise((r) => setTimeout(r, 10));
      req.write('ping2');
      for (let i = 0; i < 500 && !out.includes('echo:ping2'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(out, 'echo:ping1echo:ping2');
      req.close();

      // No route for the path: the stream is answered, not tunnelled.
      const none = open('/elsewhere');
      const st = await new Promise<http2.IncomingHttpHeaders>((r) => none.once('response', r));
      assert.equal(st[':status'], 503);
      none.close();
    } finally {
      session.close();
      await engine.close(100);
      ws.closeAllConnections();
      await new Promise((r) => ws.close(r));
    }
  });
});

describe('gRPC request with no matching route', () => {
  test('answers trailers-only UNIMPLEMENTED, not a 404 body', async () => {
    const port = await freePort();
    const engine = createEngine({});
    await engine.apply({
      ports: [httpPort(port, [listener('grpc', [route({ path: { type: 'Exact', value: '/pkg.Svc/Known' } }, [to('none')], [], { grpc: true })])])],
      clusters: { none: cluster('none', []) },
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const r = await h2request(session, { ':method': 'POST', ':path': '/pkg.Svc/Unknown', 'content-type': 'application/grpc', te: 'trailers' }, '\0\0\0\0\0');
      assert.equal(r.status, 200);
      assert.equal(r.headers['grpc-status'], '12');
      assert.equal(r.body, '');
      const noEndpoints = await h2request(session, { ':method': 'POST', ':path': '/pkg.Svc/Known', 'content-type': 'application/grpc' }, '');
      assert.equal(noEndpoints.headers['grpc-status'], '14');
      const plain = await h2request(session, { ':path': '/not-grpc' });
      assert.equal(plain.status, 404);
    } finally {
      session.close();
      await engine.close(100);
    }
  });
});
