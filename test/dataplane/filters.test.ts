// Every HTTPRoute filter and the rule timeouts, through real sockets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { HTTPFilter } from '../../src/ir/types.js';
import { cluster, echoBackend, freePort, json, request, route, simpleIR, to, type Backend } from './helpers.js';
import { modifyPath } from '../../src/dataplane/filters/path-modifier.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });

describe('filters', () => {
  let a: Backend, mirror: Backend, slow: Backend, engine: Engine, port: number;
  before(async () => {
    a = await echoBackend('a', (req, res) => {
      if (req.url?.startsWith('/resp')) {
        res.setHeader('x-remove-me', '1');
        res.setHeader('x-replace', 'old');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.end('resp');
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
    const f = (x: HTTPFilter): HTTPFilter => x;
    await engine.apply(simpleIR(port, [
      route(prefix('/reqhdr'), [to('a')], [f({ type: 'RequestHeaderModifier', modifier: { set: [{ name: 'X-Set', value: 'set' }], add: [{ name: 'x-add', value: 'two' }], remove: ['x-drop'] } })]),
      route(prefix('/resp'), [to('a')], [f({ type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-replace', value: 'new' }], add: [{ name: 'set-cookie', value: 'c=3' }], remove: ['X-Remove-Me'] } })]),
      route(prefix('/redir/scheme'), [], [f({ type: 'RequestRedirect', scheme: 'https', statusCode: 301 })]),
      route(prefix('/redir/host'), [], [f({ type: 'RequestRedirect', hostname: 'example.org', statusCode: 302 })]),
      route(prefix('/redir/port'), [], [f({ type: 'RequestRedirect', scheme: 'http', port: 8080, statusCode: 302 })]),
      route(prefix('/redir/p80'), [], [f({ type: 'RequestRedirect', hostname: 'x.test', port: 80, statusCode: 302 })]),
      route(prefix('/redir/full'), [], [f({ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: '/new' }, statusCode: 302 })]),
      route(prefix('/redir/prefix'), [], [f({ type: 'RequestRedirect', path: { type: 'ReplacePrefixMatch', value: '/moved' }, statusCode: 308 })]),
      route(prefix('/rw/host'), [to('a')], [f({ type: 'URLRewrite', hostname: 'internal.test' })]),
      route(prefix('/rw/prefix'), [to('a')], [f({ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/v2' } })]),
      route(prefix('/rw/strip'), [to('a')], [f({ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/' } })]),
      route(prefix('/rw/full'), [to('a')], [f({ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/full' } })]),
      route(prefix('/mirror'), [to('a')], [f({ type: 'RequestMirror', backend: { cluster: 'mirror' }, fraction: 1 })]),
      route(prefix('/nomirror'), [to('a')], [f({ type: 'RequestMirror', backend: { cluster: 'mirror' }, fraction: 0 })]),
      route(prefix('/deadmirror'), [to('a')], [f({ type: 'RequestMirror', backend: { cluster: 'dead' }, fraction: 1 })]),
      route(prefix('/cors'), [to('a')], [f({ type: 'CORS', allowOrigins: ['https://app.example.com', 'https://*.trusted.test'], allowCredentials: true, allowMethods: ['GET', 'PUT'], allowHeaders: ['x-token'], exposeHeaders: ['x-backend'], maxAge: 600 })]),
      route(prefix('/timeout/request'), [to('slow')], [], { timeouts: { requestMs: 100 } }),
      route(prefix('/timeout/backend'), [to('slow')], [], { timeouts: { backendRequestMs: 100 } }),
      route(prefix('/timeout/ok'), [to('slow')], [], { timeouts: { requestMs: 2000 } }),
      route(prefix('/backendfilter'), [to('a', 1, [f({ type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-from', value: 'backend' }] } })])], [f({ type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-from', value: 'rule' }, { name: 'x-rule', value: '1' }] } })]),
    ], [cluster('a', [a.port]), cluster('mirror', [mirror.port]), cluster('slow', [slow.port]), cluster('dead', [await freePort()])]));
  });
  after(async () => {
    await engine.close(100);
    await Promise.all([a.close(), mirror.close(), slow.close()]);
  });

  test('RequestHeaderModifier set/add/remove, case-insensitive, multi-value', async () => {
    const h = json(await request(port, '/reqhdr', { headers: { 'x-set': 'orig', 'X-Add': 'one', 'x-drop': 'gone' } })).headers;
    assert.equal(h['x-set'], 'set');
    assert.equal(h['x-add'], 'one, two');
    assert.equal(h['x-drop'], undefined);
  });

  test('ResponseHeaderModifier set/add/remove', async () => {
    const r = await request(port, '/resp');
    assert.equal(r.body, 'resp');
    assert.equal(r.headers['x-replace'], 'new');
    assert.equal(r.headers['x-remove-me'], undefined);
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2', 'c=3']);
  });

  test('RequestRedirect: scheme, hostname, port rules, paths', async () => {
    const loc = async (p: string): Promise<[number, string | undefined]> => {
      const r = await request(port, p, { headers: { host: 'shop.example.com:' + port } });
      return [r.status, r.headers.location];
    };
    assert.deepEqual(await loc('/redir/scheme/a?x=1'), [301, 'https://shop.example.com/redir/scheme/a?x=1']);
    assert.deepEqual(await loc('/redir/host'), [302, `http://example.org:${port}/redir/host`]);
    assert.deepEqual(await loc('/redir/port'), [302, 'http://shop.example.com:8080/redir/port']);
    assert.deepEqual(await loc('/redir/p80'), [302, 'http://x.test/redir/p80']);
    assert.deepEqual(await loc('/redir/full/x'), [302, `http://shop.example.com:${port}/new`]);
    assert.deepEqual(await loc('/redir/prefix/a/b'), [308, `http://shop.example.com:${port}/moved/a/b`]);
  });

  test('URLRewrite hostname and path', async () => {
    const hostR = json(await request(port, '/rw/host/x'));
    assert.equal(hostR.headers.host, 'internal.test');
    assert.equal(hostR.headers['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(json(await request(port, '/rw/prefix/items?id=1')).url, '/v2/items?id=1');
    assert.equal(json(await request(port, '/rw/prefix')).url, '/v2');
    assert.equal(json(await request(port, '/rw/strip/three')).url, '/three');
    assert.equal(json(await request(port, '/rw/strip')).url, '/');
    assert.equal(json(await request(port, '/rw/full/any/thing')).url, '/full');
  });

  test('path modifier edge cases', () => {
    const m = { path: { type: 'PathPrefix' as const, value: '/foo/' } };
    assert.equal(modifyPath('/foo/bar', { type: 'ReplacePrefixMatch', value: '/baz/' }, m), '/baz/bar');
    assert.equal(modifyPath('/foo/', { type: 'ReplacePrefixMatch', value: '/baz' }, m), '/baz/');
    assert.equal(modifyPath('/foo', { type: 'ReplacePrefixMatch', value: '' }, m), '/');
  });

  test('RequestMirror copies the request (body included), fire-and-forget', async () => {
    const before = mirror.hits.length;
    const r = await request(port, '/mirror/x', { method: 'POST', body: 'copy me' });
    assert.equal(json(r).backend, 'a');
    for (let i = 0; i < 50 && mirror.hits.length === before; i++) await new Promise((res) => setTimeout(res, 20));
    const hit = mirror.hits.at(-1)!;
    assert.equal(hit.url, '/mirror/x');
    assert.equal(hit.body, 'copy me');
    await request(port, '/nomirror');
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(mirror.hits.length, before + 1, 'fraction 0 never mirrors');
    assert.equal(json(await request(port, '/deadmirror')).backend, 'a', 'a dead mirror does not fail the request');
  });

  test('CORS preflight answered by the gateway; actual responses decorated', async () => {
    const pre = await request(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(pre.headers['access-control-allow-headers'], 'x-token');
    assert.equal(pre.headers['access-control-max-age'], '600');
    const wild = await request(port, '/cors', { headers: { origin: 'https://api.trusted.test' } });
    assert.equal(wild.headers['access-control-allow-origin'], 'https://api.trusted.test');
    assert.equal(wild.headers['access-control-expose-headers'], 'x-backend');
    const bad = await request(port, '/cors', { headers: { origin: 'https://evil.test' } });
    assert.equal(bad.status, 200);
    assert.equal(bad.headers['access-control-allow-origin'], undefined);
  });

  test('request and backendRequest timeouts answer 504; within the timeout passes', async () => {
    const t0 = Date.now();
    assert.equal((await request(port, '/timeout/request')).status, 504);
    assert.ok(Date.now() - t0 < 350);
    assert.equal((await request(port, '/timeout/backend')).status, 504);
    const ok = await request(port, '/timeout/ok');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'late');
  });

  test('backendRef filters run after the rule filters', async () => {
    const h = json(await request(port, '/backendfilter')).headers;
    assert.equal(h['x-from'], 'backend');
    assert.equal(h['x-rule'], '1');
  });
});
