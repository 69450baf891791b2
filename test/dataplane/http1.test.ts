// HTTP/1.1 proxying through the engine with real sockets: matching, listener isolation,
// backends and their failure modes, forwarded headers, framing, streaming, pipelining.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, raw, request, route, to, type Backend } from './helpers.js';

describe('HTTP/1.1 routing and backends', () => {
  let a: Backend, b: Backend, engine: Engine, port: number, deadPort: number;
  before(async () => {
    a = await echoBackend('a');
    b = await echoBackend('b', (req, res) => {
      if (req.url === '/b/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-custom': 'yes' });
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
        return true;
      }
      if (req.url === '/b/nocontent') {
        res.writeHead(204);
        res.end();
        return true;
      }
      return false;
    });
    port = await freePort();
    deadPort = await freePort();
    engine = createEngine({});
    const routes = [
      route({ path: { type: 'Exact', value: '/exact' } }, [to('a')]),
      route({ path: { type: 'PathPrefix', value: '/b' } }, [to('b')]),
      route({ path: { type: 'PathPrefix', value: '/hdr' }, headers: [{ name: 'x-version', type: 'Exact', value: 'v2' }] }, [to('b')]),
      route({ path: { type: 'PathPrefix', value: '/hdr' }, headers: [{ name: 'x-version', type: 'RegularExpression', value: 'v[0-9]+' }] }, [to('a')]),
      route({ path: { type: 'PathPrefix', value: '/q' }, queryParams: [{ name: 'env', type: 'Exact', value: 'canary' }] }, [to('b')]),
      route({ path: { type: 'PathPrefix', value: '/q' } }, [to('a')]),
      route({ path: { type: 'PathPrefix', value: '/m' }, method: 'DELETE' }, [to('b')]),
      route({ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }, [to('b')]),
      route({ path: { type: 'PathPrefix', value: '/weights' } }, [to('a', 1), to('b', 0)]),
      route({ path: { type: 'PathPrefix', value: '/split' } }, [to('a', 1), to('b', 1)]),
      route({ path: { type: 'PathPrefix', value: '/invalid' } }, [{ weight: 1, invalid: { status: 500, reason: 'BackendNotFound' } }]),
      route({ path: { type: 'PathPrefix', value: '/nobackends' } }, []),
      route({ path: { type: 'PathPrefix', value: '/noendpoints' } }, [to('empty')]),
      route({ path: { type: 'PathPrefix', value: '/dead' } }, [to('dead')]),
      route({ path: { type: 'PathPrefix', value: '/rr' } }, [to('ab')]),
    ];
    await engine.apply({
      ports: [httpPort(port, [
        listener('exact', [route({ path: { type: 'PathPrefix', value: '/' } }, [to('b')])], 'only-b.example.com'),
        listener('any', routes),
      ])],
      clusters: {
        a: cluster('a', [a.port]),
        b: cluster('b', [b.port]),
        ab: cluster('ab', [a.port, b.port]),
        empty: cluster('empty', []),
        dead: cluster('dead', [deadPort]),
      },
    });
  });
  after(async () => {
    await engine.close(100);
    await a.close();
    await b.close();
  });

  test('exact path, prefix, regex, header, query, method', async () => {
    assert.equal(json(await request(port, '/exact')).backend, 'a');
    assert.equal((await request(port, '/exact/x')).status, 404);
    assert.equal(json(await request(port, '/b/anything')).backend, 'b');
    assert.equal((await request(port, '/bx')).status, 404);
    assert.equal(json(await request(port, '/hdr', { headers: { 'X-Version': 'v2' } })).backend, 'b');
    assert.equal(json(await request(port, '/hdr', { headers: { 'x-version': 'v7' } })).backend, 'a');
    assert.equal((await request(port, '/hdr', { headers: { 'x-version': 'beta' } })).status, 404);
    assert.equal(json(await request(port, '/q?env=canary')).backend, 'b');
    assert.equal(json(await request(port, '/q?env=prod')).backend, 'a');
    assert.equal(json(await request(port, '/m', { method: 'DELETE' })).backend, 'b');
    assert.equal((await request(port, '/m')).status, 404);
    assert.equal(json(await request(port, '/re/42')).backend, 'b');
    assert.equal((await request(port, '/re/4x')).status, 404);
  });

  test('404 for unmatched paths with a short plain body', async () => {
    const r = await request(port, '/nothing-here');
    assert.equal(r.status, 404);
    assert.match(r.body, /not found/);
  });

  test('listener isolation: a host owned by a more specific listener never reaches the catch-all', async () => {
    const r = await request(port, '/exact', { headers: { host: 'only-b.example.com' } });
    assert.equal(json(r).backend, 'b');
    assert.equal(json(await request(port, '/exact', { headers: { host: 'other.example.com' } })).backend, 'a');
  });

  test('weight 0 is never picked; 1:1 split reaches both', async () => {
    for (let i = 0; i < 30; i++) assert.equal(json(await request(port, '/weights')).backend, 'a');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(json(await request(port, '/split')).backend);
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  test('round robin across endpoints', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(json(await request(port, '/rr')).backend);
    assert.deepEqual(seen.sort(), ['a', 'a', 'b', 'b']);
  });

  test('invalid backend and no backends answer 500; no endpoints 503; connect failure 502', async () => {
    assert.equal((await request(port, '/invalid')).status, 500);
    assert.equal((await request(port, '/nobackends')).status, 500);
    const r503 = await request(port, '/noendpoints');
    assert.equal(r503.status, 503);
    assert.ok(r503.body.length < 100);
    const r502 = await request(port, '/dead');
    assert.equal(r502.status, 502);
    assert.ok(r502.body.length < 100);
  });

  test('X-Forwarded-For/-Proto/-Host added, existing X-Forwarded-For appended to', async () => {
    const h = json(await request(port, '/exact', { headers: { 'x-forwarded-for': '10.0.0.1' } })).headers;
    assert.equal(h['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], `127.0.0.1:${port}`);
  });

  test('hop-by-hop headers are stripped both ways', async () => {
    const r = await request(port, '/exact', { headers: { connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': 'timeout=5', 'proxy-connection': 'x', te: 'trailers' } });
    const h = json(r).headers;
    for (const k of ['x-secret', 'keep-alive', 'proxy-connection', 'te']) assert.equal(h[k], undefined, k);
    const c = await request(port, '/b/chunked');
    assert.equal(c.body, 'part1-part2');
    assert.equal(c.headers['keep-alive'], undefined);
    assert.equal(c.headers['x-custom'], 'yes');
  });

  test('chunked response passes through; 204 has no body; HEAD has no body', async () => {
    const c = await request(port, '/b/chunked');
    assert.equal(c.headers['transfer-encoding'], 'chunked');
    assert.equal((await request(port, '/b/nocontent')).status, 204);
    const h = await request(port, '/exact', { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.body, '');
    assert.equal(json(await request(port, '/exact')).backend, 'a', 'connection still usable after HEAD');
  });

  test('chunked request body is forwarded', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/exact', method: 'POST', agent: false }, (res) => {
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      req.write('hello ');
      setTimeout(() => req.end('world'), 20);
    });
    assert.equal(JSON.parse(out).body, 'hello world');
  });

  test('large upload and download stream through', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 'x');
    const r = await request(port, '/exact', { method: 'POST', body: big });
    assert.equal(json(r).body.length, big.length);
  });

  test('absolute-form target: its authority replaces Host; other forms -> 400', async () => {
    const out = await raw(port, `GET http://only-b.example.com/exact?q=1 HTTP/1.1\r\nHost: ignored.test\r\nConnection: close\r\n\r\n`);
    assert.match(out, /"backend":"b"/);
    assert.match(out, /"url":"\/exact\?q=1"/);
    assert.match(await raw(port, 'GET foo HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });

  test('pipelined requests are answered in order on one connection', async () => {
    const one = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const out = await raw(port, one('/exact') + one('/nothing') + one('/b/1'), 1500);
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '404', '200']);
    assert.ok(out.indexOf('"backend":"a"') < out.indexOf('"backend":"b"'));
  });

  test('HTTP/1.0 client gets a closed connection and unchunked data', async () => {
    const out = await raw(port, 'GET /b/chunked HTTP/1.0\r\n\r\n', 1500);
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /connection: close/i);
    assert.doesNotMatch(out, /transfer-encoding/i);
    assert.ok(out.endsWith('\r\n\r\npart1-part2'), out);
  });

  test('pipelined requests with bodies, split at random byte boundaries, come back intact and in order', async () => {
    let all = '';
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      const body = `body-${i}-` + 'x'.repeat(i * 37);
      expected.push(body);
      if (i % 3 === 0) all += `POST /exact HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      else all += `POST /exact HTTP/1.1\r\nHost: x\r\n${i === 19 ? 'Connection: close\r\n' : ''}Content-Length: ${body.length}\r\n\r\n${body}`;
    }
    const parts: string[] = [];
    let pos = 0;
    let seed = 7;
    while (pos < all.length) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = 1 + (seed % 200);
      parts.push(all.slice(pos, pos + n));
      pos += n;
    }
    const out = await raw(port, parts, 3000, 1);
    const bodies = [...out.matchAll(/"body":"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(bodies, expected);
  });

  test('upstream keep-alive: sequential requests reuse one upstream connection', async () => {
    const before = new Set(a.hits.map((h) => h.headers['x-forwarded-for']));
    assert.ok(before);
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let data = '';
    sock.on('data', (d) => (data += d));
    let remotePorts = new Set<string>();
    const b2 = await echoBackend('c', (req, res) => {
      remotePorts.add(String(req.socket.remotePort));
      res.end('ok');
      return true;
    });
    await engine.apply({
      ports: [httpPort(port, [listener('any', [route({}, [to('c')])])])],
      clusters: { c: cluster('c', [b2.port]) },
    });
    remotePorts = new Set();
    for (let i = 0; i < 5; i++) {
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 30));
    }
    sock.destroy();
    assert.equal((data.match(/HTTP\/1\.1 200/g) ?? []).length, 5);
    assert.equal(remotePorts.size, 1);
    await b2.close();
  });

});

describe('access log', () => {
  test('one line per request with status, route and upstream', async () => {
    const a = await echoBackend('a');
    const port = await freePort();
    const lines: string[] = [];
    const engine = createEngine({ accessLog: (l) => lines.push(l) });
    await engine.apply({ ports: [httpPort(port, [listener('l', [route({ path: { type: 'PathPrefix', value: '/ok' } }, [to('a')])])])], clusters: { a: cluster('a', [a.port]) } });
    await request(port, '/ok/1', { agent: false });
    await request(port, '/missing', { agent: false });
    await engine.close(100);
    await a.close();
    assert.equal(lines.length, 2);
    const [ok, miss] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual([ok!.method, ok!.path, ok!.protocol, ok!.status, ok!.route, ok!.rule, ok!.backend], ['GET', '/ok/1', 'HTTP/1.1', 200, 'HTTPRoute/default/r', 0, 'a']);
    assert.deepEqual([miss!.path, miss!.status, miss!.route, miss!.backend, miss!.local_reason], ['/missing', 404, null, null, 'no_route']);
  });
});
