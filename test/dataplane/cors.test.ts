// CORS filter through real sockets: the cases the Gateway API conformance test HTTPRouteCORS
// checks (v1.6.3), plus the credential rules of the Fetch spec behind them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { HTTPFilter } from '../../src/ir/types.js';
import { cluster, echoBackend, freePort, json, request, route, simpleIR, to, type Backend } from './helpers.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });
type Cors = Extract<HTTPFilter, { type: 'CORS' }>;
const cors = (x: Omit<Cors, 'type'>): Cors => ({ type: 'CORS', ...x });

describe('CORS', () => {
  let a: Backend, engine: Engine, port: number;
  before(async () => {
    a = await echoBackend('a');
    port = await freePort();
    engine = createEngine({});
    await engine.apply(
      simpleIR(
        port,
        [
          route(prefix('/cors-1'), [to('a')], [cors({ allowOrigins: ['https://www.foo.com', 'https://*.bar.com'], allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['x-header-1', 'x-header-2'], exposeHeaders: ['x-header-3', 'x-header-4'], allowCredentials: true, maxAge: 3600 })]),
          route(prefix('/cors-2'), [to('a')], [cors({ allowOrigins: ['https://www.foo.com'], allowMethods: ['*'], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAge: 5 })]),
          route(prefix('/any-origin'), [to('a')], [cors({ allowOrigins: ['*'], allowMethods: ['PUT'], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAge: 5 })]),
          route(prefix('/wild-auth'), [to('a')], [cors({ allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: true, maxAge: 5 })]),
          route(prefix('/wild-anon'), [to('a')], [cors({ allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: false, maxAge: 5 })]),
        ],
        [cluster('a', [a.port])],
      ),
    );
  });
  after(async () => {
    await engine.close(100);
    await a.close();
  });

  const preflight = (path: string, origin: string, method: string, headers?: string) =>
    request(port, path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) } });

  test('preflight from an exact or wildcard origin gets every allow header, expose headers and max-age', async () => {
    for (const origin of ['https://www.foo.com', 'https://www.bar.com', 'https://xpto.www.bar.com']) {
      const r = await preflight('/cors-1', origin, 'GET', 'x-header-1, x-header-2');
      assert.equal(r.status, 200);
      assert.equal(r.body, '', 'the gateway answers; the backend never sees a preflight');
      assert.equal(r.headers['access-control-allow-origin'], origin);
      assert.equal(r.headers['access-control-allow-methods'], 'GET, OPTIONS');
      assert.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
      assert.equal(r.headers['access-control-expose-headers'], 'x-header-3, x-header-4');
      assert.equal(r.headers['access-control-max-age'], '3600');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
    }
  });

  test('origins outside the list get no allow-origin, on preflight and actual requests', async () => {
    const pre = await preflight('/cors-1', 'https://foobar.com', 'GET');
    assert.ok([200, 204, 403].includes(pre.status));
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    // "*.bar.com" needs at least one label before it.
    assert.equal((await preflight('/cors-1', 'https://.bar.com', 'GET')).headers['access-control-allow-origin'], undefined);
    const get = await request(port, '/cors-1', { headers: { origin: 'https://foobar.com' } });
    assert.equal(get.status, 200);
    assert.equal(json(get).backend, 'a');
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });

  test('actual requests reach the backend and carry allow-origin, credentials and expose headers', async () => {
    const r = await request(port, '/cors-1', { headers: { origin: 'https://www.bar.com' } });
    assert.equal(r.status, 200);
    assert.equal(json(r).backend, 'a');
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.bar.com');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'x-header-3, x-header-4');
  });

  test('allowMethods "*" without credentials: a wildcard, and no allow-credentials header', async () => {
    const r = await preflight('/cors-2', 'https://www.foo.com', 'POST');
    assert.equal(r.status, 200);
    assert.ok(['POST', '*'].includes(r.headers['access-control-allow-methods'] as string));
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.foo.com');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('allowOrigins "*" without credentials answers any origin, with or without a port', async () => {
    for (const origin of ['https://foobar.com', 'https://foobar.com:12345']) {
      const pre = await preflight('/any-origin', origin, 'PUT');
      assert.ok(['*', origin].includes(pre.headers['access-control-allow-origin'] as string));
      assert.equal(pre.headers['access-control-allow-methods'], 'PUT');
      assert.equal(pre.headers['access-control-allow-credentials'], undefined);
      const put = await request(port, '/any-origin', { method: 'PUT', headers: { origin } });
      assert.equal(put.status, 200);
      assert.ok(['*', origin].includes(put.headers['access-control-allow-origin'] as string));
      assert.equal(put.headers['access-control-allow-credentials'], undefined);
    }
  });

  test('wildcards with credentials echo the origin, method and headers (a literal "*" would not work)', async () => {
    const r = await preflight('/wild-auth', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2');
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(r.headers['access-control-allow-methods'], 'PUT');
    assert.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    const get = await request(port, '/wild-auth', { headers: { origin: 'https://other.foo.com' } });
    assert.equal(get.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(get.headers['access-control-allow-credentials'], 'true');
  });

  test('wildcards without credentials never send allow-credentials', async () => {
    const r = await preflight('/wild-anon', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2');
    assert.equal(r.status, 200);
    assert.ok(['*', 'https://other.foo.com'].includes(r.headers['access-control-allow-origin'] as string));
    assert.ok(['*', 'PUT'].includes(r.headers['access-control-allow-methods'] as string));
    assert.ok(['*', 'x-header-1, x-header-2'].includes(r.headers['access-control-allow-headers'] as string));
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    const get = await request(port, '/wild-anon', { headers: { origin: 'https://other.foo.com' } });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-credentials'], undefined);
  });

  test('an OPTIONS without Access-Control-Request-Method is an ordinary request for the backend', async () => {
    const r = await request(port, '/cors-1', { method: 'OPTIONS', headers: { origin: 'https://www.foo.com' } });
    assert.equal(r.status, 200);
    assert.equal(json(r).method, 'OPTIONS');
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.foo.com');
  });
});
