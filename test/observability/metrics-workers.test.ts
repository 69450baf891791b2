// Workers: the primary sums its workers' snapshots on each scrape; a worker that dies leaves its
// counters behind, so totals never go down when it is replaced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { metricsText } from '../../src/observability/metrics/endpoint.js';
import { cluster as mkCluster, echoBackend, freePort, route, simpleIR, to, type Backend } from '../dataplane/helpers.js';
import { parse, sum } from './metrics-helpers.js';

let engine: Engine, echo: Backend, port: number;
before(async () => {
  echo = await echoBackend('e');
  port = await freePort();
  engine = createEngine({ workers: 2 });
  await engine.apply(simpleIR(port, [route({ path: { type: 'PathPrefix', value: '/' } }, [to('default/e:80')])], [mkCluster('default/e:80', [echo.port])]));
});
after(async () => {
  await engine.close(100);
  await echo.close();
});

async function hit(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    assert.equal(r.status, 200);
    await r.text();
  }
}
const requests = async () => sum(parse(await metricsText([engine])), 'portico_http_requests_total', { code: '200' });

test('two workers: their counts are summed; a killed worker\'s counters are kept', async () => {
  await hit(30);
  assert.equal(await requests(), 30);
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
  assert.equal(workers.length, 2);
  const replaced = new Promise<void>((r) => cluster.once('online', () => r()));
  workers[0]!.process.kill('SIGKILL');
  await replaced;
  assert.equal(await requests(), 30, 'monotonic across the restart');
  // The replacement worker gets the config again; wait until it serves, then count on.
  await new Promise((r) => setTimeout(r, 300));
  await hit(10);
  assert.equal(await requests(), 40);
  const text = await metricsText([engine]);
  assert.equal(sum(parse(text), 'portico_http_request_duration_seconds_count'), 40);
});
