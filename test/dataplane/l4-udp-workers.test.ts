// UDP in a multi-process engine: one client's datagrams must stay one session (one upstream
// source port at the backend) even though several workers serve the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { freePort, udpAsk, udpClient, udpEcho } from '../fixtures/l4.js';

test('with numbered workers, a client session stays on one upstream socket', async () => {
  const echo = await udpEcho('u');
  const port = await freePort('udp');
  cluster.setupPrimary({ exec: new URL('../fixtures/udp-worker.ts', import.meta.url).pathname, execArgv: ['--import', 'tsx'] });
  const workers: Worker[] = [];
  const c = await udpClient();
  try {
    for (let i = 0; i < 2; i++) {
      const w = cluster.fork({ PORTICO_WORKER_INDEX: String(i), UDP_TEST_CONFIG: JSON.stringify({ port, backend: echo.port }) });
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('exit', (code) => reject(new Error(`worker ${i} exited ${code}`)));
      });
    }
    for (let i = 0; i < 30; i++) assert.equal(await udpAsk(c, port, `m${i}`), `u:m${i}`);
    assert.equal(echo.seen.length, 1, `backend saw source ports ${echo.seen.join(', ')}`);
  } finally {
    c.close();
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((r) => {
            if (w.isDead()) return r();
            w.once('exit', () => r());
            w.send('close');
            setTimeout(() => w.kill(), 3000).unref();
          }),
      ),
    );
    await echo.close();
  }
});
