// A route added in the same batch as the Service and EndpointSlice it names. The Service is no
// change that "matters" to the last translation (nothing looked it up yet), but the new route
// reads it: the incremental result must still equal a full translate(). Seen in controller mode
// (conformance HTTPRouteServiceTypes, 22:27 UTC): once status echoes stopped forcing a full
// translation per rebuild, the route was spliced against the kept state's old snapshot and
// reported BackendNotFound for a Service that existed, and kept reporting it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../src/api/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';

const GW = 'gateway.networking.k8s.io/v1';
const base: Resource[] = [
  { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
  { apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'app' }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }, { name: 'tcp', port: 9000, protocol: 'TCP' }] } },
  ...backend('old'),
  route('old'),
  ...backend('old-tcp'),
  tcpRoute('old-tcp'),
];

function backend(name: string): Resource[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'app' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'app', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    } as unknown as Resource,
  ];
}

function route(name: string): Resource {
  return {
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'app' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name, port: 80 }] }] },
  };
}

function tcpRoute(name: string): Resource {
  return { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name, namespace: 'app' }, spec: { parentRefs: [{ name: 'gw', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name, port: 80 }] }] } };
}

const options = { addressFor: () => '127.0.0.1', sessionSeed: 'test' };
const summary = (statuses: readonly { kind: string; name: string; status: unknown }[]) => JSON.stringify(statuses.filter((s) => s.kind.endsWith('Route')));

for (const [what, added] of [
  ['a route with its new Service and EndpointSlice', [...backend('new'), route('new')]],
  ['a route with its new Service, the EndpointSlice a batch later', [backend('new')[0]!, route('new')]],
  ['a TCPRoute with its new Service and EndpointSlice', [...backend('new-tcp'), tcpRoute('new-tcp')]],
] as const) {
  test(`${what}, in one batch: incremental == full translate()`, () => {
    const inc = incrementalTranslate(translate);
    let snapshot = new Snapshot(base.map((resource) => ({ resource })));
    inc(snapshot, options);
    const batches = what.includes('a batch later') ? [added, [backend('new')[1]!]] : [added];
    let all = [...base];
    for (const batch of batches) {
      all = [...all, ...batch];
      snapshot = new Snapshot(all.map((resource) => ({ resource })), snapshot);
      const got = inc(snapshot, options);
      const want = translate(snapshot, options);
      assert.equal(summary(got.statuses), summary(want.statuses));
      assert.deepEqual(got.ir, want.ir);
    }
  });
}

// The kept state moves with the snapshot (incremental.ts advance()): after an EndpointSlice change,
// or a change of something nothing looked up, the next route change is still spliced (it was a
// full translate(), ~250 ms at 10,000 routes), and reads the slices as they are now.
const slice = (name: string, ip: string): Resource => ({ ...backend(name)[1]!, endpoints: [{ addresses: [ip], conditions: { ready: true } }] }) as unknown as Resource;
const secret = (n: number): Resource => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'app' }, type: 'Opaque', data: { k: Buffer.from(String(n)).toString('base64') } }) as unknown as Resource;

for (const [what, between] of [
  ["the route's Service's EndpointSlice changed", (all: Resource[]) => all.map((r) => (r.kind === 'EndpointSlice' && r.metadata.name === 'old-1' ? slice('old', '10.0.0.7') : r))],
  ['an EndpointSlice of a Service nothing names yet changed', (all: Resource[]) => all.map((r) => (r.kind === 'EndpointSlice' && r.metadata.name === 'spare-1' ? slice('spare', '10.0.0.8') : r))],
  ['a Secret nothing names changed', (all: Resource[]) => [...all.filter((r) => r.kind !== 'Secret'), secret(2)]],
] as const) {
  test(`after ${what}, a route change is spliced, not a full translate(), and equals one`, () => {
    const inc = incrementalTranslate(translate);
    let all: Resource[] = [...base, ...backend('spare'), secret(1)];
    let snapshot = new Snapshot(all.map((resource) => ({ resource })));
    inc(snapshot, options);
    // Two routes after it: one to the Service whose slices may have changed, one to the spare Service.
    for (const step of [between, (xs: Resource[]) => [...xs, route('spare')], (xs: Resource[]) => [...xs.filter((r) => r.metadata.name !== 'old' || r.kind !== 'HTTPRoute'), { ...route('old'), spec: { ...(route('old').spec as object), hostnames: ['x.example'] } } as Resource]]) {
      all = step(all);
      snapshot = new Snapshot(all.map((resource) => ({ resource })), snapshot);
      const got = inc(snapshot, options);
      const want = translate(snapshot, options);
      assert.equal(summary(got.statuses), summary(want.statuses));
      assert.deepEqual(got.ir, want.ir);
    }
    assert.equal(inc.stats.full, 1, JSON.stringify(inc.stats));
    assert.equal(inc.stats.routesSpliced, 2, JSON.stringify(inc.stats));
  });
}

// A Service's ports, type or existence change: only the routes that looked it up are translated
// again (incremental.ts routesReading, Clusters.forget), the TCPRoutes too when one of them did.
test('a Service change translates again only the routes that named it, and equals a full translate()', () => {
  const inc = incrementalTranslate(translate);
  const withPort = (name: string, port: number, type = 'ClusterIP'): Resource =>
    ({ ...backend(name)[0]!, spec: { type, ...(type === 'ExternalName' ? { externalName: 'db.example.com' } : {}), ports: [{ name: 'http', port, protocol: 'TCP' }] } }) as Resource;
  let all: Resource[] = [...base, ...backend('other'), route('other')];
  let snapshot = new Snapshot(all.map((resource) => ({ resource })));
  inc(snapshot, options);
  const steps: [string, (xs: Resource[]) => Resource[]][] = [
    ['old loses port 80', (xs) => xs.map((r) => (r.kind === 'Service' && r.metadata.name === 'old' ? withPort('old', 81) : r))],
    ['old has port 80 again', (xs) => xs.map((r) => (r.kind === 'Service' && r.metadata.name === 'old' ? withPort('old', 80) : r))],
    ['old becomes ExternalName', (xs) => xs.map((r) => (r.kind === 'Service' && r.metadata.name === 'old' ? withPort('old', 80, 'ExternalName') : r))],
    ['old is deleted', (xs) => xs.filter((r) => !(r.kind === 'Service' && r.metadata.name === 'old'))],
    ['old comes back', (xs) => [...xs, withPort('old', 80)]],
    ['the TCPRoute\'s Service loses its port', (xs) => xs.map((r) => (r.kind === 'Service' && r.metadata.name === 'old-tcp' ? withPort('old-tcp', 81) : r))],
  ];
  for (const [what, step] of steps) {
    all = step(all);
    snapshot = new Snapshot(all.map((resource) => ({ resource })), snapshot);
    const got = inc(snapshot, options);
    const want = translate(snapshot, options);
    assert.equal(summary(got.statuses), summary(want.statuses), what);
    assert.deepEqual(got.ir, want.ir, what);
  }
  assert.equal(inc.stats.full, 1, JSON.stringify(inc.stats));
  assert.equal(inc.stats.lookupsSpliced, steps.length, JSON.stringify(inc.stats));
});

// The kept state's Clusters remember how each backendRef resolved, beyond the translation that
// asked (translate/backends.ts memo). A Service no route named any more changed unseen (nothing
// looked it up), and a route that named it again got the old answer: ResolvedRefs True for a port
// the Service no longer had. Found by the random-change property test (incremental.test.ts, 300
// steps, seed 11).
test('a Service that lost its port while no route named it: a route naming it again reads it as it is now', () => {
  const inc = incrementalTranslate(translate);
  const [svc, eps] = backend('shared');
  const named = (to: string): Resource => ({ ...route('web'), spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: to, port: 80 }] }] } });
  const steps: Resource[][] = [
    [...base, svc!, eps!, named('shared')],
    [...base, svc!, eps!, named('old')],
    [...base, { ...svc!, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 81, protocol: 'TCP' }] } } as Resource, eps!, named('old')],
  ];
  steps.push([...steps[2]!.slice(0, -1), named('shared')]);
  let snapshot: Snapshot | undefined;
  for (const [i, all] of steps.entries()) {
    snapshot = new Snapshot(all.map((resource) => ({ resource })), snapshot);
    const got = inc(snapshot, options);
    const want = translate(snapshot, options);
    assert.equal(summary(got.statuses), summary(want.statuses), `step ${i}`);
    assert.deepEqual(got.ir, want.ir, `step ${i}`);
  }
  assert.match(summary(inc(snapshot!, options).statuses), /has no port 80/);
  assert.ok(inc.stats.routesSpliced >= 2, `route changes spliced: ${JSON.stringify(inc.stats)}`);
});
