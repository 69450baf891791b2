// Route lists as edits (src/dataplane/route-lists.ts) and matchers derived by identity
// (router/compiled.ts), end to end: a random sequence of IR changes sent as deltas and applied on
// top of each other gives routers that choose exactly the route that routers compiled from scratch
// from the same IR choose, for many random requests; what crosses for one route of thousands is
// one hunk and one entry; and with real workers, a route added, removed or moved by a delta serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaDecoder, DeltaEncoder } from '../../src/dataplane/ir-delta.js';
import { RuntimeConfig } from '../../src/dataplane/config.js';
import { createEngine } from '../../src/dataplane/engine.js';
import type { HTTPMatch, HTTPRouteEntry, IR, Listener, Port, VirtualHost } from '../../src/ir/types.js';
import type { MatchRequest } from '../../src/dataplane/router/match.js';
import { alignDiff, applyEdits, diffLists, insertedOf, madeFrom } from '../../src/dataplane/router/list-diff.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, rng, route, to } from './helpers.js';


interface VHostSpec {
  hostname: string;
  routes: HTTPRouteEntry[];
  /** The IR's object for it while neither changes, as translate/ir.ts keeps it. */
  obj?: VirtualHost;
}
interface ListenerSpec {
  name: string;
  hostname?: string;
  port: number;
  vhosts: VHostSpec[];
  /** The IR's object for it while none of its virtual hosts changes, as translate/splice.ts keeps it. */
  obj?: Listener;
}

/** A translator's output over time: entry objects shared across listeners and versions, as translate/share.ts keeps them. */
function world(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const segs = ['a', 'b', 'c', 'ab'];
  const randPath = () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => '/' + pick(segs)).join('');
  let serial = 0;
  const entry = (): HTTPRouteEntry => {
    const m: HTTPMatch = {};
    const k = r();
    if (k < 0.5) m.path = { type: 'PathPrefix', value: randPath() };
    else if (k < 0.8) m.path = { type: 'Exact', value: randPath() };
    else if (k < 0.9) m.path = { type: 'RegularExpression', value: '/' + pick(segs) + '.*' };
    if (r() < 0.25) m.method = pick(['GET', 'POST']);
    if (r() < 0.2) m.headers = [{ name: 'x-h', type: 'Exact', value: pick(['1', '2']) }];
    return route(m, [to(pick(['c1', 'c2', 'c3']))], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${serial++}`, rule: 0 } });
  };
  const hostnames = [undefined, 'a.example', '*.example'];
  const listeners: ListenerSpec[] = [];
  const shared = Array.from({ length: 5 + Math.floor(r() * 30) }, entry);
  for (let i = 0; i < 2 + Math.floor(r() * 4); i++) {
    const hostname = pick(hostnames);
    // Most listeners carry the same routes (one route attached to several listeners), some their own.
    const vhosts: VHostSpec[] = [{ hostname: hostname ?? '*', routes: r() < 0.6 ? [...shared] : Array.from({ length: Math.floor(r() * 20) }, entry) }];
    if (r() < 0.3) vhosts.unshift({ hostname: 'x.a.example', routes: Array.from({ length: 1 + Math.floor(r() * 5) }, entry) });
    // A hostname per route (many virtual hosts on one listener): their edits travel as hunks (port-wire.ts).
    if (r() < 0.4) vhosts.unshift(...Array.from({ length: 3 + Math.floor(r() * 30) }, (_, k) => ({ hostname: `h${k}.example`, routes: [entry()] })));
    listeners.push({ name: `default/gw/l${i}`, ...(hostname ? { hostname } : {}), port: 10 + Math.floor(r() * 3), vhosts });
  }
  let endpoint = 1;
  const edit = (list: HTTPRouteEntry[]): HTTPRouteEntry[] => {
    const out = [...list];
    const k = r();
    if (k < 0.4 || out.length === 0) out.splice(Math.floor(r() * (out.length + 1)), 0, entry());
    else if (k < 0.65) out.splice(Math.floor(r() * out.length), 1);
    else if (k < 0.85) {
      const [moved] = out.splice(Math.floor(r() * out.length), 1);
      out.splice(Math.floor(r() * (out.length + 1)), 0, moved!);
    } else out[Math.floor(r() * out.length)] = entry();
    return out;
  };
  const step = (): string => {
    const k = r();
    if (k < 0.45) {
      // One route changes on every listener whose list it is in (edit the lists equal to the chosen one alike).
      const target = pick(listeners).vhosts.at(-1)!;
      const before = target.routes;
      const after = edit(before);
      for (const l of listeners) for (const v of l.vhosts) if (v.routes.length === before.length && v.routes.every((e, i) => e === before[i])) v.routes = [...after];
      return 'route on all its listeners';
    }
    if (k < 0.65) {
      const v = pick(pick(listeners).vhosts);
      v.routes = edit(v.routes);
      return 'route on one listener';
    }
    if (k < 0.75) {
      pick(listeners).port = 10 + Math.floor(r() * 3);
      return 'listener moved to another port';
    }
    if (k < 0.82) {
      const l = pick(listeners);
      if (l.vhosts.length > 1) l.vhosts.shift();
      else l.vhosts.unshift({ hostname: 'x.a.example', routes: Array.from({ length: 1 + Math.floor(r() * 5) }, entry) });
      return 'virtual host added or removed';
    }
    if (k < 0.86) {
      const many = listeners.filter((l) => l.vhosts.length > 3);
      if (many.length === 0) return 'no listener with many virtual hosts';
      const l = pick(many);
      const at = Math.floor(r() * l.vhosts.length);
      const taken = new Set(l.vhosts.map((v) => v.hostname));
      const free = Array.from({ length: 40 }, (_, n) => `h${n}.example`).filter((h) => !taken.has(h));
      if (r() < 0.5 && free.length > 0) l.vhosts.splice(at, 0, { hostname: pick(free), routes: [entry()] });
      else if (r() < 0.5) l.vhosts.splice(at, 1);
      else l.vhosts[at] = { ...l.vhosts[at]!, routes: edit(l.vhosts[at]!.routes), obj: undefined };
      return 'one of many virtual hosts added, removed or changed';
    }
    if (k < 0.9) {
      // A translation that shared nothing: every entry a new object with the same content.
      const copies = new Map<HTTPRouteEntry, HTTPRouteEntry>();
      const copy = (e: HTTPRouteEntry) => copies.get(e) ?? copies.set(e, structuredClone(e)).get(e)!;
      for (const l of listeners) for (const v of l.vhosts) v.routes = v.routes.map(copy);
      return 'all entries re-created';
    }
    endpoint++;
    return 'cluster endpoints';
  };
  const ir = (): IR => {
    const ports = new Map<number, Listener[]>();
    for (const l of listeners) {
      const vhs = l.vhosts.map((v) => (v.obj?.routes === v.routes ? v.obj : (v.obj = { hostname: v.hostname, routes: v.routes })));
      const kept = l.obj && l.obj.virtualHosts!.length === vhs.length && vhs.every((v, i) => v === l.obj!.virtualHosts![i]);
      const out: Listener = kept ? l.obj! : (l.obj = { name: l.name, ...(l.hostname ? { hostname: l.hostname } : {}), protocol: 'HTTP', virtualHosts: vhs });
      ports.set(l.port, [...(ports.get(l.port) ?? []), out]);
    }
    const portList: Port[] = [...ports].sort((a, b) => a[0] - b[0]).map(([p, ls]) => httpPort(p, ls));
    return { ports: portList, clusters: { c1: cluster('c1', [endpoint]), c2: cluster('c2', [2]), c3: cluster('c3', [3]) } };
  };
  const requests = (): [string, MatchRequest][] =>
    Array.from({ length: 60 }, () => [
      pick(['a.example', 'x.a.example', 'y.example', 'other.test', 'h0.example', 'h7.example', 'h21.example']),
      { method: pick(['GET', 'POST']), path: randPath() + (r() < 0.2 ? '/' : ''), query: '', headers: r() < 0.5 ? ['x-h', pick(['1', '2'])] : [] },
    ]);
  return { step, ir, requests };
}

/** Which route (by content) each router picks for each request, per port. */
function choices(cfg: RuntimeConfig, reqs: [string, MatchRequest][]): string[] {
  const out: string[] = [];
  for (const [name, router] of [...cfg.routers].sort((a, b) => a[0].localeCompare(b[0])))
    for (const [host, q] of reqs) {
      const e = router.route(host, q);
      out.push(`${name} ${host} ${q.method} ${q.path}: ${e ? JSON.stringify(e) : '-'}`);
    }
  return out;
}

test('random IR changes as deltas: the workers\' routers choose what routers compiled from scratch choose', () => {
  let edited = 0;
  let patched = 0;
  let vhEdits = 0;
  let movedListeners = 0;
  let keptMoved = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const w = world(seed);
    const enc = new DeltaEncoder();
    const dec = new DeltaDecoder();
    let cfg: RuntimeConfig | undefined;
    let local: RuntimeConfig | undefined;
    for (let i = 0; i < 40; i++) {
      const what = i === 0 ? 'first' : w.step();
      const ir = w.ir();
      const delta = enc.encode(ir);
      edited += delta.editedLists;
      patched += delta.patchedPorts;
      vhEdits += (delta.text.match(/"vh":\[/g) ?? []).length;
      movedListeners += (delta.text.match(/"m":"/g) ?? []).length;
      keptMoved += (delta.text.match(/\{"m":"[^"]*","k":\d+\}/g) ?? []).length;
      const got = dec.apply(JSON.parse(JSON.stringify({ d: delta.text })).d as string);
      assert.ok(got !== 'resync', `seed ${seed} step ${i} (${what})`);
      assert.deepEqual(got, ir, `seed ${seed} step ${i} (${what}): decoded IR`);
      cfg = new RuntimeConfig(got, cfg);
      // One process (LocalEngine) applies the translator's IR itself: its chain of configs must agree too.
      local = new RuntimeConfig(ir, local);
      const reqs = w.requests();
      const want = choices(new RuntimeConfig(ir), reqs);
      assert.deepEqual(choices(cfg, reqs), want, `seed ${seed} step ${i} (${what})`);
      assert.deepEqual(choices(local, reqs), want, `seed ${seed} step ${i} (${what}), one process`);
      if (i % 13 === 12) {
        // A replaced worker: the whole state, from nothing, serves the same.
        const fresh = new DeltaDecoder().apply(enc.full()!);
        assert.ok(fresh !== 'resync');
        assert.deepEqual(fresh, ir, `seed ${seed} step ${i}: whole state`);
      }
    }
  }
  assert.ok(edited > 200, `lists sent as edits: ${edited}`);
  assert.ok(patched > 1000, `ports sent as patches: ${patched}`);
  assert.ok(vhEdits > 500, `listeners sent as edits of their virtual hosts: ${vhEdits}`);
  assert.ok(movedListeners > 100, `listeners sent as references to another port's: ${movedListeners}`);
  assert.ok(keptMoved > 50, `of those, kept as they were: ${keptMoved}`);
});

test('one route added to 3,000 on three listeners: one short list edit and one entry cross, and the three listeners share one matcher', () => {
  const entries = Array.from({ length: 3000 }, (_, i) => route({ path: { type: 'PathPrefix', value: `/svc-${i}` } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${i}`, rule: 0 } }));
  const ir = (rs: HTTPRouteEntry[]): IR => ({ ports: [httpPort(1, [listener('h', [...rs])]), httpPort(2, [listener('s', [...rs])]), httpPort(3, [listener('m', [...rs])])], clusters: { a: cluster('a', [1]) } });
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const first = enc.encode(ir(entries));
  let cfg = new RuntimeConfig(dec.apply(first.text) as IR);
  const added = route({ path: { type: 'PathPrefix', value: '/svc-added' } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: 'added', rule: 0 } });
  const next = [...entries.slice(0, 1500), added, ...entries.slice(1500)];
  const second = enc.encode(ir(next));
  assert.equal(second.sentLists, 1);
  assert.equal(second.editedLists, 1);
  assert.ok(second.text.length < 1500, `${second.text.length} bytes: ${second.text}`);
  const got = dec.apply(second.text) as IR;
  cfg = new RuntimeConfig(got, cfg);
  const vh = (p: number) => cfg.routers.get(`127.0.0.1:${p}/HTTP`)!.listenerFor('x')!.vhosts.lookup('x')!;
  assert.equal(vh(1).routes, vh(2).routes, 'one array for the one list');
  assert.equal(vh(1).matcher, vh(3).matcher);
  assert.ok(vh(1).matcher.derived, 'derived from the previous matcher, not compiled afresh');
  assert.equal(cfg.routers.get('127.0.0.1:2/HTTP')!.route('x', { method: 'GET', path: '/svc-added/x', query: '', headers: [] })?.source.name, 'added');
  // The listener moves to port 4: its port's text names the list the others hold, nothing else.
  const moved = enc.encode({ ...ir(next), ports: [...ir(next).ports.slice(0, 2), httpPort(4, [listener('m', [...next])])] });
  assert.equal(moved.sentLists, 0);
  assert.ok(moved.text.length < 1000, `${moved.text.length} bytes`);
  const cfg2 = new RuntimeConfig(dec.apply(moved.text) as IR, cfg);
  assert.equal(cfg2.routers.get('127.0.0.1:4/HTTP')!.listenerFor('x')!.vhosts.lookup('x')!.matcher, vh(1).matcher);
});

test('one route added among 3,000 hostnames on three listeners: its virtual host crosses as one edit per listener, the others stay the same objects and keep what was compiled', () => {
  const mk = (i: number | string): VirtualHost => ({ hostname: `h${i}.example`, routes: [route({}, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${i}`, rule: 0 } })] });
  const vhosts = Array.from({ length: 3000 }, (_, i) => mk(i));
  const ir = (vs: VirtualHost[]): IR => ({
    ports: [1, 2, 3].map((p) => httpPort(p, [{ name: `default/gw/l${p}`, protocol: 'HTTP', virtualHosts: [...vs] }])),
    clusters: { a: cluster('a', [1]) },
  });
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const first = enc.encode(ir(vhosts));
  const got1 = dec.apply(first.text) as IR;
  const cfg1 = new RuntimeConfig(got1);
  const next = [...vhosts.slice(0, 1200), mk('added'), ...vhosts.slice(1200)];
  const second = enc.encode(ir(next));
  assert.equal(second.changedPorts, 3);
  assert.equal(second.patchedPorts, 3);
  assert.ok(second.text.length < 2000, `${second.text.length} bytes (the whole state was ${first.text.length})`);
  const got2 = dec.apply(second.text) as IR;
  assert.deepEqual(got2, ir(next));
  assert.equal(got2.ports[0]!.listeners[0]!.virtualHosts![1201], got1.ports[0]!.listeners[0]!.virtualHosts![1200], 'an unchanged virtual host is the object the worker held');
  const cfg2 = new RuntimeConfig(got2, cfg1);
  const vh = (cfg: RuntimeConfig, p: number, host: string) => cfg.routers.get(`127.0.0.1:${p}/HTTP`)!.listenerFor(host)!.vhosts.lookup(host)!;
  assert.equal(vh(cfg2, 2, 'h2999.example'), vh(cfg1, 2, 'h2999.example'));
  assert.equal(cfg2.routers.get('127.0.0.1:3/HTTP')!.route('hadded.example', { method: 'GET', path: '/', query: '', headers: [] })?.source.name, 'radded');
  // And removed again: the edit names no virtual host at all; a worker that starts now gets the same.
  const third = enc.encode(ir(vhosts));
  assert.ok(third.text.length < 1000, `${third.text.length} bytes`);
  const got3 = dec.apply(third.text) as IR;
  assert.deepEqual(got3, ir(vhosts));
  assert.equal(new RuntimeConfig(got3, cfg2).routers.get('127.0.0.1:1/HTTP')!.route('hadded.example', { method: 'GET', path: '/', query: '', headers: [] }), undefined);
  assert.deepEqual(new DeltaDecoder().apply(enc.full()!), ir(vhosts));
  // A Gateway change moves the third listener to port 4 (and a route is added there): it crosses as edits of the listener the worker holds on port 3.
  const movedIR: IR = { ...ir(vhosts), ports: [...ir(vhosts).ports.slice(0, 2), httpPort(4, [{ name: 'default/gw/l3', protocol: 'HTTP', virtualHosts: [...vhosts, mk('moved')] }])] };
  const moved = enc.encode(movedIR);
  assert.equal(moved.patchedPorts, 1);
  assert.ok(moved.text.length < 1000, `${moved.text.length} bytes: ${moved.text}`);
  const got4 = dec.apply(moved.text) as IR;
  assert.deepEqual(got4, movedIR);
  assert.equal(got4.ports[2]!.listeners[0]!.virtualHosts![7], got3.ports[2]!.listeners[0]!.virtualHosts![7], 'the virtual hosts the worker held');
  const cfg4 = new RuntimeConfig(got4, new RuntimeConfig(got3, cfg2));
  for (const [host, name] of [['h7.example', 'r7'], ['hmoved.example', 'rmoved']]) assert.equal(cfg4.routers.get('127.0.0.1:4/HTTP')!.route(host!, { method: 'GET', path: '/', query: '', headers: [] })?.source.name, name);
  assert.deepEqual(new DeltaDecoder().apply(enc.full()!), movedIR);
});

test('route churn: entries no list refers to are swept on both sides, and the whole state then holds only live ones', () => {
  const mk = (name: string) => route({ path: { type: 'PathPrefix', value: `/${name}` } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name, rule: 0 } });
  const base = Array.from({ length: 200 }, (_, i) => mk(`keep-${i}`));
  const ir = (rs: HTTPRouteEntry[]): IR => ({ ports: [httpPort(1, [listener('h', [...rs])]), httpPort(2, [listener('s', [...rs])])], clusters: { a: cluster('a', [1]) } });
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  let cfg = new RuntimeConfig(dec.apply(enc.encode(ir(base)).text) as IR);
  let dropped = 0;
  for (let cycle = 0; cycle < 8; cycle++) {
    const churn = Array.from({ length: 400 }, (_, i) => mk(`churn-${cycle}-${i}`));
    for (const rs of [[...base.slice(0, 100), ...churn, ...base.slice(100)], base]) {
      const d = enc.encode(ir(rs));
      dropped += d.droppedEntries;
      const got = dec.apply(d.text);
      assert.ok(got !== 'resync');
      assert.deepEqual(got, ir(rs));
      cfg = new RuntimeConfig(got, cfg);
      const q = (path: string) => cfg.routers.get('127.0.0.1:2/HTTP')!.route('x', { method: 'GET', path, query: '', headers: [] })?.source.name;
      assert.equal(q(`/churn-${cycle}-7`), rs === base ? undefined : `churn-${cycle}-7`);
      assert.equal(q('/keep-150/x'), 'keep-150');
    }
  }
  assert.ok(dropped >= 1600, `swept ${dropped} of 3,200 churned entries`);
  const full = enc.full()!;
  assert.ok(!full.includes('churn-0-'), 'a swept entry is not in the whole state');
  const fresh = new DeltaDecoder().apply(full);
  assert.deepEqual(fresh, ir(base));
});

test('in one process (no deltas): a listener moved to another port keeps its compiled virtual host, and one route added there derives its matcher', () => {
  const entries = Array.from({ length: 2000 }, (_, i) => route({ path: { type: 'PathPrefix', value: `/svc-${i}` } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${i}`, rule: 0 } }));
  // As the translator makes them: one array per listener, the same entry objects.
  const ir = (movedTo: number, rs: HTTPRouteEntry[]): IR => ({ ports: [httpPort(1, [listener('h', [...entries])]), httpPort(movedTo, [listener('m', [...rs])])], clusters: { a: cluster('a', [1]) } });
  const cfg1 = new RuntimeConfig(ir(2, entries));
  const vh = (cfg: RuntimeConfig, p: number) => cfg.routers.get(`127.0.0.1:${p}/HTTP`)!.listenerFor('x')!.vhosts.lookup('x')!;
  const cfg2 = new RuntimeConfig(ir(3, entries), cfg1);
  assert.equal(vh(cfg2, 3), vh(cfg1, 2));
  const added = route({ path: { type: 'PathPrefix', value: '/svc-added' } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: 'added', rule: 0 } });
  const cfg3 = new RuntimeConfig(ir(2, [added, ...entries]), cfg2);
  assert.ok(vh(cfg3, 2).matcher.derived);
  assert.equal(cfg3.routers.get('127.0.0.1:2/HTTP')!.route('x', { method: 'GET', path: '/svc-added', query: '', headers: [] })?.source.name, 'added');
  assert.equal(cfg3.routers.get('127.0.0.1:1/HTTP')!.route('x', { method: 'GET', path: '/svc-added', query: '', headers: [] }), undefined);
});

test('two workers: routes added, removed and reordered by deltas serve at once, on every worker', async () => {
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  const port = await freePort();
  const engine = createEngine({ workers: 2 });
  const many = Array.from({ length: 300 }, (_, i) => route({ path: { type: 'PathPrefix', value: `/svc-${i}` } }, [to('a')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${i}`, rule: 0 } }));
  const ir = (rs: HTTPRouteEntry[]): IR => ({ ports: [httpPort(port, [listener('l', rs)])], clusters: { a: cluster('a', [a.port]), b: cluster('b', [b.port]) } });
  // Each worker answers on its own connections: asking enough times with fresh connections reaches both.
  const all = async (path: string) => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await request(port, path, { agent: false });
      seen.add(res.status === 200 ? json(res).backend : String(res.status));
    }
    return [...seen].sort();
  };
  try {
    await engine.apply(ir(many));
    assert.deepEqual(await all('/svc-7/x'), ['a']);
    assert.deepEqual(await all('/new'), ['404']);
    // Added in the middle of the list.
    const specific = route({ path: { type: 'PathPrefix', value: '/new' } }, [to('b')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: 'new', rule: 0 } });
    let list = [...many.slice(0, 150), specific, ...many.slice(150)];
    await engine.apply(ir(list));
    assert.deepEqual(await all('/new/x'), ['b']);
    assert.deepEqual(await all('/svc-200'), ['a']);
    // Reordered: a route to b for /svc-7 placed after /svc-7's own route loses; moved before it, it wins.
    const shadow = route({ path: { type: 'PathPrefix', value: '/svc-7' } }, [to('b')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: 'shadow', rule: 0 } });
    list = [...list, shadow];
    await engine.apply(ir(list));
    assert.deepEqual(await all('/svc-7'), ['a']);
    list = [shadow, ...list.slice(0, -1)];
    await engine.apply(ir(list));
    assert.deepEqual(await all('/svc-7'), ['b']);
    // Removed.
    list = list.filter((e) => e !== specific && e !== shadow);
    await engine.apply(ir(list));
    assert.deepEqual(await all('/new/x'), ['404']);
    assert.deepEqual(await all('/svc-7'), ['a']);
    assert.deepEqual(await all('/svc-299/y'), ['a']);
  } finally {
    await engine.close(500);
    await a.close();
    await b.close();
  }
});

test('applyEdits takes 150,000 hunks: the kept runs are not spread into one call', () => {
  const n = 150_000;
  const base = Array.from({ length: n }, (_, i) => ({ i: 2 * i }));
  // One element inserted after each of the base's: a hunk per base element.
  const edits: number[] = [];
  for (let i = 1; i <= n; i++) edits.push(i, 0, 1, 2 * i - 1);
  const out = applyEdits(base, edits, (w: number) => ({ i: w }))!;
  const inserted = insertedOf(madeFrom(out)!.diff, out);
  assert.equal(out.length, 2 * n);
  assert.equal(inserted.length, n);
  assert.ok(out.every((x, k) => x.i === k));
});


test('a list applyEdits made is diffed against its base from the edits: a valid alignment, not a walk', () => {
  const random = rng(11);
  const pick = (n: number) => Math.floor(random() * n);
  for (let round = 0; round < 300; round++) {
    const base = Array.from({ length: 1 + pick(40) }, (_, i) => ({ i }));
    // Random hunks in ascending base positions; some insert base elements again (moves).
    const edits: (number | { i: number })[] = [];
    let at = pick(3);
    while (at <= base.length && edits.length < 30) {
      const remove = Math.min(pick(3), base.length - at);
      const count = pick(3);
      edits.push(at, remove, count);
      for (let j = 0; j < count; j++) edits.push(random() < 0.3 ? base[pick(base.length)]! : { i: -1 });
      at += remove + 1 + pick(4);
    }
    const next = applyEdits(base, edits, (w) => w)!;
    const d = diffLists(base, next)!;
    // Every kept position holds the base's element it names, in increasing order; the rest of `next` is rebuilt from `fresh`.
    let last = -1;
    d.oldOf.forEach((o, k) => {
      if (o < 0) return;
      assert.equal(next[d.pre + k], base[o], `round ${round}`);
      assert.ok(o > last);
      last = o;
    });
    assert.deepEqual(alignDiff(d, base, (n) => next[n]!), next, `round ${round}`);
    assert.equal(d.newEnd - d.oldEnd, next.length - base.length);
    // Any other pair of lists is still walked.
    const copy = next.slice();
    assert.deepEqual(alignDiff(diffLists(base, copy)!, base, (n) => copy[n]!), copy);
  }
});
