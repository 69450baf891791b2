// apply() under load: atomic table swaps, sockets kept for unchanged ports, removed ports
// drained, in-flight requests finishing on the config they started with, bind failures
// rejected without disturbing what is serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { IR } from '../../src/ir/types.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from './helpers.js';

test('zero failed requests while the config changes 100 times under load', async () => {
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  const port = await freePort();
  const extra = await freePort();
  const engine = createEngine({});
  const ir = (i: number): IR => ({
    ports: [
      httpPort(port, [listener('main', [
        route({ path: { type: 'PathPrefix', value: '/v' + (i % 7) } }, [to('b')]),
        route({ path: { type: 'PathPrefix', value: '/' } }, [to(i % 2 ? 'b' : 'a')]),
      ])]),
      // A second port that comes and goes every other apply.
      ...(i % 2 ? [httpPort(extra, [listener('extra', [route({}, [to('a')])])])] : []),
    ],
    clusters: { a: cluster('a', [a.port]), b: cluster('b', [b.port]) },
  });
  await engine.apply(ir(0));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const r = await request(port, '/load', { agent });
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else {
          ok++;
          seen.add(json(r).backend);
        }
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  // A keep-alive connection opened before the applies must survive them (same socket).
  const kept = net.connect(port, '127.0.0.1');
  let keptOut = '';
  kept.on('data', (d) => (keptOut += d));
  await new Promise((r) => kept.once('connect', r));
  kept.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 1; i <= 100; i++) {
    await engine.apply(ir(i));
    await new Promise((r) => setTimeout(r, 5));
  }
  kept.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  assert.equal(kept.destroyed, false);
  kept.destroy();
  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `only ${ok} requests completed`);
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  assert.equal((keptOut.match(/HTTP\/1\.1 200/g) ?? []).length, 2);
  // ir(100) has no extra port: it was removed and no longer accepts.
  await new Promise((r) => setTimeout(r, 100));
  await assert.rejects(request(extra, '/', { agent: false }));
  await engine.close(100);
  await a.close();
  await b.close();
});

test('in-flight requests finish on the tables they started with', async () => {
  const slow = await echoBackend('slow', (_req, res) => {
    setTimeout(() => res.end('slow done'), 300);
    return true;
  });
  const port = await freePort();
  const engine = createEngine({});
  await engine.apply({ ports: [httpPort(port, [listener('l', [route({ path: { type: 'PathPrefix', value: '/slow' } }, [to('slow')])])])], clusters: { slow: cluster('slow', [slow.port]) } });
  const inflight = request(port, '/slow', { agent: false });
  await new Promise((r) => setTimeout(r, 50));
  await engine.apply({ ports: [httpPort(port, [listener('l', [])])], clusters: {} });
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'slow done');
  assert.equal((await request(port, '/slow', { agent: false })).status, 404);
  await engine.close(100);
  await slow.close();
});

test('a port that cannot bind is left out and named; the rest of the config applies; a later apply binds it', async () => {
  const a = await echoBackend('a');
  const port = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  const engine = createEngine({});
  try {
    await engine.apply({ ports: [httpPort(port, [listener('l', [])])], clusters: {} });
    assert.equal((await request(port, '/', { agent: false })).status, 404);
    const next = { ports: [httpPort(port, [listener('l', [route({}, [to('a')])])]), httpPort(taken, [listener('l', [route({}, [to('a')])])])], clusters: { a: cluster('a', [a.port]) } };
    const r = await engine.apply(next);
    assert.deepEqual(r.unbound, [{ port: `127.0.0.1:${taken}/HTTP`, error: 'EADDRINUSE' }]);
    assert.equal((await request(port, '/', { agent: false })).status, 200, 'the rest of the new config serves');
    await new Promise((r) => blocker.close(r));
    assert.deepEqual((await engine.apply(next)).unbound, []);
    assert.equal((await request(taken, '/', { agent: false })).status, 200, 'bound once the other process let go');
  } finally {
    await engine.close(100);
    blocker.close();
    await a.close();
  }
});

test('close() drains: an in-flight request completes, then the port is gone', async () => {
  const slow = await echoBackend('slow', (_req, res) => {
    setTimeout(() => res.end('done'), 200);
    return true;
  });
  const port = await freePort();
  const engine = createEngine({});
  await engine.apply({ ports: [httpPort(port, [listener('l', [route({}, [to('s')])])])], clusters: { s: cluster('s', [slow.port]) } });
  const inflight = request(port, '/', { agent: false });
  await new Promise((r) => setTimeout(r, 50));
  await engine.close(2000);
  assert.equal((await inflight).body, 'done');
  await assert.rejects(request(port, '/', { agent: false }));
  await slow.close();
});
