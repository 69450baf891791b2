// Matchers derived from their predecessor (router/compiled.ts: slots inserted and retired in
// shared tables, issue 15) must match exactly like a matcher compiled from scratch from the same
// list, and like the reference linear scan; and a matcher that was derived from must keep
// answering as it did (it serves until the engine swaps configs, or for good on a listener whose
// routes did not change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPMatch, HTTPRouteEntry } from '../../src/ir/types.js';
import { CompiledMatcher } from '../../src/dataplane/router/compiled.js';
import { ReferenceMatcher } from '../../src/dataplane/router/reference.js';
import type { MatchRequest } from '../../src/dataplane/router/match.js';
import { rng } from './helpers.js';

let serial = 0;
function randomWorld(r: () => number) {
  const segs = ['a', 'b', 'ab', 'c', ''];
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const randPath = (): string => {
    let p = '';
    for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) p += '/' + pick(segs);
    return p;
  };
  const entry = (): HTTPRouteEntry => {
    const m: HTTPMatch = {};
    const k = r();
    if (k < 0.4) m.path = { type: 'PathPrefix', value: randPath() + (r() < 0.2 ? '/' : '') };
    else if (k < 0.7) m.path = { type: 'Exact', value: randPath() };
    else if (k < 0.85) m.path = { type: 'RegularExpression', value: '/' + pick(segs) + '.*' };
    if (r() < 0.3) m.method = pick(['GET', 'POST']);
    if (r() < 0.3) m.headers = [{ name: 'x-h', type: r() < 0.5 ? 'Exact' : 'RegularExpression', value: pick(['1', '2', '[12]']) }];
    if (r() < 0.2) m.queryParams = [{ name: 'q', type: 'Exact', value: pick(['1', '2']) }];
    return { source: { kind: r() < 0.1 ? 'GRPCRoute' : 'HTTPRoute', namespace: 'default', name: `r${serial++}`, rule: 0 }, match: m, filters: [], backends: [], ...(r() < 0.1 ? { grpc: true } : {}) };
  };
  const request = (): MatchRequest => ({
    method: pick(['GET', 'POST']),
    path: randPath() + (r() < 0.2 ? '/' : ''),
    query: r() < 0.3 ? 'q=' + pick(['1', '2']) : '',
    headers: r() < 0.5 ? ['x-h', pick(['1', '2', '3'])] : [],
  });
  /** One random change to a list, as the translator makes them: insertions, removals, moves (precedence), replacements. */
  const edit = (list: HTTPRouteEntry[]): HTTPRouteEntry[] => {
    const out = [...list];
    const at = () => Math.floor(r() * (out.length + 1));
    for (let n = 1 + Math.floor(r() * (r() < 0.8 ? 2 : 20)); n > 0; n--) {
      const k = r();
      if (k < 0.35 || out.length === 0) out.splice(at(), 0, entry());
      else if (k < 0.6) out.splice(Math.floor(r() * out.length), 1);
      else if (k < 0.8) {
        const [moved] = out.splice(Math.floor(r() * out.length), 1);
        out.splice(at(), 0, moved!);
      } else out[Math.floor(r() * out.length)] = entry();
    }
    return out;
  };
  return { entry, request, edit };
}

function expectSame(m: CompiledMatcher, routes: readonly HTTPRouteEntry[], requests: MatchRequest[], what: string): void {
  const fresh = new CompiledMatcher(routes);
  const ref = new ReferenceMatcher([...routes]);
  for (const q of requests) {
    const want = ref.match(q);
    assert.equal(m.find(q)?.entry, want < 0 ? undefined : routes[want], `${what}: ${JSON.stringify(q)}`);
    assert.equal(fresh.find(q)?.entry, m.find(q)?.entry, `${what} (fresh): ${JSON.stringify(q)}`);
  }
  assert.equal(m.grpc, routes.filter((e) => e.grpc).length, `${what}: grpc count`);
}

test('derived matchers match like ones compiled from scratch, over random sequences of changes', () => {
  let derivedCount = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const r = rng(seed);
    const w = randomWorld(r);
    const requests = Array.from({ length: 150 }, w.request);
    let routes = Array.from({ length: Math.floor(r() * 40) }, w.entry);
    let m = new CompiledMatcher(routes);
    // Earlier matchers and the lists they were built for: each must keep answering as it did.
    const earlier: [CompiledMatcher, HTTPRouteEntry[]][] = [];
    for (let step = 0; step < 25; step++) {
      const next = w.edit(routes);
      const d = new CompiledMatcher(next, m);
      if (d.derived) derivedCount++;
      expectSame(d, next, requests, `seed ${seed} step ${step}`);
      if (r() < 0.15) {
        // A fork: another list derived from the same predecessor (two listeners that shared a list diverge).
        const other = w.edit(routes);
        expectSame(new CompiledMatcher(other, m), other, requests, `seed ${seed} step ${step} fork`);
      }
      earlier.push([m, routes]);
      if (r() < 0.1) {
        // Derived again from an older matcher, not the newest of its tables.
        const [old, oldRoutes] = earlier[Math.floor(r() * earlier.length)]!;
        const other = w.edit(oldRoutes);
        expectSame(new CompiledMatcher(other, old), other, requests, `seed ${seed} step ${step} from older`);
      }
      routes = next;
      m = d;
    }
    for (const [old, oldRoutes] of earlier) expectSame(old, oldRoutes, requests.slice(0, 40), `seed ${seed} earlier matcher`);
  }
  // Most steps are small edits: they must take the derived path, or this test checks nothing new.
  assert.ok(derivedCount > 120 * 25 * 0.6, `derived ${derivedCount}`);
});

test('a long run of changes on a large list: derived all along, retired slots compacted away, ranks never collide', () => {
  const r = rng(7);
  const w = randomWorld(r);
  const requests = Array.from({ length: 300 }, w.request);
  let routes = Array.from({ length: 2000 }, w.entry);
  let m = new CompiledMatcher(routes);
  let derived = 0;
  for (let step = 0; step < 600; step++) {
    // Insertions concentrated at one place exhaust the room between two ranks sooner or later.
    const next = [...routes];
    if (step % 3 === 0) next.splice(1000, 0, w.entry());
    else if (step % 3 === 1) next.splice(Math.floor(r() * next.length), 1);
    else next.splice(Math.floor(r() * next.length), 0, w.entry());
    const d = new CompiledMatcher(next, m);
    if (d.derived) derived++;
    if (step % 50 === 0 || !d.derived) expectSame(d, next, requests, `step ${step}`);
    routes = next;
    m = d;
  }
  expectSame(m, routes, requests, 'end');
  assert.ok(derived > 500, `derived ${derived} of 600`);
});
