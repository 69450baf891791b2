// HTTPRoute retry through real sockets: a backend that fails the first N tries of each request id.
import { after, before, describe, test } from 'node:test';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, request, route, simpleIR, to, type Backend } from './helpers.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });

describe('retry', () => {
  let flaky: Backend, engine: Engine, port: number, slammer: net.Server;
  let slams = 0;
  const tries = new Map<string, number>();
  before(async () => {
    // /<anything>?id=X&code=C&fail=N[&delay=D]: the first N requests with id X get status C (with a
    // body), D ms late when D is given, then 200 at once.
    flaky = await echoBackend('flaky', (req, res) => {
      const u = new URL(req.url!, 'http://x');
      const id = u.searchParams.get('id')!;
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      if (n <= Number(u.searchParams.get('fail'))) {
        const answer = () => {
          if (res.destroyed) return;
          res.writeHead(Number(u.searchParams.get('code')), { 'content-type': 'text/plain' });
          res.end(`failed try ${n}`);
        };
        const delay = Number(u.searchParams.get('delay') ?? 0);
        if (delay > 0) setTimeout(answer, delay);
        else answer();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok on try ${n}`);
      }
      return true;
    });
    // Accepts and at once closes every connection: an upstream that fails before answering.
    slammer = net.createServer((s) => {
      slams++;
      s.destroy();
    });
    await new Promise<void>((r) => slammer.listen(0, '127.0.0.1', r));
    port = await freePort();
    engine = createEngine({});
    await engine.apply(simpleIR(port, [
      route(prefix('/r3'), [to('flaky')], [], { retry: { codes: [500], attempts: 3, backoffMs: 0 } }),
      route(prefix('/r2b'), [to('flaky')], [], { retry: { codes: [500, 502, 503, 504], attempts: 2, backoffMs: 50 } }),
      route(prefix('/none'), [to('flaky')]),
      route(prefix('/dead'), [to('dead')], [], { retry: { codes: [503], attempts: 2, backoffMs: 0 } }),
      route(prefix('/dead-plain'), [to('dead')]),
      route(prefix('/half'), [to('half')], [], { retry: { codes: [], attempts: 1, backoffMs: 0 } }),
      // backendRequest bounds each try, request the whole exchange.
      route(prefix('/per-try'), [to('flaky')], [], { retry: { codes: [500], attempts: 2, backoffMs: 20 }, timeouts: { requestMs: 2000, backendRequestMs: 150 } }),
      route(prefix('/whole'), [to('flaky')], [], { retry: { codes: [500], attempts: 5, backoffMs: 0 }, timeouts: { requestMs: 300, backendRequestMs: 200 } }),
      route(prefix('/no-retry'), [to('flaky')], [], { timeouts: { backendRequestMs: 150 } }),
    ], [
      cluster('flaky', [flaky.port]),
      cluster('dead', [(slammer.address() as AddressInfo).port]),
      // Round robin over an endpoint that resets every connection and one that answers.
      cluster('half', [(slammer.address() as AddressInfo).port, flaky.port]),
    ]));
  });
  after(async () => {
    await engine.close();
    await flaky.close();
    await new Promise((r) => slammer.close(r));
  });

  let seq = 0;
  const get = (path: string, code: number, fail: number, opts: { method?: string; body?: string; delay?: number } = {}) => {
    const id = `t${++seq}`;
    const delay = opts.delay ? `&delay=${opts.delay}` : '';
    return { id, res: request(port, `${path}?id=${id}&code=${code}&fail=${fail}${delay}`, opts) };
  };

  test('a listed status is retried until a try succeeds, within the attempts', async () => {
    const { id, res } = get('/r3', 500, 2);
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok on try 3');
    assert.equal(tries.get(id), 3);
  });

  test('attempts are retries: 1 + attempts tries, then the last failure is passed on with its body', async () => {
    const { id, res } = get('/r3', 500, 10);
    const r = await res;
    assert.equal(r.status, 500);
    assert.equal(r.body, 'failed try 4');
    assert.equal(tries.get(id), 4);
  });

  test('a status not in codes is not retried', async () => {
    const { id, res } = get('/r3', 503, 1);
    const r = await res;
    assert.equal(r.status, 503);
    assert.equal(tries.get(id), 1);
  });

  test('backoff separates tries; every listed code is retried', async () => {
    for (const code of [502, 503, 504]) {
      const t0 = Date.now();
      const { id, res } = get('/r2b', code, 2);
      const r = await res;
      assert.equal(r.status, 200, String(code));
      assert.equal(tries.get(id), 3);
      assert.ok(Date.now() - t0 >= 95, `two backoffs of 50 ms (took ${Date.now() - t0} ms)`);
    }
  });

  test('no retry policy, or a request with a body: the first answer stands', async () => {
    const a = get('/none', 500, 1);
    assert.equal((await a.res).status, 500);
    assert.equal(tries.get(a.id), 1);
    const b = get('/r3', 500, 1, { method: 'POST', body: 'payload' });
    assert.equal((await b.res).status, 500);
    assert.equal(tries.get(b.id), 1);
  });

  test('a connection closed before any answer is retried, then answered 503 (502 without a retry stanza)', async () => {
    slams = 0;
    const r = await request(port, '/dead');
    assert.equal(r.status, 503);
    assert.equal(slams, 3);
    slams = 0;
    assert.equal((await request(port, '/dead-plain')).status, 502);
    assert.equal(slams, 1);
  });

  test('a connection error is retried on the next endpoint even when codes is empty', async () => {
    for (let k = 0; k < 4; k++) {
      const { res } = get('/half', 500, 0);
      const r = await res;
      assert.equal(r.status, 200, `request ${k}`);
    }
  });

  test('backendRequest bounds each try: slow tries are cut and retried, a fast one answers', async () => {
    const { id, res } = get('/per-try', 500, 2, { delay: 400 });
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok on try 3');
    assert.equal(tries.get(id), 3);
  });

  test('every try timing out ends in 504 after the attempts', async () => {
    const { id, res } = get('/per-try', 500, 5, { delay: 400 });
    const r = await res;
    assert.equal(r.status, 504);
    assert.equal(tries.get(id), 3);
  });

  test('the request timeout still bounds all tries together', async () => {
    const t0 = Date.now();
    const { id, res } = get('/whole', 500, 10, { delay: 120 });
    const r = await res;
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 < 1000, `answered at the request timeout (took ${Date.now() - t0} ms)`);
    assert.ok(tries.get(id)! >= 2 && tries.get(id)! <= 3, `tries ${tries.get(id)}`);
  });

  test('without a retry stanza backendRequest bounds the one try', async () => {
    const { id, res } = get('/no-retry', 500, 1, { delay: 400 });
    assert.equal((await res).status, 504);
    assert.equal(tries.get(id), 1);
  });

  describe('over HTTP/2 (h2c prior knowledge) to the same HTTP/1.1 backends', () => {
    let session: http2.ClientHttp2Session;
    before(() => {
      session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
    });
    after(() => session.close());
    const h2 = (path: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':method': method, ':path': path }, { endStream: body === undefined });
        let out = '';
        let status = 0;
        req.setEncoding('utf8');
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: string) => (out += d));
        req.on('end', () => resolve({ status, body: out }));
        req.on('error', reject);
        if (body !== undefined) req.end(body);
      });
    const id = () => `h2-${++seq}`;

    test('a listed status is retried until a try succeeds; exhausted attempts pass the last failure on', async () => {
      const a = id();
      const r = await h2(`/r3?id=${a}&code=500&fail=2`);
      assert.deepEqual(r, { status: 200, body: 'ok on try 3' });
      const b = id();
      const last = await h2(`/r3?id=${b}&code=500&fail=10`);
      assert.deepEqual(last, { status: 500, body: 'failed try 4' });
      assert.equal(tries.get(b), 4);
    });

    test('backoff applies; a request with a body is not retried', async () => {
      const a = id();
      const t0 = Date.now();
      assert.equal((await h2(`/r2b?id=${a}&code=503&fail=2`)).status, 200);
      assert.ok(Date.now() - t0 >= 95, `two backoffs of 50 ms (took ${Date.now() - t0} ms)`);
      const b = id();
      assert.equal((await h2(`/r3?id=${b}&code=500&fail=1`, 'POST', 'payload')).status, 500);
      assert.equal(tries.get(b), 1);
    });

    test('a connection closed before any answer is retried, then answered 503', async () => {
      slams = 0;
      assert.equal((await h2('/dead')).status, 503);
      assert.equal(slams, 3);
    });

    test('backendRequest bounds each try; the last slow try is a 504', async () => {
      const a = id();
      assert.deepEqual(await h2(`/per-try?id=${a}&code=500&fail=2&delay=400`), { status: 200, body: 'ok on try 3' });
      const b = id();
      assert.equal((await h2(`/per-try?id=${b}&code=500&fail=5&delay=400`)).status, 504);
      assert.equal(tries.get(b), 3);
    });
  });

  test('the client connection stays usable after retried requests', async () => {
    const { id, res } = get('/r3', 500, 1);
    assert.equal((await res).status, 200);
    assert.equal(tries.get(id), 2);
    const again = get('/r3', 500, 0);
    assert.equal((await again.res).status, 200);
  });
});
