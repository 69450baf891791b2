// The ingress-nginx model --verify compares against, pinned on its own to the behaviour
// ingress-nginx documents (independently of the converter): location matching per pathType,
// regex mode, the default backend, canary precedence, rewrite-target, redirects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NginxModel } from '../../src/convert/verify/nginx.js';
import { describe as d, type SampleRequest } from '../../src/convert/verify/types.js';
import type { Ingress } from '../../src/convert/types.js';

function ingress(name: string, paths: [string, string, string][], annotations: Record<string, string> = {}, extra: Partial<Ingress['spec']> = {}, created = '2024-01-01T00:00:00Z'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'h.test', http: { paths: paths.map(([path, pathType, svc]) => ({ path, pathType, backend: { service: { name: svc, port: { number: 80 } } } })) } }], ...extra },
  };
}

const req = (path: string, headers: Record<string, string> = {}, scheme: 'http' | 'https' = 'http'): SampleRequest => ({ scheme, host: 'h.test', path, headers, why: '', className: 'nginx' });
const model = (...ings: Ingress[]) => new NginxModel({ ingresses: ings }, 'nginx', {});
const at = (m: NginxModel, path: string, headers?: Record<string, string>, scheme?: 'http' | 'https') => d(m.route(req(path, headers, scheme)));

test('Prefix matches whole segments, ImplementationSpecific is a string prefix, Exact is exact', () => {
  const m = model(ingress('a', [['/foo', 'Prefix', 'prefix'], ['/bar', 'ImplementationSpecific', 'is'], ['/baz', 'Exact', 'exact']]));
  assert.equal(at(m, '/foo'), 'default/prefix:80 h.test/foo');
  assert.equal(at(m, '/foo/x'), 'default/prefix:80 h.test/foo/x');
  assert.equal(at(m, '/foox'), 'default backend (404)');
  assert.equal(at(m, '/barx'), 'default/is:80 h.test/barx');
  assert.equal(at(m, '/baz'), 'default/exact:80 h.test/baz');
  assert.equal(at(m, '/baz/'), 'default backend (404)');
});

test('the longest prefix wins; the oldest Ingress keeps a path two define; the owner\'s defaultBackend serves the rest', () => {
  const older = ingress('old', [['/', 'Prefix', 'root'], ['/api', 'Prefix', 'api-old']], {}, { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } }, '2024-01-01T00:00:00Z');
  const newer = ingress('new', [['/api', 'Prefix', 'api-new'], ['/api/v2', 'Prefix', 'v2']], {}, {}, '2024-02-01T00:00:00Z');
  const m = model(newer, older);
  assert.equal(at(m, '/api/x'), 'default/api-old:80 h.test/api/x');
  assert.equal(at(m, '/api/v2/x'), 'default/v2:80 h.test/api/v2/x');
  const noRoot = model(ingress('x', [['/only', 'Prefix', 'only']], {}, { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } }));
  assert.equal(at(noRoot, '/elsewhere'), 'default/fallback:80 h.test/elsewhere');
});

test('regex mode (use-regex anywhere on the host): every path is ~* ^path, longest first, case-insensitive', () => {
  const m = model(ingress('a', [['/users/[0-9]+', 'ImplementationSpecific', 'users'], ['/u', 'Prefix', 'u']], { 'use-regex': 'true' }));
  assert.equal(at(m, '/USERS/12'), 'default/users:80 h.test/USERS/12');
  assert.equal(at(m, '/users/x'), 'default/u:80 h.test/users/x');
  assert.equal(at(m, '/uzzz'), 'default/u:80 h.test/uzzz');
});

test('rewrite-target replaces the whole URI (captures from the location regex)', () => {
  const m = model(ingress('a', [['/api(/|$)(.*)', 'ImplementationSpecific', 'api'], ['/app', 'Prefix', 'app']], { 'rewrite-target': '/$2' }));
  assert.equal(at(m, '/api/a/b'), 'default/api:80 h.test/a/b');
  assert.equal(at(m, '/api'), 'default/api:80 h.test/');
  assert.equal(at(m, '/app/deep'), 'default/app:80 h.test/', 'no groups in /app: $2 is empty, the whole URI becomes /');
});

test('canary: header (always/never, or its value), then cookie, then weight; weight-total counts only above 100', () => {
  const main = ingress('main', [['/', 'Prefix', 'v1']]);
  const canary = ingress('canary', [['/', 'Prefix', 'v2']], { canary: 'true', 'canary-by-header': 'X-C', 'canary-by-cookie': 'c', 'canary-weight': '30' }, {}, '2024-03-01T00:00:00Z');
  const m = model(main, canary);
  assert.equal(at(m, '/', { 'x-c': 'always' }), 'default/v2:80 h.test/');
  assert.equal(at(m, '/', { 'x-c': 'never', cookie: 'c=always' }), 'default/v1:80 h.test/');
  assert.equal(at(m, '/', { 'x-c': 'maybe', cookie: 'c=always' }), 'default/v2:80 h.test/');
  assert.equal(at(m, '/', { cookie: 'a=b; c=never' }), 'default/v1:80 h.test/');
  assert.equal(at(m, '/'), 'default/v1:80@70%+default/v2:80@30% h.test/');
  const valued = model(main, ingress('canary', [['/', 'Prefix', 'v2']], { canary: 'true', 'canary-by-header': 'X-C', 'canary-by-header-value': 'yes', 'canary-weight': '5', 'canary-weight-total': '10' }, {}, '2024-03-01T00:00:00Z'));
  assert.equal(at(valued, '/', { 'x-c': 'yes' }), 'default/v2:80 h.test/');
  assert.equal(at(valued, '/', { 'x-c': 'always' }), 'default/v1:80@95%+default/v2:80@5% h.test/', 'with a value set, always is just another value; total 10 counts as 100');
});

test('redirects: app-root before anything, return-style redirects before the ssl redirect, ssl redirect for spec.tls hosts', () => {
  const tls = { tls: [{ hosts: ['h.test'], secretName: 's' }] };
  const m = model(ingress('a', [['/', 'Prefix', 'web']], { 'app-root': '/app' }, tls));
  assert.equal(at(m, '/'), '302 -> http://h.test/app');
  assert.equal(at(m, '/x'), '308 -> https://h.test/x');
  assert.equal(at(m, '/x', {}, 'https'), 'default/web:80 h.test/x');
  const off = model(ingress('a', [['/', 'Prefix', 'web']], { 'ssl-redirect': 'false' }, tls));
  assert.equal(at(off, '/x'), 'default/web:80 h.test/x');
  const moved = model(ingress('a', [['/', 'Prefix', 'web']], { 'permanent-redirect': 'https://new.test/', 'temporal-redirect': 'https://tmp.test/' }, tls));
  assert.equal(at(moved, '/x'), '302 -> https://tmp.test/', 'temporal-redirect wins, and answers before the ssl redirect');
});
