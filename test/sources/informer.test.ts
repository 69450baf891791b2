// The informer against a scripted API server on a real socket: a watch-list (the initial
// objects, then the bookmark that ends them), the plain list a server that refuses watch-lists
// gets, a watch the server ends (watched again from the last resourceVersion), and 410 Gone
// (listed again, and what vanished meanwhile deleted by the source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kind } from '../../src/api/names.js';
import { ApiClient } from '../../src/sources/api-client.js';
import { Informer, type Raw } from '../../src/sources/informer.js';
import { KubeConfig } from '../../src/sources/kubeconfig.js';
import { KubernetesSource } from '../../src/sources/kubernetes.js';

const route = (name: string, rv: number) => ({ metadata: { name, namespace: 'app', resourceVersion: String(rv) }, spec: { hostnames: [`${name}.example`] } });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const end = (rv: number) => line('BOOKMARK', { metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } } });

type Handler = (url: URL, res: http.ServerResponse) => void;

async function server(t: { after(fn: () => unknown): void }, handle: Handler): Promise<{ kc: KubeConfig; urls: string[] }> {
  const urls: string[] = [];
  const open = new Set<http.ServerResponse>();
  const s = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    urls.push(`${url.pathname}${url.search}`);
    open.add(res);
    res.on('close', () => open.delete(res));
    handle(url, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const r of open) r.destroy();
    return new Promise<void>((r) => s.close(() => r()));
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, urls };
}

function recorder() {
  const seen: string[] = [];
  let wake: (() => void) | undefined;
  const handlers = {
    transform: (o: Raw) => ({ ...o, seen: true }),
    listed: (items: Raw[]) => {
      seen.push(`listed ${items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}${i.seen ? '' : ' (raw)'}`).join(',')}`);
      wake?.();
    },
    event: (type: string, o: Raw) => {
      seen.push(`${type} ${o.metadata.name}@${o.metadata.resourceVersion}${o.seen ? '' : ' (raw)'}`);
      wake?.();
    },
    opened: () => {},
    error: (err: Error) => {
      seen.push(`error ${err.message}`);
      wake?.();
    },
  };
  const until = async (n: number) => {
    while (seen.length < n) await new Promise<void>((r) => (wake = r));
  };
  return { seen, handlers, until };
}

/** What an informer on `kc`'s server recorded, once it has recorded `n` things. */
async function informed(t: { after(fn: () => unknown): void }, kc: KubeConfig, n: number): Promise<string[]> {
  const r = recorder();
  const informer = new Informer(new ApiClient(kc), '/apis/g/v1/httproutes', 300, r.handlers);
  t.after(() => informer.stop());
  await informer.start();
  await r.until(n);
  return r.seen;
}

const resourceVersionOf = (u: string) => new URL(u, 'http://x').searchParams.get('resourceVersion');

test('a watch-list: the initial objects arrive as one list at the bookmark, then the same stream carries changes', async (t) => {
  const { kc, urls } = await server(t, (url, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('sendInitialEvents') === 'true') {
      res.write(line('ADDED', route('a', 5)) + line('ADDED', route('b', 6)));
      setTimeout(() => res.write(end(7) + line('MODIFIED', route('a', 8))), 20);
    } else res.end('{}');
  });
  assert.deepEqual(await informed(t, kc, 2), ['listed a@5,b@6', 'update a@8']);
  assert.equal(urls.length, 1, 'no separate list');
  assert.match(urls[0]!, /watch=true/);
  assert.match(urls[0]!, /resourceVersionMatch=NotOlderThan/);
});

test('a server that refuses the watch-list (422) gets a plain list, then a watch from its resourceVersion', async (t) => {
  const { kc, urls } = await server(t, (url, res) => {
    if (url.searchParams.get('sendInitialEvents')) {
      res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 422, message: 'sendInitialEvents is forbidden' }));
    } else if (url.searchParams.get('watch')) {
      res.writeHead(200).write(line('DELETED', route('b', 12)));
    } else res.writeHead(200).end(JSON.stringify({ metadata: { resourceVersion: '11' }, items: [route('a', 10), route('b', 9)] }));
  });
  assert.deepEqual(await informed(t, kc, 2), ['listed a@10,b@9', 'delete b@12']);
  assert.deepEqual(urls.map(resourceVersionOf), ['', null, '11']);
});

test('a watch the server ends is watched again from the last resourceVersion; 410 Gone lists again', async (t) => {
  let watches = 0;
  const { kc, urls } = await server(t, (url, res) => {
    res.writeHead(200);
    if (url.searchParams.get('sendInitialEvents')) {
      // second watch-list: b was deleted while no watch was open
      res.write(watches === 0 ? line('ADDED', route('a', 1)) + line('ADDED', route('b', 2)) + end(3) : line('ADDED', route('a', 20)) + end(21));
      if (watches++ === 0) setTimeout(() => res.end(line('MODIFIED', route('a', 4))), 50);
    } else if (url.searchParams.get('resourceVersion') === '4') {
      res.end(line('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' }));
    } else res.end('{}');
  });
  assert.deepEqual(await informed(t, kc, 3), ['listed a@1,b@2', 'update a@4', 'listed a@20']);
  assert.deepEqual(urls.map(resourceVersionOf), ['', '4', '']);
});

test('the source: a list after a gap deletes what vanished and skips what is unchanged', async (t) => {
  let lists = 0;
  const routeOf = (name: string, rv: number) => ({ ...route(name, rv), apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' });
  const { kc } = await server(t, (url, res) => {
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/apis/gateway.networking.k8s.io') return json({ versions: [{ version: 'v1' }] });
    if (url.pathname === '/apis/gateway.networking.k8s.io/v1') return json({ resources: [{ name: 'httproutes' }] });
    if (url.searchParams.get('sendInitialEvents')) {
      res.writeHead(200);
      if (lists++ === 0) {
        res.write(line('ADDED', routeOf('a', 1)) + line('ADDED', routeOf('b', 2)) + end(3));
        // the connection drops: an error, then a new watch-list after the backoff
        setTimeout(() => res.destroy(), 50);
      } else res.write(line('ADDED', routeOf('a', 1)) + line('ADDED', routeOf('c', 5)) + end(6));
      return;
    }
    json({});
  });
  const source = new KubernetesSource({ kubeConfig: kc, kinds: [Kind.HTTPRoute], backoffMinMs: 20, backoffMaxMs: 40 });
  const changes: string[] = [];
  source.onChange((c) => changes.push(`${c.type} ${c.resource.metadata.name}`));
  t.after(() => source.stop());
  await source.start();
  for (let i = 0; i < 100 && changes.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(changes, ['add a', 'add b', 'add c', 'delete b']);
  assert.deepEqual(source.list(Kind.HTTPRoute).map((r) => r.metadata.name).sort(), ['a', 'c']);
});
