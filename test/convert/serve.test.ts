// convert/serve.ts: the Ingresses of Portico's IngressClasses handed to the translator next
// to the user's Gateway API objects, with a generated Gateway (default) or attached to a
// user's Gateway (--ingress-gateway); statuses and report as the controller/CLI see them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPaths } from '../../src/sources/files.js';
import { Snapshot, type Entry } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import { serveIngresses, parseGatewayRef, GENERATED_PREFIX } from '../../src/convert/serve.js';
import { DEFAULT_INGRESS_CONTROLLER } from '../../src/api/names.js';
import type { IR } from '../../src/ir/types.js';
import type { Resource } from '../../src/api/types.js';

const BASE = join(dirname(fileURLToPath(import.meta.url)), 'serve', 'base.yaml');
const OPTS = { controllerName: 'portico.dev/gateway-controller', addressFor: () => '10.0.0.7' };

async function base(): Promise<Entry[]> {
  const state = await loadPaths([BASE]);
  assert.deepEqual(state.problems, []);
  return state.entries;
}

/** hostname -> listener ports that route it, from the IR. */
function hostsByPort(ir: IR): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of ir.ports)
    for (const l of p.listeners) for (const v of l.virtualHosts ?? []) out.set(v.hostname, [...(out.get(v.hostname) ?? []), p.port]);
  return out;
}

test('default: a generated Gateway per IngressClass serves the Ingresses of Portico\'s classes (and the default class), not others', async () => {
  const fn = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, httpPort: 9080 });
  const r = fn(new Snapshot(await base()), OPTS);
  const hosts = hostsByPort(r.ir);
  assert.deepEqual(hosts.get('www.example.com'), [9080]);
  assert.deepEqual(hosts.get('legacy.example.com'), [9080], 'no class + default-class annotation on portico');
  assert.equal(hosts.get('nginx.example.com'), undefined, 'another controller\'s IngressClass');
  assert.deepEqual(hosts.get('api.example.com'), [8080], 'the user HTTPRoute still served');
  // the named Service port went through convert (backendRefs need numbers)
  assert.ok(Object.keys(r.ir.clusters).some((c) => c.startsWith('shop/web-v1:80')), Object.keys(r.ir.clusters).join(','));
  // generated objects have no status; the Ingresses do
  assert.ok(!r.statuses.some((s) => s.name.startsWith(GENERATED_PREFIX)), r.statuses.map((s) => s.name).join(','));
  const ing = r.statuses.filter((s) => s.kind === 'Ingress').map((s) => [s.name, s.status]);
  assert.deepEqual(ing, [
    ['no-class', { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } }],
    ['old-web', { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } }],
  ]);
  assert.deepEqual(r.ingresses?.served.map((s) => `${s.name}->${s.gateway.namespace}/${s.gateway.name}`), ['no-class->shop/portico-ingress-portico', 'old-web->shop/portico-ingress-portico']);
  const snippet = r.ingresses?.report.find((e) => e.item === 'configuration-snippet');
  assert.equal(snippet?.ingress, 'shop/old-web');
  assert.equal(snippet?.status, 'not-converted');
});

test('--ingress-gateway: converted routes attach to the user Gateway by port, next to its HTTPRoutes; the Ingress reports its address', async () => {
  const fn = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, httpPort: 8080, gateway: parseGatewayRef('shop/web')! });
  const r = fn(new Snapshot(await base()), OPTS);
  const hosts = hostsByPort(r.ir);
  assert.deepEqual(hosts.get('www.example.com'), [8080]);
  assert.deepEqual(hosts.get('api.example.com'), [8080]);
  assert.equal(r.ir.ports.length, 1, 'one listener carries both');
  assert.ok(!r.statuses.some((s) => s.kind === 'Gateway' && s.name.startsWith(GENERATED_PREFIX)));
  const web = r.statuses.find((s) => s.kind === 'Gateway' && s.name === 'web')!;
  const attached = (web.status as { listeners: { attachedRoutes: number }[] }).listeners[0]!.attachedRoutes;
  assert.equal(attached, 3, 'new-api + the two Ingress hosts');
  assert.deepEqual(r.statuses.find((s) => s.kind === 'Ingress' && s.name === 'old-web')?.status, { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } });
});

test('--ingress-gateway with no listener on the Ingress port: the route problem is reported on the Ingress', async () => {
  const fn = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, gateway: { namespace: 'shop', name: 'web' } });
  const r = fn(new Snapshot(await base()), OPTS);
  const lines = r.ingresses!.report.filter((e) => e.ingress === 'shop/old-web' && e.item.startsWith('HTTPRoute '));
  assert.equal(lines.length, 1, JSON.stringify(r.ingresses!.report));
  assert.match(lines[0]!.message, /host www\.example\.com is not served: Accepted False NoMatchingParent/);
  const missing = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, gateway: { namespace: 'shop', name: 'nope' } })(new Snapshot(await base()), OPTS);
  assert.ok(missing.ingresses!.report.some((e) => e.item === 'served' && /shop\/nope does not exist/.test(e.message)));
  assert.deepEqual(missing.statuses.find((s) => s.kind === 'Ingress' && s.name === 'old-web')?.status, { loadBalancer: {} });
});

test('a user object holding a reserved name wins and the clash is reported', async () => {
  const entries = await base();
  const squatter: Resource = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'portico-ingress-portico', namespace: 'shop', generation: 1 }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'x', protocol: 'HTTP', port: 7070, allowedRoutes: { namespaces: { from: 'Same' } } }] } };
  const r = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER })(new Snapshot([...entries, { resource: squatter }]), OPTS);
  assert.ok(r.ingresses!.report.some((e) => e.item === 'Gateway shop/portico-ingress-portico' && /reserved/.test(e.message)));
  assert.ok(r.statuses.some((s) => s.kind === 'Gateway' && s.name === 'portico-ingress-portico'), 'the user Gateway keeps its status');
});

test('no IngressClass of ours: the translator sees the snapshot as it is', async () => {
  const entries = (await base()).filter((e) => e.resource.kind !== 'IngressClass');
  const snap = new Snapshot(entries);
  let seen: Snapshot | undefined;
  const r = serveIngresses((s, o) => ((seen = s), translate(s, o)), { ingressController: DEFAULT_INGRESS_CONTROLLER })(snap, OPTS);
  assert.equal(seen, snap);
  assert.equal(r.ingresses, undefined);
});

test('with the incremental translator: an unrelated change keeps the translation, an Ingress edit redoes it, equal to a full one', async () => {
  const entries = await base();
  const inc = incrementalTranslate(translate);
  const fn = serveIngresses(inc, { ingressController: DEFAULT_INGRESS_CONTROLLER });
  const full = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER });
  fn(new Snapshot(entries), OPTS);
  const unrelated: Resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'shop' }, data: {} } as Resource;
  fn(new Snapshot([...entries, { resource: unrelated }]), OPTS);
  assert.equal(inc.stats.full, 1);
  assert.equal(inc.stats.unchanged, 1);
  const edited = entries.map((e) => {
    if (e.resource.kind !== 'Ingress' || e.resource.metadata.name !== 'old-web') return e;
    const spec = structuredClone(e.resource.spec) as { rules: { host: string }[] };
    spec.rules[0]!.host = 'www2.example.com';
    return { ...e, resource: { ...e.resource, spec } };
  });
  const after = fn(new Snapshot(edited), OPTS);
  assert.equal(inc.stats.full, 2);
  assert.deepEqual(after, full(new Snapshot(edited), OPTS));
  assert.ok(hostsByPort(after.ir).has('www2.example.com'));
  assert.ok(!hostsByPort(after.ir).has('www.example.com'));
});

test('a generated Gateway on a port a user Gateway already holds: the listener problem is reported on its Ingresses', async () => {
  const r = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, httpPort: 8080 })(new Snapshot(await base()), OPTS);
  const lines = r.ingresses!.report.filter((e) => e.ingress === 'shop/old-web' && e.item === 'served');
  assert.ok(lines.some((e) => /listener http of Gateway shop\/portico-ingress-portico: Accepted False HostnameConflict/.test(e.message)), JSON.stringify(r.ingresses!.report));
  // the user's Gateway keeps the port: generated objects lose every age tie
  const web = r.statuses.find((s) => s.kind === 'Gateway' && s.name === 'web')!;
  assert.deepEqual((web.status as { listeners: { conditions: { type: string; status: string }[] }[] }).listeners[0]!.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
  assert.deepEqual(hostsByPort(r.ir).get('api.example.com'), [8080]);
});

test('an HTTPRoute of yours for the same host and path as an Ingress takes it over (generated routes lose age ties)', async () => {
  const takeover: Resource = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'www-next', namespace: 'shop', generation: 1 },
    spec: { parentRefs: [{ name: 'web' }], hostnames: ['www.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'api-v2', port: 80 }] }] },
  };
  const r = serveIngresses(translate, { ingressController: DEFAULT_INGRESS_CONTROLLER, httpPort: 8080, gateway: { namespace: 'shop', name: 'web' } })(new Snapshot([...(await base()), { resource: takeover }]), OPTS);
  const vhost = r.ir.ports[0]!.listeners[0]!.virtualHosts!.find((v) => v.hostname === 'www.example.com')!;
  assert.equal(vhost.routes.length, 2, 'both rules are there');
  assert.equal(vhost.routes[0]!.source.name, 'www-next', JSON.stringify(vhost.routes.map((x) => x.source)));
  assert.match(vhost.routes[0]!.backends[0]!.cluster, /^shop\/api-v2:80/);
});
