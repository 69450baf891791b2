// workers: N > 1 runs node:cluster workers sharing the listening socket; apply() reaches all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from './helpers.js';

test('two workers serve the same port and both get every apply', async () => {
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  const port = await freePort();
  const engine = createEngine({ workers: 2 });
  try {
    await engine.apply({ ports: [httpPort(port, [listener('l', [route({}, [to('a')])])])], clusters: { a: cluster('a', [a.port]) } });
    for (let i = 0; i < 10; i++) assert.equal(json(await request(port, '/', { agent: false })).backend, 'a');
    await engine.apply({ ports: [httpPort(port, [listener('l', [route({}, [to('b')])])])], clusters: { b: cluster('b', [b.port]) } });
    // New connections land on either worker: every one must already have the new config.
    for (let i = 0; i < 20; i++) assert.equal(json(await request(port, '/', { agent: false })).backend, 'b');
    const blocked = await freePort();
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(blocked, '127.0.0.1', r));
    await assert.rejects(engine.apply({ ports: [httpPort(blocked, [listener('l', [])])], clusters: {} }), /cannot listen/);
    blocker.close();
  } finally {
    await engine.close(500);
    await a.close();
    await b.close();
  }
});
