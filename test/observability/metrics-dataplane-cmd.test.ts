// `portico dataplane --health` serves /metrics: its engine's families, both workers summed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import type { SyncServer } from '../../src/sync/server.js';
import { start, type Running } from '../e2e/cli.js';
import { echoBackend, freePort, type Backend } from '../dataplane/helpers.js';
import { credentialsDir, gatewayIR, master, startServer } from '../sync/helpers.js';
import { parse, promtool, sum } from './metrics-helpers.js';

const A = 'team-a/gw';
let server: SyncServer, backend: Backend, dp: Running, listen: number, health: number;

before(async () => {
  let syncPort: number;
  ({ server, port: syncPort } = await startServer());
  backend = await echoBackend('one');
  listen = await freePort();
  health = await freePort();
  dp = start(['dataplane', `--controller=127.0.0.1:${syncPort}`, `--gateway=${A}`, `--credentials=${credentialsDir(deriveGatewayKey(master, A))}`, `--health=127.0.0.1:${health}`, '--workers=2', '--pod=dp-0']);
  await dp.waitFor(/health on .*\/metrics/);
  const deadline = Date.now() + 10_000;
  while (server.status(A).clients.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  server.publish(gatewayIR(A, listen, backend.port, 'v1'));
  await dp.waitFor(/applied version 1 /);
});
after(async () => {
  await dp?.stop('SIGKILL');
  await Promise.all([server?.close(), backend?.close()]);
});

test('portico dataplane: /metrics on the health listener, workers summed, promtool-clean', async () => {
  for (let i = 0; i < 12; i++) {
    const r = await fetch(`http://127.0.0.1:${listen}/x`, { headers: { connection: 'close' } });
    assert.equal(r.status, 200);
    await r.text();
  }
  const res = await fetch(`http://127.0.0.1:${health}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const S = parse(text);
  assert.equal(sum(S, 'portico_http_requests_total', { gateway_namespace: 'team-a', gateway_name: 'gw', code: '200' }), 12);
  assert.equal(sum(S, 'portico_dataplane_applies_total', { result: 'ok' }), 1);
  const p = promtool(text);
  if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
});
