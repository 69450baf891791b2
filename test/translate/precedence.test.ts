import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPMatch, HTTPRouteEntry } from '../../src/ir/types.js';
import { compareHTTP, type RankedEntry } from '../../src/translate/precedence.js';

function e(id: string, match: HTTPMatch, routeOrder = 0, rule = 0, m = 0, grpc?: RankedEntry['grpc']): RankedEntry {
  const entry: HTTPRouteEntry = {
    source: { kind: grpc ? 'GRPCRoute' : 'HTTPRoute', namespace: 'ns', name: id, rule, match: m },
    match,
    filters: [],
    backends: [],
  };
  return { entry, routeOrder, ...(grpc ? { grpc } : {}) };
}
const order = (xs: RankedEntry[]): string[] => [...xs].sort(compareHTTP).map((x) => x.entry.source.name);

test('HTTP: Exact path beats the longest prefix; longer prefix beats shorter', () => {
  assert.deepEqual(
    order([
      e('root', { path: { type: 'PathPrefix', value: '/' } }),
      e('long', { path: { type: 'PathPrefix', value: '/foo/bar' } }),
      e('exact', { path: { type: 'Exact', value: '/f' } }),
      e('short', { path: { type: 'PathPrefix', value: '/foo' } }),
    ]),
    ['exact', 'long', 'short', 'root'],
  );
});

test('HTTP: then method, then most headers, then most query params', () => {
  const p = { type: 'PathPrefix' as const, value: '/x' };
  assert.deepEqual(
    order([
      e('plain', { path: p }),
      e('q2', { path: p, queryParams: [{ name: 'a', type: 'Exact', value: '1' }, { name: 'b', type: 'Exact', value: '1' }] }),
      e('h1', { path: p, headers: [{ name: 'a', type: 'Exact', value: '1' }] }),
      e('h1q1', { path: p, headers: [{ name: 'a', type: 'Exact', value: '1' }], queryParams: [{ name: 'a', type: 'Exact', value: '1' }] }),
      e('method', { path: p, method: 'GET' }),
    ]),
    ['method', 'h1q1', 'h1', 'q2', 'plain'],
  );
});

test('HTTP: a longer prefix beats a method match (path comes first)', () => {
  assert.deepEqual(
    order([e('method', { path: { type: 'PathPrefix', value: '/a' }, method: 'GET' }), e('longer', { path: { type: 'PathPrefix', value: '/ab' } })]),
    ['longer', 'method'],
  );
});

test('HTTP ties: route age order, then rule index, then match index', () => {
  const p = { path: { type: 'PathPrefix' as const, value: '/' } };
  assert.deepEqual(
    order([e('young', p, 2), e('old-r1', p, 1, 1), e('old-r0m1', p, 1, 0, 1), e('old-r0m0', p, 1, 0, 0)]),
    ['old-r0m0', 'old-r0m1', 'old-r1', 'young'],
  );
});

test('GRPC: longer service, then longer method, then more headers, then age', () => {
  const h = [{ name: 'x', type: 'Exact' as const, value: '1' }];
  assert.deepEqual(
    order([
      e('svc-only', {}, 0, 0, 0, { service: 7, method: 0 }),
      e('svc-method', {}, 0, 1, 0, { service: 7, method: 3 }),
      e('svc-method-h-young', { headers: h }, 5, 0, 0, { service: 7, method: 3 }),
      e('svc-method-h-old', { headers: h }, 1, 0, 0, { service: 7, method: 3 }),
      e('long-svc', {}, 9, 0, 0, { service: 11, method: 0 }),
      e('any', {}, 0, 2, 0, { service: 0, method: 0 }),
    ]),
    ['long-svc', 'svc-method-h-old', 'svc-method-h-young', 'svc-method', 'svc-only', 'any'],
  );
});

test('compareHTTP is a consistent total order on random entries (antisymmetric, transitive via sort stability)', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const types = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
  const xs: RankedEntry[] = [];
  for (let i = 0; i < 300; i++) {
    const m: HTTPMatch = { path: { type: types[rnd(3)]!, value: '/'.padEnd(1 + rnd(4), 'a') } };
    if (rnd(2)) m.method = 'GET';
    if (rnd(2)) m.headers = Array.from({ length: rnd(3) }, (_, k) => ({ name: `h${k}`, type: 'Exact' as const, value: 'v' }));
    xs.push(e(`r${i}`, m, rnd(5), rnd(3), rnd(2)));
  }
  for (const a of xs.slice(0, 60))
    for (const b of xs.slice(0, 60)) assert.equal(Math.sign(compareHTTP(a, b)), -Math.sign(compareHTTP(b, a)) || 0);
  const once = [...xs].sort(compareHTTP);
  const again = [...xs].reverse().sort(compareHTTP);
  assert.deepEqual(
    once.map((x) => x.entry.match),
    again.map((x) => x.entry.match),
  );
});
