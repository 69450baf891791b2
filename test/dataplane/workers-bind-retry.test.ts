// A port another process holds, retried by every apply, must not kill the workers (node:cluster
// leaks the refused handle, and the next listen() on it asserts: src/dataplane/cluster-bind.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import nodeCluster from 'node:cluster';
import { createEngine } from '../../src/dataplane/engine.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from './helpers.js';

test('two workers retry a taken port on every apply, keep serving the others, and bind it once it is free', async () => {
  const a = await echoBackend('a');
  const serving = await freePort();
  const blocked = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(blocked, '127.0.0.1', r));
  const engine = createEngine({ workers: 2 });
  const exits: number[] = [];
  const onExit = (w: { process: { pid?: number } }) => exits.push(w.process.pid ?? -1);
  nodeCluster.on('exit', onExit);
  const ir = {
    ports: [httpPort(serving, [listener('l', [route({}, [to('a')])])]), httpPort(blocked, [listener('m', [route({}, [to('a')])])])],
    clusters: { a: cluster('a', [a.port]) },
  };
  try {
    for (let i = 0; i < 4; i++) {
      const r = await engine.apply(ir);
      assert.deepEqual(r.unbound, [{ port: `127.0.0.1:${blocked}/HTTP`, error: 'EADDRINUSE' }], `apply ${i}`);
      for (let k = 0; k < 6; k++) assert.equal(json(await request(serving, '/', { agent: false })).backend, 'a');
    }
    assert.deepEqual(exits, [], 'no worker died');
    await new Promise<void>((r) => blocker.close(() => r()));
    const r = await engine.apply(ir);
    assert.deepEqual(r.unbound, []);
    for (let k = 0; k < 6; k++) assert.equal(json(await request(blocked, '/', { agent: false })).backend, 'a');
    assert.deepEqual(exits, [], 'no worker died');
  } finally {
    nodeCluster.off('exit', onExit);
    blocker.close();
    await engine.close(500);
    await a.close();
  }
});
