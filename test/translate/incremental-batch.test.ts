// Many routes in one change: a kubectl apply or Helm upgrade of many, a re-list after the API
// server was away. The splice places a batch's entries in each virtual host, and its routes'
// statuses in the status list, by one sort and merge, and filters its removals out of each list
// once (translate/ir.ts placeAdded, dropRemoved; translate/splice.ts) instead of once per route.
// Pinned here against the full translate(): batches far over the few placed one by one, with ties
// in precedence and in age, on shared and own hostnames, beside edits and deletions in the same batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../../src/api/types.js';
import { Snapshot, type Entry } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import { load } from './golden-input.js';

const base = load(join(dirname(fileURLToPath(import.meta.url)), 'testdata', '_base.yaml'));

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'batch', namespace: 'default' },
  spec: {
    gatewayClassName: 'portico',
    listeners: [
      { name: 'http', protocol: 'HTTP', port: 80 },
      { name: 'other', protocol: 'HTTP', port: 8080, hostname: '*.example.com' },
      { name: 'tcp', protocol: 'TCP', port: 9000 },
    ],
  },
} as unknown as Resource;

// The route list holds TCPRoutes (and TLSRoutes, UDPRoutes) after the HTTPRoutes: a batch's routes are merged in before them.
const tcpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1alpha2',
  kind: 'TCPRoute',
  metadata: { name: 'tail', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', uid: 'tail', generation: 1 },
  spec: { parentRefs: [{ name: 'batch', namespace: 'default', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'foo', port: 80 }] }] },
} as unknown as Resource;

const PATHS = ['/', '/a', '/ab', '/abc', '/b', '/shop', '/shop/cart', '/x/y/z'];
const TYPES = ['PathPrefix', 'Exact', 'RegularExpression'];
const TIMES = ['2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', '2024-01-02T00:00:00Z'];
const HOSTS = [undefined, undefined, ['a.example.com'], ['*.example.com'], ['b.example.com', 'a.example.com']];

function route(r: ReturnType<typeof rng>, name: string): Resource {
  const matches = Array.from({ length: 1 + r.int(3) }, () => {
    const type = r.pick(TYPES);
    const value = type === 'RegularExpression' ? `${r.pick(PATHS)}/[0-9]+` : r.pick(PATHS);
    return {
      path: { type, value },
      ...(r.int(4) === 0 ? { method: r.pick(['GET', 'POST']) } : {}),
      ...(r.int(4) === 0 ? { headers: [{ name: 'x-team', value: r.pick(['a', 'b']) }] } : {}),
    };
  });
  const hostnames = r.pick(HOSTS);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: r.pick(['default', 'default', 'apps']), creationTimestamp: r.pick(TIMES), uid: name, generation: 1 },
    spec: {
      parentRefs: [{ name: 'batch', namespace: 'default', ...(r.int(3) === 0 ? { sectionName: r.pick(['http', 'other']) } : {}) }],
      ...(hostnames ? { hostnames } : {}),
      rules: [{ matches, backendRefs: [{ name: r.pick(['foo', 'bar']), namespace: 'default', port: 80 }] }],
    },
  } as unknown as Resource;
}

const keyOf = (x: Resource) => `${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`;

test('a batch of many routes splices to what a full translate() gives, ties and all', () => {
  const options = { ...base.options, controllerName: 'portico.dev/gateway-controller' };
  let batches = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const r = rng(seed);
    const entries = new Map<string, Entry>();
    for (const e of base.entries) entries.set(keyOf(e.resource), e);
    entries.set(keyOf(gateway), { resource: gateway });
    entries.set(keyOf(tcpRoute), { resource: tcpRoute });
    // The apps namespace may attach: its routes are refused (NotAllowedByListeners) or need a grant for foo/bar.
    const inc = incrementalTranslate(translate);
    let previous: Snapshot | undefined;
    let n = 0;
    const names: string[] = [];
    for (let step = 0; step < 5; step++) {
      // A list's worth of new routes, and, after the first, some of the earlier ones edited or gone.
      const added = 20 + r.int(60);
      for (let i = 0; i < added; i++) {
        const x = route(r, `r-${String(n++).padStart(4, '0')}`);
        entries.set(keyOf(x), { resource: x });
        names.push(keyOf(x));
      }
      // Edits and deletions more than the few taken out one by one, in some steps.
      if (step > 0)
        for (let i = 0, edits = 5 + r.int(40); i < edits; i++) {
          const k = r.pick(names);
          if (!entries.has(k)) continue;
          if (r.int(2) === 0) entries.delete(k);
          else {
            const x = route(r, k.split('/')[2]!);
            x.metadata.namespace = entries.get(k)!.resource.metadata.namespace;
            entries.set(k, { resource: x });
          }
        }
      // The TCPRoute changes in some batches: the splice then translates the route list's tail again.
      if (r.int(3) === 0) {
        const tail = structuredClone(tcpRoute) as Resource & { spec: { rules: { backendRefs: { name: string }[] }[] } };
        tail.spec.rules[0]!.backendRefs[0]!.name = r.pick(['foo', 'bar']);
        entries.set(keyOf(tail), { resource: tail });
      }
      const snapshot = new Snapshot([...entries.values()], previous);
      previous = snapshot;
      const spliced = inc.stats.routesSpliced;
      const got = inc(snapshot, options);
      assert.deepStrictEqual(got, translate(snapshot, options), `seed ${seed}, step ${step}`);
      if (step > 0 && inc.stats.routesSpliced > spliced) batches++;
    }
  }
  // The batches went through the splice, not the full translate() every time.
  assert.ok(batches >= 20, `batches spliced: ${batches}`);
});

test('a batch of routes older than one already translated splices, however many fall between the same two', () => {
  // A watch-list hands routes over in name order: a newer route named early is translated first,
  // and each later batch goes between two neighbours, more routes than halving the gap could number.
  const options = { ...base.options, controllerName: 'portico.dev/gateway-controller' };
  const r = rng(42);
  const entries = new Map<string, Entry>();
  for (const e of base.entries) entries.set(keyOf(e.resource), e);
  entries.set(keyOf(gateway), { resource: gateway });
  const newest = route(r, 'a-newest');
  newest.metadata.creationTimestamp = '2030-01-01T00:00:00Z';
  newest.metadata.namespace = 'default';
  entries.set(keyOf(newest), { resource: newest });
  const inc = incrementalTranslate(translate);
  let previous: Snapshot | undefined;
  let n = 0;
  // Each batch spreads its 150 numbers over one gap: the ~52 bits of a double last about 7 batches, then the routes are numbered again.
  for (let step = 0; step < 10; step++) {
    for (let i = 0; i < 150; i++) {
      const x = route(r, `b-${String(n++).padStart(4, '0')}`);
      x.metadata.creationTimestamp = '2024-01-01T00:00:00Z';
      x.metadata.namespace = 'default';
      entries.set(keyOf(x), { resource: x });
    }
    const snapshot = new Snapshot([...entries.values()], previous);
    previous = snapshot;
    const got = inc(snapshot, options);
    assert.deepStrictEqual(got, translate(snapshot, options), `step ${step}`);
  }
  assert.equal(inc.stats.full, 1, 'only the first call translated in full');
  assert.equal(inc.stats.routesSpliced, 9);
});
