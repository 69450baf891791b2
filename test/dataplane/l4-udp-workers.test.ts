// UDP with worker processes: each binds a socket of its own with SO_REUSEPORT, and the kernel keeps
// a client's datagrams on one socket (it picks by addresses and ports), so one client's session is
// one upstream socket (one source port at the backend), while several clients spread
// (src/dataplane/l4/udp.ts). Sharing the primary's socket split a session over the workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import { cluster, clustersOf, freePort, l4Port, to, udpAsk, udpClient, udpEcho } from '../fixtures/l4.js';

test('two workers: a client session stays on one upstream socket, every client is answered', async () => {
  const echo = await udpEcho('u');
  const port = await freePort('udp');
  const engine = createEngine({ workers: 2 });
  const clients = await Promise.all(Array.from({ length: 8 }, () => udpClient()));
  try {
    const r = await engine.apply({ ports: [l4Port('UDP', port, [to('u')])], clusters: clustersOf(cluster('u', [echo.port], 'udp')) });
    assert.deepEqual(r.unbound, [], 'both workers bound the port');
    for (let i = 0; i < 30; i++) assert.equal(await udpAsk(clients[0]!, port, `m${i}`), `u:m${i}`);
    assert.equal(echo.seen.length, 1, `backend saw source ports ${echo.seen.join(', ')}`);
    for (const [k, c] of clients.entries()) for (let i = 0; i < 3; i++) assert.equal(await udpAsk(c, port, `c${k}-${i}`), `u:c${k}-${i}`);
    // One upstream socket per client, whichever worker holds its session.
    assert.equal(new Set(echo.seen).size, clients.length, `backend saw source ports ${echo.seen.join(', ')}`);
  } finally {
    for (const c of clients) c.close();
    await engine.close(200);
    await echo.close();
  }
});
