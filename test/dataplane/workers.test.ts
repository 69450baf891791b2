// workers: N > 1 runs node:cluster workers sharing the listening socket; apply() reaches all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import { cluster, cluster as cluster_, echoBackend, freePort, httpPort, json, listener, request, route, to } from './helpers.js';

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
    // A port another process holds: named once, not once per worker.
    const r = await engine.apply({ ports: [httpPort(blocked, [listener('l', [])])], clusters: {} });
    assert.deepEqual(r.unbound, [{ port: `127.0.0.1:${blocked}/HTTP`, error: 'EADDRINUSE' }]);
    blocker.close();
  } finally {
    await engine.close(500);
    await a.close();
    await b.close();
  }
});

test('a worker that dies is replaced and serves the last applied config', async () => {
  const a = await echoBackend('a');
  const port = await freePort();
  const cluster = (await import('node:cluster')).default;
  const engine = createEngine({ workers: 2 });
  try {
    await engine.apply({ ports: [httpPort(port, [listener('l', [route({}, [to('a')])])])], clusters: { a: cluster_('a', [a.port]) } });
    const originals = Object.values(cluster.workers ?? {});
    const victim = originals[0]!;
    const gone = new Promise((r) => victim.once('exit', r));
    // The replacement listens only once it has applied the last config: wait for that, not a fixed time.
    const replacementListening = new Promise<void>((resolve) => {
      const onListening = (w: (typeof originals)[number]) => {
        if (originals.includes(w)) return;
        cluster.off('listening', onListening);
        resolve();
      };
      cluster.on('listening', onListening);
    });
    victim.process.kill('SIGKILL');
    await gone;
    await replacementListening;
    // Now kill the other original worker too: only the replacement can answer.
    const other = originals[1]!;
    const gone2 = new Promise((r) => other.once('exit', r));
    other.process.kill('SIGKILL');
    await gone2;
    for (let i = 0; i < 20; i++) assert.equal(json(await request(port, '/', { agent: false })).backend, 'a');
  } finally {
    await engine.close(500);
    await a.close();
  }
});
