// One suite, two matchers (hono style): the reference linear scan and the compiled tables
// must give the same answer on every hand-written case and on thousands of random ones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPMatch, HTTPRouteEntry, Port } from '../../src/ir/types.js';
import { ReferenceMatcher, type RouteMatcher } from '../../src/dataplane/router/reference.js';
import { CompiledMatcher } from '../../src/dataplane/router/compiled.js';
import { PortRouter } from '../../src/dataplane/router/tables.js';
import { normalizeHost } from '../../src/dataplane/router/host.js';
import type { MatchRequest } from '../../src/dataplane/router/match.js';
import { DEFAULT_PATH_OPTIONS, ESCAPED_SLASHES_ACTIONS, MERGE_SLASHES_ACTIONS, normalizePath, resolvePathOptions } from '../../src/dataplane/path.js';
import { rng } from './helpers.js';

const entry = (match: HTTPMatch): HTTPRouteEntry => ({
  source: { kind: 'HTTPRoute', namespace: 'default', name: 'r', rule: 0 },
  match,
  filters: [],
  backends: [],
});

function req(target: string, method = 'GET', headers: Record<string, string> = {}): MatchRequest {
  const q = target.indexOf('?');
  const flat: string[] = [];
  for (const [k, v] of Object.entries(headers)) flat.push(k.toLowerCase(), v);
  return { method, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers: flat };
}

const matchers: [string, (r: HTTPRouteEntry[]) => RouteMatcher][] = [
  ['reference', (r) => new ReferenceMatcher(r)],
  ['compiled', (r) => new CompiledMatcher(r)],
];

for (const [name, make] of matchers) {
  describe(`${name} matcher`, () => {
    test('exact path', () => {
      const m = make([entry({ path: { type: 'Exact', value: '/foo' } })]);
      assert.equal(m.match(req('/foo')), 0);
      assert.equal(m.match(req('/foo?x=1')), 0);
      assert.equal(m.match(req('/foo/')), -1);
      assert.equal(m.match(req('/fo')), -1);
    });
    test('prefix on segment boundaries, trailing slash ignored', () => {
      const m = make([entry({ path: { type: 'PathPrefix', value: '/foo' } }), entry({ path: { type: 'PathPrefix', value: '/bar/' } })]);
      for (const p of ['/foo', '/foo/', '/foo/bar', '/foo/bar/baz']) assert.equal(m.match(req(p)), 0, p);
      for (const p of ['/foobar', '/fo', '/', '/x/foo']) assert.equal(m.match(req(p)), -1, p);
      for (const p of ['/bar', '/bar/', '/bar/x']) assert.equal(m.match(req(p)), 1, p);
      assert.equal(m.match(req('/barx')), -1);
    });
    test('prefix / matches everything', () => {
      const m = make([entry({ path: { type: 'PathPrefix', value: '/' } })]);
      for (const p of ['/', '/a', '/a/b/c', '*']) assert.equal(m.match(req(p)), 0, p);
    });
    test('precedence is the IR order across exact, prefix and regex', () => {
      const m = make([
        entry({ path: { type: 'Exact', value: '/a/b' }, method: 'POST' }),
        entry({ path: { type: 'PathPrefix', value: '/a/b' } }),
        entry({ path: { type: 'RegularExpression', value: '/a/.*' } }),
        entry({ path: { type: 'PathPrefix', value: '/a' } }),
        entry({ path: { type: 'PathPrefix', value: '/' } }),
      ]);
      assert.equal(m.match(req('/a/b', 'POST')), 0);
      assert.equal(m.match(req('/a/b', 'GET')), 1);
      assert.equal(m.match(req('/a/c')), 2);
      assert.equal(m.match(req('/a')), 3);
      assert.equal(m.match(req('/z')), 4);
    });
    test('regular expression path is anchored', () => {
      const m = make([entry({ path: { type: 'RegularExpression', value: '/v[0-9]+/items' } })]);
      assert.equal(m.match(req('/v12/items')), 0);
      assert.equal(m.match(req('/v12/items/x')), -1);
      assert.equal(m.match(req('/x/v1/items')), -1);
    });
    test('invalid regex never matches and does not throw', () => {
      const m = make([entry({ path: { type: 'RegularExpression', value: '(' } }), entry({})]);
      assert.equal(m.match(req('/(')), 1);
    });
    test('headers: exact, regex, all must match, repeated headers joined', () => {
      const m = make([
        entry({ headers: [{ name: 'x-env', type: 'Exact', value: 'canary' }, { name: 'x-ver', type: 'RegularExpression', value: 'v[12]' }] }),
        entry({ headers: [{ name: 'x-env', type: 'Exact', value: 'canary' }] }),
        entry({ headers: [{ name: 'x-multi', type: 'Exact', value: 'a,b' }] }),
      ]);
      assert.equal(m.match(req('/', 'GET', { 'X-Env': 'canary', 'x-ver': 'v2' })), 0);
      assert.equal(m.match(req('/', 'GET', { 'x-env': 'canary', 'x-ver': 'v3' })), 1);
      assert.equal(m.match(req('/', 'GET', { 'x-env': 'Canary' })), -1);
      assert.equal(m.match({ method: 'GET', path: '/', query: '', headers: ['x-multi', 'a', 'x-multi', 'b'] }), 2);
    });
    test('query params: exact, regex, first occurrence, percent-decoding', () => {
      const m = make([
        entry({ queryParams: [{ name: 'tier', type: 'Exact', value: 'gold star' }] }),
        entry({ queryParams: [{ name: 'id', type: 'RegularExpression', value: '[0-9]+' }] }),
      ]);
      assert.equal(m.match(req('/?tier=gold%20star')), 0);
      assert.equal(m.match(req('/?a=1&tier=gold+star')), 0);
      assert.equal(m.match(req('/?id=42')), 1);
      assert.equal(m.match(req('/?id=42x')), -1);
      assert.equal(m.match(req('/?id=1&id=x')), 1);
      assert.equal(m.match(req('/?tier=%zz')), -1);
    });
    test('method', () => {
      const m = make([entry({ method: 'DELETE', path: { type: 'PathPrefix', value: '/' } })]);
      assert.equal(m.match(req('/x', 'DELETE')), 0);
      assert.equal(m.match(req('/x', 'GET')), -1);
    });
    test('no routes', () => {
      assert.equal(make([]).match(req('/')), -1);
    });
  });
}

test('compiled and reference agree on random routes and requests', () => {
  const segs = ['a', 'b', 'ab', 'c', ''];
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const randPath = (): string => {
      const n = 1 + Math.floor(r() * 3);
      let p = '';
      for (let i = 0; i < n; i++) p += '/' + pick(segs);
      return p;
    };
    const routes: HTTPRouteEntry[] = [];
    const nRoutes = 1 + Math.floor(r() * 25);
    for (let i = 0; i < nRoutes; i++) {
      const m: HTTPMatch = {};
      const k = r();
      if (k < 0.35) m.path = { type: 'PathPrefix', value: randPath() + (r() < 0.2 ? '/' : '') };
      else if (k < 0.65) m.path = { type: 'Exact', value: randPath() };
      else if (k < 0.8) m.path = { type: 'RegularExpression', value: '/' + pick(segs) + '.*' };
      if (r() < 0.3) m.method = pick(['GET', 'POST']);
      if (r() < 0.3) m.headers = [{ name: 'x-h', type: r() < 0.5 ? 'Exact' : 'RegularExpression', value: pick(['1', '2', '[12]']) }];
      if (r() < 0.2) m.queryParams = [{ name: 'q', type: 'Exact', value: pick(['1', '2']) }];
      routes.push(entry(m));
    }
    const ref = new ReferenceMatcher(routes);
    const fast = new CompiledMatcher(routes);
    for (let j = 0; j < 100; j++) {
      const headers = r() < 0.5 ? ['x-h', pick(['1', '2', '3'])] : [];
      const rq: MatchRequest = { method: pick(['GET', 'POST']), path: randPath() + (r() < 0.2 ? '/' : ''), query: r() < 0.3 ? 'q=' + pick(['1', '2']) : '', headers };
      assert.equal(fast.match(rq), ref.match(rq), `seed ${seed} request ${JSON.stringify(rq)} routes ${JSON.stringify(routes.map((x) => x.match))}`);
    }
  }
});

test('compiled and reference agree on normalised request paths (dot segments, escapes, repeated slashes)', () => {
  // Both matchers see the path after path.ts: whatever the client sent, they must still agree,
  // and a request written with dot segments or escapes matches like its normal form.
  const routes: HTTPRouteEntry[] = [
    entry({ path: { type: 'PathPrefix', value: '/admin' } }),
    entry({ path: { type: 'Exact', value: '/a/b' } }),
    entry({ path: { type: 'PathPrefix', value: '/a/' } }),
    entry({ path: { type: 'RegularExpression', value: '/b.*' } }),
    entry({ path: { type: 'Exact', value: '/' } }),
  ];
  const ref = new ReferenceMatcher(routes);
  const fast = new CompiledMatcher(routes);
  const parts = ['a', 'b', 'admin', '%61dmin', '.', '..', '%2e%2E', '', '%2F', '\\', 'x'];
  for (const e of ESCAPED_SLASHES_ACTIONS) {
    for (const m of MERGE_SLASHES_ACTIONS) {
      const opts = resolvePathOptions(e, m);
      const r = rng(e.length * 31 + m.length);
      for (let i = 0; i < 400; i++) {
        let raw = '';
        for (let k = 0, n = 1 + Math.floor(r() * 5); k < n; k++) raw += '/' + parts[Math.floor(r() * parts.length)];
        const n = normalizePath(raw, opts);
        if (n.verdict !== 0) continue;
        const rq = req(n.path);
        assert.equal(fast.match(rq), ref.match(rq), `${e}/${m}: ${raw} -> ${n.path}`);
      }
    }
  }
  for (const raw of ['/x/../admin/secret', '/./admin', '/%2e%2e/admin', '/%61dmin/x', '//admin']) {
    const p = normalizePath(raw, DEFAULT_PATH_OPTIONS).path;
    assert.equal(fast.match(req(p)), 0, raw);
    assert.equal(ref.match(req(p)), 0, raw);
  }
});

describe('listener and virtual host selection', () => {
  const vhostPort = (): Port => ({
    name: '0.0.0.0:80/HTTP', address: '0.0.0.0', port: 80, protocol: 'HTTP',
    listeners: [
      { name: 'ns/gw/exact', hostname: 'foo.example.com', protocol: 'HTTP', virtualHosts: [{ hostname: 'foo.example.com', routes: [entry({ path: { type: 'PathPrefix', value: '/only-exact' } })] }] },
      { name: 'ns/gw/wild', hostname: '*.example.com', protocol: 'HTTP', virtualHosts: [
        { hostname: 'bar.example.com', routes: [entry({ path: { type: 'PathPrefix', value: '/bar' } })] },
        { hostname: '*.example.com', routes: [entry({ path: { type: 'PathPrefix', value: '/' } })] },
      ] },
      { name: 'ns/gw/any', protocol: 'HTTP', virtualHosts: [{ hostname: '*', routes: [entry({ path: { type: 'Exact', value: '/any' } })] }] },
    ],
  });
  const pr = new PortRouter(vhostPort());
  const l = (h: string): string | undefined => pr.listenerFor(normalizeHost(h))?.listener.name;
  test('most specific listener wins, and isolates its routes', () => {
    assert.equal(l('foo.example.com'), 'ns/gw/exact');
    assert.equal(l('FOO.example.com:8080'), 'ns/gw/exact');
    assert.equal(l('x.y.example.com'), 'ns/gw/wild');
    assert.equal(l('example.com'), 'ns/gw/any');
    assert.equal(l('other.test'), 'ns/gw/any');
    // foo.example.com belongs to the exact listener: the wildcard listener's catch-all must not serve it.
    assert.equal(pr.route('foo.example.com', req('/x')), undefined);
    assert.ok(pr.route('foo.example.com', req('/only-exact')));
    assert.equal(pr.route('bar.example.com', req('/bar'))?.match.path?.value, '/bar');
    assert.equal(pr.route('bar.example.com', req('/zzz')), undefined, 'bar has its own vhost, no fallthrough to the wildcard vhost');
    assert.equal(pr.route('baz.example.com', req('/zzz'))?.match.path?.value, '/');
    assert.ok(pr.route('1.2.3.4', req('/any')));
  });
  test('host normalisation', () => {
    assert.equal(normalizeHost('Foo.Example.com.'), 'foo.example.com');
    assert.equal(normalizeHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeHost(undefined), '');
  });
});
