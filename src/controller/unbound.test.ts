// A port another process holds: the real engine leaves it out and says so, the translator is
// asked again with it, and the result both serves and reports everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { Resource } from '../api/types.js';
import { createEngine } from '../dataplane/engine.js';
import { Snapshot } from '../store/snapshot.js';
import { translate } from '../translate/index.js';
import type { TranslateOptions } from '../translate/types.js';
import { applyTranslation } from './unbound.js';

/** Another process's server on a port; close() also drops its connections. */
const listen = (port = 0): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const conns = new Set<net.Socket>();
    const s = net.createServer((c) => {
      conns.add(c);
      c.on('close', () => conns.delete(c));
      c.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
    s.once('error', reject);
    const close = s.close.bind(s);
    s.close = (cb?: (err?: Error) => void) => {
      conns.forEach((c) => c.destroy());
      return close(cb);
    };
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

function manifests(busyPort: number, freePort: number): Resource[] {
  const gw = (name: string, port: number): Resource => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: 'default' },
    spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port, protocol: 'HTTP' }] },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    gw('busy', busyPort),
    gw('free', freePort),
  ];
}

/** Another process on one port, a free second port, and a Gateway on each. */
async function setup(): Promise<{ blocker: net.Server; busyPort: number; freePort: number; snapshot: Snapshot }> {
  const blocker = await listen();
  const busyPort = portOf(blocker);
  const probe = await listen();
  const freePort = portOf(probe);
  await new Promise((r) => probe.close(r));
  return { blocker, busyPort, freePort, snapshot: new Snapshot(manifests(busyPort, freePort).map((resource) => ({ resource }))) };
}
const options: TranslateOptions = { addressFor: () => '127.0.0.1' };

test('a port another process holds is reported PortUnavailable; the rest serves, and binds once the port is free', { timeout: 20_000 }, async () => {
  const { blocker, busyPort, freePort, snapshot } = await setup();
  const engine = createEngine({});
  try {
    const first = translate(snapshot, options);
    assert.equal(first.ir.ports.length, 2);
    const { result, unbound } = await applyTranslation(engine, translate, snapshot, options, first);
    assert.deepEqual(unbound, [{ port: `127.0.0.1:${busyPort}/HTTP`, error: 'EADDRINUSE' }]);
    assert.deepEqual(result.ir.ports.map((p) => p.port), [freePort], 'the IR served and reported leaves the busy port out');
    const status = (name: string) => result.statuses.find((s) => s.kind === 'Gateway' && s.name === name)!.status as {
      conditions: { type: string; status: string; reason: string }[];
      listeners: { conditions: { type: string; status: string; reason: string; message: string }[] }[];
    };
    const busy = status('busy');
    const accepted = busy.listeners[0]!.conditions.find((c) => c.type === 'Accepted')!;
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'PortUnavailable');
    assert.match(accepted.message, new RegExp(`127\\.0\\.0\\.1:${busyPort}: EADDRINUSE`));
    assert.equal(busy.conditions.find((c) => c.type === 'Programmed')!.status, 'False');
    assert.equal(status('free').conditions.find((c) => c.type === 'Programmed')!.status, 'True');
    // The free port serves (404: no routes), the busy one is still the other process's.
    assert.equal((await fetch(`http://127.0.0.1:${freePort}/`)).status, 404);
    assert.equal(await (await fetch(`http://127.0.0.1:${busyPort}/`)).text(), 'ok');

    // The other process lets go: the next apply binds it.
    await new Promise((r) => blocker.close(r));
    const again = await applyTranslation(engine, translate, snapshot, options, translate(snapshot, options));
    assert.deepEqual(again.unbound, []);
    assert.equal(again.result.ir.ports.length, 2);
    assert.equal((await fetch(`http://127.0.0.1:${busyPort}/`)).status, 404);
  } finally {
    blocker.close();
    await engine.close(0);
  }
});

test('with workers, every worker leaves the busy port out and the result names it once', { timeout: 30_000 }, async () => {
  const { blocker, busyPort, freePort, snapshot } = await setup();
  const engine = createEngine({ workers: 2 });
  try {
    const { result, unbound } = await applyTranslation(engine, translate, snapshot, options, translate(snapshot, options));
    assert.deepEqual(unbound.map((u) => u.port), [`127.0.0.1:${busyPort}/HTTP`]);
    assert.equal(result.ir.ports.length, 1);
    assert.equal((await fetch(`http://127.0.0.1:${freePort}/`)).status, 404);
  } finally {
    blocker.close();
    await engine.close(0);
  }
});
