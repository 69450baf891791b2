// The HTTP/2 front end runs the same plan as HTTP/1.1: filters, redirects, timeouts, mirrors,
// 404/500/503 answers, all seen by a real HTTP/2 client (prior-knowledge h2c).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, route, simpleIR, to, type Backend } from './helpers.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });

function get(session: http2.ClientHttp2Session, path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ...extra });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    s.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (body += d));
    s.on('end', () => resolve({ status, headers, body }));
    s.on('error', reject);
  });
}

describe('HTTP/2 front end', () => {
  let a: Backend, mirror: Backend, slow: Backend, engine: Engine, port: number, session: http2.ClientHttp2Session;
  before(async () => {
    a = await echoBackend('a', (req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let n = 0;
        const tick = (): void => {
          if (n++ === 16) return void res.end();
          res.write(Buffer.alloc(64 * 1024, 'z'));
          setImmediate(tick);
        };
        tick();
        return true;
      }
      if (req.url === '/resp') {
        res.setHeader('x-remove', '1');
        res.end('r');
        return true;
      }
      return false;
    });
    mirror = await echoBackend('mirror');
    slow = await echoBackend('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 400);
      return true;
    });
    port = await freePort();
    engine = createEngine({});
    await engine.apply(simpleIR(port, [
      route(prefix('/stream'), [to('a')]),
      route(prefix('/upload'), [to('a')]),
      route(prefix('/hdr'), [to('a')], [{ type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-set', value: '1' }], remove: ['x-drop'] } }]),
      route(prefix('/resp'), [to('a')], [{ type: 'ResponseHeaderModifier', modifier: { add: [{ name: 'x-added', value: 'y' }], remove: ['x-remove'] } }]),
      route(prefix('/redir'), [], [{ type: 'RequestRedirect', scheme: 'https', statusCode: 301 }]),
      route(prefix('/rw'), [to('a')], [{ type: 'URLRewrite', hostname: 'inner.test', path: { type: 'ReplacePrefixMatch', value: '/x' } }]),
      route(prefix('/mirror'), [to('a')], [{ type: 'RequestMirror', backend: { cluster: 'mirror' }, fraction: 1 }]),
      route(prefix('/slow'), [to('slow')], [], { timeouts: { requestMs: 100 } }),
      route(prefix('/invalid'), [{ weight: 1, invalid: { status: 500, reason: 'x' } }]),
      route(prefix('/empty'), [to('empty')]),
    ], [cluster('a', [a.port]), cluster('mirror', [mirror.port]), cluster('slow', [slow.port]), cluster('empty', [])]));
    session = http2.connect(`http://127.0.0.1:${port}`);
  });
  after(async () => {
    session.close();
    await engine.close(100);
    await Promise.all([a.close(), mirror.close(), slow.close()]);
  });

  test('request and response header modifiers', async () => {
    const r = await get(session, '/hdr', { 'x-drop': 'no' });
    const h = JSON.parse(r.body).headers;
    assert.equal(h['x-set'], '1');
    assert.equal(h['x-drop'], undefined);
    assert.equal(h['x-forwarded-proto'], 'http');
    const resp = await get(session, '/resp');
    assert.equal(resp.headers['x-added'], 'y');
    assert.equal(resp.headers['x-remove'], undefined);
  });

  test('chunked 1 MiB download and 1 MiB upload without content-length, HTTP/1.1 upstream', async () => {
    const r = await get(session, '/stream');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 16 * 64 * 1024);
    const up = await new Promise<string>((resolve, reject) => {
      const s = session.request({ ':path': '/upload', ':method': 'POST' });
      let body = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (body += d));
      s.on('end', () => resolve(body));
      s.on('error', reject);
      s.write(Buffer.alloc(512 * 1024, 'a'));
      s.end(Buffer.alloc(512 * 1024, 'b'));
    });
    const j = JSON.parse(up);
    assert.equal(j.body.length, 1024 * 1024);
    assert.equal(j.headers['transfer-encoding'], 'chunked');
  });

  test('redirect and rewrite', async () => {
    const r = await get(session, '/redir/a?b=1', { ':authority': 'shop.test' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://shop.test/redir/a?b=1');
    const rw = JSON.parse((await get(session, '/rw/y')).body);
    assert.equal(rw.url, '/x/y');
    assert.equal(rw.headers.host, 'inner.test');
  });

  test('mirror, timeout 504, invalid 500, no endpoints 503, no route 404', async () => {
    const before = mirror.hits.length;
    assert.equal((await get(session, '/mirror/1')).status, 200);
    for (let i = 0; i < 50 && mirror.hits.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(mirror.hits.at(-1)?.url, '/mirror/1');
    assert.equal((await get(session, '/slow')).status, 504);
    assert.equal((await get(session, '/invalid')).status, 500);
    assert.equal((await get(session, '/empty')).status, 503);
    assert.equal((await get(session, '/none')).status, 404);
  });
});
