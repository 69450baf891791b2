// XBackendTrafficPolicy retryConstraint: retries past the budget are not sent, the client gets a 503.
import { after, before, describe, test } from 'node:test';
import * as http2 from 'node:http2';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { RetryBudgetTracker } from '../../src/dataplane/upstream/retry-budget.js';
import { cluster, echoBackend, freePort, request, route, simpleIR, to, type Backend } from './helpers.js';

test('the budget: a share of the requests in the interval, or the minimum rate, whichever allows more', () => {
  const b = new RetryBudgetTracker({ percent: 20, intervalMs: 1000, minRetries: 1, minIntervalMs: 1000 });
  for (let i = 0; i < 10; i++) b.request(0);
  assert.equal(b.tryRetry(10), true); // 0 < 20% of 10
  assert.equal(b.tryRetry(20), true); // 1 < 2
  assert.equal(b.tryRetry(30), false); // 2 retries: the share is spent, and the minimum rate too
  // Half a window later the previous bucket still counts half.
  for (let i = 0; i < 10; i++) b.request(1500);
  assert.equal(b.tryRetry(1500), true); // retries 2*0.5 = 1 < 20% of (10*0.5 + 10) = 3
  // Two windows on, everything before is stale: only the minimum rate allows a retry.
  assert.equal(b.tryRetry(4000), true);
  assert.equal(b.tryRetry(4001), false);
});

describe('retry budget on the wire', () => {
  let flaky: Backend, engine: Engine, port: number;
  const tries = new Map<string, number>();
  before(async () => {
    // ?id=X&fail=N: the first N requests with id X get a 500, then 200.
    flaky = await echoBackend('flaky', (req, res) => {
      const u = new URL(req.url!, 'http://x');
      const id = u.searchParams.get('id')!;
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      res.writeHead(n <= Number(u.searchParams.get('fail')) ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(`try ${n}`);
      return true;
    });
    port = await freePort();
    engine = createEngine({});
    const retry = { codes: [500], attempts: 1, backoffMs: 0 };
    await engine.apply(simpleIR(port, [
      route({ path: { type: 'PathPrefix', value: '/min' } }, [to('min')], [], { retry }),
      route({ path: { type: 'PathPrefix', value: '/share' } }, [to('share')], [], { retry }),
    ], [
      // Only the minimum rate: two retries a minute.
      cluster('min', [flaky.port], { retryBudget: { percent: 0, intervalMs: 60_000, minRetries: 2, minIntervalMs: 60_000 } }),
      // Half of the requests, no minimum to speak of.
      cluster('share', [flaky.port], { retryBudget: { percent: 50, intervalMs: 60_000, minRetries: 0, minIntervalMs: 1000 } }),
    ]));
  });
  after(async () => {
    await engine.close();
    await flaky.close();
  });

  let seq = 0;
  const get = async (path: string, fail: number) => {
    const id = `b${++seq}`;
    const r = await request(port, `${path}?id=${id}&fail=${fail}`);
    return { ...r, tries: tries.get(id) };
  };

  test('retries within the budget are sent; the next one is not, and the client gets a 503', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await get('/min', 1);
      assert.equal(r.status, 200);
      assert.equal(r.tries, 2);
    }
    const refused = await get('/min', 1);
    assert.equal(refused.status, 503);
    assert.equal(refused.body, 'retry budget exhausted\n');
    assert.equal(refused.tries, 1, 'the retry was not sent');
    // A request that needs no retry is unaffected.
    assert.equal((await get('/min', 0)).status, 200);
  });

  test('percent: retries may be up to that share of the requests', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await get('/share', 0)).status, 200);
    // Requests 5..9 retry: allowed while retries < 50% of the requests so far (0<2.5, 1<3, 2<3.5, 3<4, 4<4.5).
    for (let i = 0; i < 5; i++) assert.equal((await get('/share', 1)).status, 200, `retry ${i}`);
    // Request 10: 5 retries is not under 50% of 10.
    const r = await get('/share', 1);
    assert.equal(r.status, 503);
    assert.equal(r.tries, 1);
  });

  test('over HTTP/2 the refused retry is a 503 too', async () => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const status = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = s.request({ ':path': path });
          let st = 0;
          req.on('response', (h) => (st = Number(h[':status'])));
          req.resume();
          req.on('end', () => resolve(st));
          req.on('error', reject);
        });
      // The /min budget is spent (previous test): the wanted retry is refused.
      assert.equal(await status(`/min?id=h2-${++seq}&fail=1`), 503);
    } finally {
      s.close();
    }
  });
});
