// IR deltas to node:cluster workers (src/dataplane/ir-delta.ts): only changed ports and
// clusters travel, unchanged ones stay the same objects on the worker side, key material
// survives, a worker on another version asks for the whole state; and with real workers,
// applies that change only clusters drop no request, in flight or new.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { createEngine } from '../../src/dataplane/engine.js';
import { DeltaDecoder, DeltaEncoder } from '../../src/dataplane/ir-delta.js';
import { PortRouter } from '../../src/dataplane/router/tables.js';
import { RuntimeConfig } from '../../src/dataplane/config.js';
import { sealKey } from '../../src/ir/keys.js';
import type { IR } from '../../src/ir/types.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from './helpers.js';

function sample(port: number, aPort: number, bPort: number): IR {
  const https = httpPort(port + 1, [listener('tls', [route({}, [to('b')])])], 'HTTPS');
  https.listeners[0]!.tls = { certificates: [sealKey({ certPem: 'CERT', hostnames: [] } as never, 'PRIVATE KEY')] } as never;
  return {
    ports: [httpPort(port, [listener('l', [route({ path: { type: 'PathPrefix', value: '/a' } }, [to('a')]), route({}, [to('b')])])]), https],
    clusters: { a: cluster('a', [aPort]), b: cluster('b', [bPort]) },
  };
}

test('delta: the first message is everything; then only what changed; unchanged parts stay the same objects', () => {
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const ir1 = sample(1000, 1, 2);
  const first = enc.encode(ir1);
  assert.equal(first.changedPorts, 2);
  assert.equal(first.changedClusters, 2);
  const got1 = dec.apply(first.text);
  assert.ok(got1 !== 'resync');
  assert.deepEqual(got1, ir1);
  // Key material travels (sealed again on the way in), and stays out of enumeration.
  const cert = (got1.ports[1]!.listeners[0]!.tls as unknown as { certificates: { keyPem: string }[] }).certificates[0]!;
  assert.equal(cert.keyPem, 'PRIVATE KEY');
  assert.equal(Object.getOwnPropertyDescriptor(cert, 'keyPem')?.enumerable, false);

  // A fresh translation with equal content: nothing is sent, nothing is rebuilt.
  const same = enc.encode(sample(1000, 1, 2));
  assert.equal(same.changedPorts + same.changedClusters, 0);
  const got2 = dec.apply(same.text);
  assert.ok(got2 !== 'resync');
  assert.equal(got2.clusters.a, got1.clusters.a);
  assert.equal(got2.ports[0], got1.ports[0]);

  // One cluster's endpoints move: that cluster alone travels.
  const ir3 = { ...ir1, clusters: { ...ir1.clusters, a: cluster('a', [7]) } };
  const third = enc.encode(ir3);
  assert.equal(third.changedPorts, 0);
  assert.equal(third.changedClusters, 1);
  assert.ok(third.text.length < first.text.length / 2);
  const got3 = dec.apply(third.text);
  assert.ok(got3 !== 'resync');
  assert.deepEqual(got3, { ports: got1.ports, clusters: { a: cluster('a', [7]), b: got1.clusters.b } });
  assert.equal(got3.clusters.b, got1.clusters.b);
  assert.equal(got3.ports[1], got1.ports[1]);

  // A cluster and a port removed, order of names kept as the IR has it.
  const ir4: IR = { ports: [ir3.ports[0]!], clusters: { b: ir3.clusters.b! } };
  const got4 = dec.apply(enc.encode(ir4).text);
  assert.ok(got4 !== 'resync');
  assert.deepEqual(got4, ir4);
});

test('delta: a worker on another version answers resync, and the whole state brings it up to date', () => {
  const enc = new DeltaEncoder();
  assert.equal(enc.full(), undefined);
  const old = new DeltaDecoder();
  assert.ok(old.apply(enc.encode(sample(2000, 1, 2)).text) !== 'resync');
  const ir2 = sample(2000, 3, 4);
  const delta = enc.encode(ir2).text;
  const fresh = new DeltaDecoder();
  assert.equal(fresh.apply(delta), 'resync');
  const full = fresh.apply(enc.full()!);
  assert.ok(full !== 'resync');
  assert.deepEqual(full, ir2);
  // The one that held the previous version takes the delta itself.
  assert.deepEqual(old.apply(delta), ir2);
  // A new cluster object around the same endpoints array is known unchanged without encoding.
  const copy = enc.encode({ ports: ir2.ports, clusters: { a: { ...ir2.clusters.a! }, b: ir2.clusters.b! } });
  assert.equal(copy.changedPorts + copy.changedClusters, 0);
  assert.deepEqual(old.apply(copy.text), ir2);
  // Skipping a version is a resync too.
  enc.encode(sample(2000, 5, 6));
  assert.equal(old.apply(enc.encode(sample(2000, 7, 8)).text), 'resync');
});

test('delta: one route of many changes: only its entry travels, the others stay the same objects and keep their compiled router parts', () => {
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const routes = (extra: number[]) =>
    [...Array.from({ length: 200 }, (_, i) => i), ...extra].map((i) => route({ path: { type: 'PathPrefix', value: `/r${i}` } }, [to('a')]));
  // The same entries on two listeners (a route attached to both): one text each, referred to twice.
  const ir = (extra: number[]): IR => {
    const rs = routes(extra);
    return { ports: [httpPort(3000, [listener('l', rs)]), httpPort(3001, [listener('m', rs)])], clusters: { a: cluster('a', [1]) } };
  };
  const first = enc.encode(ir([]));
  const got1 = dec.apply(first.text);
  assert.ok(got1 !== 'resync');
  assert.deepEqual(got1, ir([]));
  assert.equal(got1.ports[0]!.listeners[0]!.virtualHosts![0]!.routes[5], got1.ports[1]!.listeners[0]!.virtualHosts![0]!.routes[5]);
  const second = enc.encode(ir([999]));
  assert.equal(second.changedPorts, 2);
  // One new entry's text, and ids for the rest: a small fraction of the first message.
  assert.equal(second.text.split('/r999').length - 1, 1);
  assert.ok(second.text.length < first.text.length / 3, `${second.text.length} vs ${first.text.length}`);
  const got2 = dec.apply(second.text);
  assert.ok(got2 !== 'resync');
  assert.deepEqual(got2, ir([999]));
  const before = got1.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  const after = got2.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  for (let i = 0; i < 200; i++) assert.equal(after[i], before[i]);
  // A router built from the new port keeps the previous one's compiled virtual host only when its entries are the very same.
  const r1 = new PortRouter(got1.ports[0]!);
  const r2 = new PortRouter(got2.ports[0]!, null, r1);
  assert.notEqual(r2.listenerFor('x')!.vhosts.lookup('x'), r1.listenerFor('x')!.vhosts.lookup('x'));
  const r3 = new PortRouter({ ...got2.ports[0]! }, null, r2);
  assert.equal(r3.listenerFor('x')!.vhosts.lookup('x'), r2.listenerFor('x')!.vhosts.lookup('x'));
  const req = (path: string) => ({ method: 'GET', path, query: '', headers: [] });
  assert.equal(r3.route('x', req('/r999/a'))?.match.path?.value, '/r999');
  assert.equal(r3.route('x', req('/r7'))?.match.path?.value, '/r7');
  // Two listeners (here on two ports) serving the very same entries share one compiled matcher.
  const cfg = new RuntimeConfig(got2);
  const vh = (name: string) => cfg.routers.get(name)!.listenerFor('x')!.vhosts.lookup('x')!;
  assert.equal(vh(got2.ports[0]!.name).matcher, vh(got2.ports[1]!.name).matcher);
  // Removing entries: the worker forgets them, and a resync still rebuilds everything.
  const third = dec.apply(enc.encode(ir([])).text);
  assert.ok(third !== 'resync');
  assert.deepEqual(third, ir([]));
  const fresh = new DeltaDecoder();
  assert.deepEqual(fresh.apply(enc.full()!), ir([]));
});

test('two workers: cluster-only applies under load drop no request, and a slow request in flight finishes', async () => {
  let release: () => void = () => {};
  const slowGate = new Promise<void>((r) => (release = r));
  const a = await echoBackend('a', (req, res) => {
    if (req.url !== '/slow') return false;
    void slowGate.then(() => res.end('slow done'));
    return true;
  });
  const b = await echoBackend('b');
  const port = await freePort();
  const engine = createEngine({ workers: 2 });
  const ir = (i: number): IR => ({
    ports: [httpPort(port, [listener('l', [route({ path: { type: 'PathPrefix', value: '/slow' } }, [to('a')]), route({}, [to('svc')])])])],
    clusters: { a: cluster('a', [a.port]), svc: cluster('svc', [i % 2 ? b.port : a.port]) },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    await engine.apply(ir(0));
    const slow = request(port, '/slow', { agent: false });
    let stop = false;
    const failures: string[] = [];
    const seen = new Set<string>();
    const load = async () => {
      while (!stop) {
        try {
          const r = await request(port, '/x', { agent });
          if (r.status !== 200) failures.push(`status ${r.status}`);
          else seen.add(json(r).backend);
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    const loaders = Array.from({ length: 4 }, load);
    for (let i = 1; i <= 30; i++) {
      await engine.apply(ir(i));
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    const s = await slow;
    stop = true;
    await Promise.all(loaders);
    assert.equal(s.status, 200);
    assert.equal(s.body, 'slow done');
    assert.deepEqual(failures, []);
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    // The last apply (30: even) put svc on a; every worker has it.
    for (let i = 0; i < 10; i++) assert.equal(json(await request(port, '/x', { agent: false })).backend, 'a');
  } finally {
    agent.destroy();
    await engine.close(500);
    await a.close();
    await b.close();
  }
});

test('delta: the first message of an empty IR applies on a receiver that holds nothing (no resync)', () => {
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const empty: IR = { ports: [], clusters: {} };
  assert.deepEqual(dec.apply(enc.encode(empty).text), empty);
  const ir = sample(1000, 1, 2);
  assert.deepEqual(dec.apply(enc.encode(ir).text), ir);
});
