// incrementalTranslate() against the reference: on every golden case, random sequences of
// changes (EndpointSlices edited, added, deleted and relabelled; unrelated and referenced
// Secrets/Services touched; Gateway API objects replaced or deleted) and after each one the
// incremental result must deep-equal a full translate() of the same snapshot: IR, statuses
// and references. The stats check that each shortcut was actually taken.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenCases } from '../golden.js';
import type { Resource } from '../../src/api/types.js';
import { Snapshot, type Entry } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import { load } from './golden-input.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const LABEL = 'kubernetes.io/service-name';

/** Small seeded PRNG (mulberry32): a failure names its seed and replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof rng>;

const clone = <T>(v: T): T => structuredClone(v);
const meta = (r: Resource) => r.metadata as { name: string; namespace?: string; labels?: Record<string, string> };

function randomEndpoints(r: Rng): unknown[] {
  const out = [];
  for (let i = 0, n = r.int(4); i < n; i++) {
    out.push({ addresses: [`10.${r.int(3)}.${r.int(3)}.${r.int(5)}`], conditions: r.int(4) === 0 ? { ready: false } : { ready: true } });
  }
  return out;
}

function slice(ns: string, name: string, service: string, r: Rng): Resource {
  const ports = r.int(3) === 0 ? [] : [{ name: r.pick(['http', '', 'grpc', 'tcp']), port: r.pick([8080, 80, 9000, 53]), protocol: r.pick(['TCP', 'UDP']) }];
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { [LABEL]: service } },
    addressType: 'IPv4',
    endpoints: randomEndpoints(r),
    ports,
  } as unknown as Resource;
}

/** One random change to `entries` (in place); returns what it did, for failure messages. */
function mutate(entries: Map<string, Entry>, r: Rng, step: number): string {
  const all = [...entries.values()].map((e) => e.resource);
  const ofKind = (k: string) => all.filter((x) => x.kind === k);
  const services = ofKind('Service');
  const slices = ofKind('EndpointSlice');
  const put = (res: Resource) => entries.set(`${res.kind}/${meta(res).namespace ?? ''}/${meta(res).name}`, { resource: res });
  const del = (res: Resource) => entries.delete(`${res.kind}/${meta(res).namespace ?? ''}/${meta(res).name}`);
  // EndpointSlice changes and HTTPRoute changes are most of the mix: they are what the fast paths are for.
  const choice = r.int(27);
  if (choice >= 13) return mutateSpec(entries, all, r, step, choice);
  if (choice <= 3 && slices.length) {
    const s = clone(r.pick(slices)) as Resource & { endpoints: unknown[] };
    s.endpoints = randomEndpoints(r);
    put(s);
    return `edit endpoints of EndpointSlice ${meta(s).namespace}/${meta(s).name}`;
  }
  if (choice <= 5 && services.length) {
    const svc = r.pick(services);
    const s = slice(meta(svc).namespace ?? 'default', `${meta(svc).name}-r${step}`, meta(svc).name, r);
    put(s);
    return `add EndpointSlice for Service ${meta(svc).namespace}/${meta(svc).name}`;
  }
  if (choice === 6 && slices.length) {
    const s = r.pick(slices);
    del(s);
    return `delete EndpointSlice ${meta(s).namespace}/${meta(s).name}`;
  }
  if (choice === 7 && slices.length && services.length) {
    const s = clone(r.pick(slices));
    meta(s).labels = { [LABEL]: r.int(3) === 0 ? 'no-such-service' : meta(r.pick(services)).name };
    put(s);
    return `relabel EndpointSlice ${meta(s).namespace}/${meta(s).name}`;
  }
  if (choice === 8) {
    const ns = r.pick(['default', 'other', 'infra']);
    const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `unrelated-${r.int(3)}`, namespace: ns }, type: 'Opaque', data: { k: Buffer.from(String(step)).toString('base64') } } as unknown as Resource;
    put(s);
    return `write unreferenced Secret ${ns}/${meta(s).name}`;
  }
  if (choice === 9 && services.length) {
    const svc = clone(r.pick(services)) as Resource & { spec: { ports?: { port: number }[] } };
    if (svc.spec?.ports?.[0] && r.int(2) === 0) svc.spec.ports[0].port += 1;
    put(svc); // a new object even when equal: identity changed, so the full path must agree too
    // Sometimes one of its slices in the same change.
    const own = slices.filter((s) => meta(s).namespace === meta(svc).namespace && meta(s).labels?.[LABEL] === meta(svc).name);
    if (own.length && r.int(3) === 0) {
      const s = clone(r.pick(own)) as Resource & { endpoints: unknown[] };
      s.endpoints = randomEndpoints(r);
      put(s);
      return `rewrite Service ${meta(svc).namespace}/${meta(svc).name} and the endpoints of its EndpointSlice ${meta(s).name}`;
    }
    return `rewrite Service ${meta(svc).namespace}/${meta(svc).name}`;
  }
  if (choice === 11) {
    // A referenced object of a referenced kind changes content: the translation must notice
    // (references must name everything translate() looked up).
    const held = all.filter((x) => x.kind === 'Secret' || x.kind === 'ConfigMap' || x.kind === 'Namespace');
    if (held.length) {
      const x = clone(r.pick(held)) as Resource & { data?: Record<string, string>; metadata: { labels?: Record<string, string> } };
      if (x.kind === 'Namespace') x.metadata.labels = { ...(x.metadata.labels ?? {}), [`changed-${step}`]: 'yes' };
      // A CA bundle that gains a certificate (the same one again): the policies using it take the new bundle.
      else if (x.kind === 'ConfigMap' && typeof x.data?.['ca.crt'] === 'string' && r.int(2) === 0) x.data['ca.crt'] += x.data['ca.crt'];
      else if (x.data && Object.keys(x.data).length) delete x.data[r.pick(Object.keys(x.data))];
      else x.data = { added: Buffer.from('x').toString('base64') };
      put(x);
      return `change ${x.kind} ${meta(x).namespace ?? ''}/${meta(x).name}`;
    }
  }
  if (choice === 12) {
    // A field translate() does not read (incremental.ts READ): an annotation, a Service's clusterIP, a ConfigMap key besides ca.crt.
    const held = all.filter((x) => x.kind === 'Service' || x.kind === 'ConfigMap' || x.kind === 'Namespace');
    if (held.length) {
      const x = clone(r.pick(held)) as Resource & { data?: Record<string, string>; metadata: { annotations?: Record<string, string> } };
      if (r.int(2) === 0) x.metadata.annotations = { ...(x.metadata.annotations ?? {}), edited: String(step) };
      else if (x.kind === 'Service') specOf(x).clusterIP = `10.96.0.${step % 250}`;
      else if (x.kind === 'ConfigMap') x.data = { ...(x.data ?? {}), [`other-${step}`]: 'x' };
      else x.metadata.annotations = { note: String(step) };
      put(x);
      return `edit ${x.kind} ${meta(x).namespace ?? ''}/${meta(x).name} where translate() does not read`;
    }
  }
  if (choice === 10 && all.length) {
    const x = r.pick(all);
    put(clone(x));
    return `replace ${x.kind} ${meta(x).namespace ?? ''}/${meta(x).name} with an equal copy`;
  }
  if (all.length) {
    const x = r.pick(all.filter((y) => y.kind !== 'GatewayClass' || r.int(4) === 0));
    if (x) {
      del(x);
      return `delete ${x.kind} ${meta(x).namespace ?? ''}/${meta(x).name}`;
    }
  }
  return 'no change';
}

type Spec = Record<string, unknown>;
const specOf = (x: Resource) => ((x as unknown as { spec?: Spec }).spec ??= {});
const TIMES = [undefined, '2020-01-01T00:00:00Z', '2023-06-01T00:00:00Z', '2030-01-01T00:00:00Z'];

/** Content edits to Gateway API objects and what they refer to: routes, Gateways, ListenerSets, ReferenceGrants, Secrets, policies. */
function mutateSpec(entries: Map<string, Entry>, all: Resource[], r: Rng, step: number, choice: number): string {
  const put = (res: Resource) => entries.set(`${res.kind}/${meta(res).namespace ?? ''}/${meta(res).name}`, { resource: res });
  const del = (res: Resource) => entries.delete(`${res.kind}/${meta(res).namespace ?? ''}/${meta(res).name}`);
  const ofKind = (...k: string[]) => all.filter((x) => k.includes(x.kind));
  const routes = ofKind('HTTPRoute', 'GRPCRoute');
  const services = ofKind('Service');
  const editRoute = (x: Resource): string => {
    const spec = specOf(x);
    const rules = (Array.isArray(spec.rules) ? spec.rules : (spec.rules = [])) as Spec[];
    switch (r.int(6)) {
      case 0: {
        const match = x.kind === 'GRPCRoute' ? { method: { service: `pkg.S${r.int(3)}`, ...(r.int(2) ? { method: `M${step}` } : {}) } } : { path: { type: r.pick(['PathPrefix', 'Exact']), value: `/p${step}` } };
        rules.push({ matches: [match], ...(services.length ? { backendRefs: [{ name: meta(r.pick(services)).name, port: r.pick([80, 8080, 9000]) }] } : {}) });
        return 'rule added';
      }
      case 1:
        if (rules.length) rules.splice(r.int(rules.length), 1);
        return 'rule removed';
      case 2:
        spec.hostnames = r.int(3) === 0 ? [] : [r.pick(['foo.example.com', '*.example.com', 'bar.other.org', 'example.com'])];
        return 'hostnames';
      case 3: {
        const refs = (Array.isArray(spec.parentRefs) ? spec.parentRefs : []) as Spec[];
        if (refs[0]) {
          if (r.int(2) === 0) refs[0].sectionName = r.pick(['http', 'https', 'no-such-listener']);
          else delete refs[0].sectionName;
          if (r.int(2) === 0) refs[0].port = r.pick([80, 8080, 443]);
          else delete refs[0].port;
        }
        return 'parentRef sectionName/port';
      }
      case 4:
        for (const rule of rules) for (const b of (Array.isArray(rule.backendRefs) ? rule.backendRefs : []) as Spec[]) b.port = r.pick([80, 8080, 443, 9000]);
        return 'backend ports';
      default:
        meta(x).creationTimestamp = r.pick(TIMES);
        return 'creationTimestamp';
    }
  };
  if (choice <= 15 && routes.length) {
    const x = clone(r.pick(routes));
    const what = editRoute(x);
    put(x);
    // Sometimes an EndpointSlice in the same change (pod churn beside a route edit).
    const slices = ofKind('EndpointSlice');
    if (slices.length && r.int(3) === 0) {
      const s = clone(r.pick(slices)) as Resource & { endpoints: unknown[] };
      s.endpoints = randomEndpoints(r);
      put(s);
      return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name}: ${what}, and the endpoints of EndpointSlice ${meta(s).namespace}/${meta(s).name}`;
    }
    return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name}: ${what}`;
  }
  if (choice <= 17 && routes.length) {
    const x = clone(r.pick(routes));
    // Sometimes of the other kind, on the same parents and hostnames: HTTPRoute and GRPCRoute
    // claims on one listener (the older of two overlapping is admitted).
    if (r.int(3) === 0) {
      x.kind = x.kind === 'HTTPRoute' ? 'GRPCRoute' : 'HTTPRoute';
      const spec = specOf(x);
      spec.rules = x.kind === 'GRPCRoute' ? [{ matches: [{ method: { service: 'pkg.S0' } }], ...(services.length ? { backendRefs: [{ name: meta(r.pick(services)).name, port: r.pick([80, 8080, 9000]) }] } : {}) }] : [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }];
    }
    meta(x).name = `${meta(x).name}-copy${step}`;
    meta(x).creationTimestamp = r.pick(TIMES);
    if (r.int(2) === 0) editRoute(x);
    put(x);
    // Sometimes two routes at once: the added one and an edit of another.
    if (r.int(3) === 0) {
      const y = clone(r.pick(routes));
      editRoute(y);
      put(y);
    }
    // Sometimes with a Service (and its EndpointSlice) nothing referred to before, in the same change.
    if (r.int(4) === 0) {
      const ns = meta(x).namespace ?? 'default';
      const name = `fresh-${step}`;
      put({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as unknown as Resource);
      put(slice(ns, `${name}-1`, name, r));
      const rules = (Array.isArray(specOf(x).rules) ? specOf(x).rules : []) as Spec[];
      if (rules[0]) rules[0].backendRefs = [{ name, port: 80 }];
      put(x);
      return `add ${x.kind} ${ns}/${meta(x).name} with its new Service ${name}`;
    }
    return `add ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
  }
  if (choice === 18 && routes.length) {
    const x = r.pick(routes);
    del(x);
    return `delete ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
  }
  if (choice === 19) {
    const gws = ofKind('Gateway', 'ListenerSet');
    if (gws.length) {
      const x = clone(r.pick(gws));
      const listeners = (specOf(x).listeners ?? []) as Spec[];
      const l = listeners.length ? r.pick(listeners) : undefined;
      if (l) {
        const k = r.int(3);
        if (k === 0) l.port = r.pick([80, 8080, 443, 8443]);
        else if (k === 1) l.hostname = r.pick([undefined, 'foo.example.com', '*.example.com']);
        else l.allowedRoutes = { namespaces: { from: r.pick(['All', 'Same']) } };
      }
      put(x);
      return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
    }
  }
  if (choice === 20) {
    const grants = ofKind('ReferenceGrant');
    const k = r.int(4);
    if (k === 0) {
      // A new grant: HTTPRoutes of one namespace to the Services of another.
      const ns = r.pick(['default', 'other', 'apps']);
      const x = {
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'ReferenceGrant',
        metadata: { name: `grant-${step}`, namespace: ns },
        spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: r.pick(['default', 'other', 'apps']) }], to: [{ group: '', kind: 'Service' }] },
      } as unknown as Resource;
      put(x);
      return `add ReferenceGrant ${ns}/grant-${step}`;
    }
    if (k === 1 && grants.length) {
      const x = r.pick(grants);
      del(x);
      return `delete ReferenceGrant ${meta(x).namespace}/${meta(x).name}`;
    }
    if (grants.length) {
      const x = clone(r.pick(grants));
      const from = (specOf(x).from ?? []) as Spec[];
      if (from.length > 1) from.splice(r.int(from.length), 1);
      else specOf(x).from = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: r.pick(['default', 'other', 'apps']) }];
      put(x);
      return `edit ReferenceGrant ${meta(x).namespace}/${meta(x).name}`;
    }
  }
  if (choice >= 25) {
    // TLSRoute/TCPRoute/UDPRoute: edited (age decides which serves a TCP/UDP listener), copied, or deleted.
    const l4 = ofKind('TLSRoute', 'TCPRoute', 'UDPRoute');
    if (l4.length) {
      const x = clone(r.pick(l4));
      const spec = specOf(x);
      const k = r.int(5);
      if (k === 0) meta(x).creationTimestamp = r.pick(TIMES);
      else if (k === 1) for (const rule of (Array.isArray(spec.rules) ? spec.rules : []) as Spec[]) for (const b of (Array.isArray(rule.backendRefs) ? rule.backendRefs : []) as Spec[]) b.port = r.pick([80, 443, 8080, 9000, 53]);
      else if (k === 2 && x.kind === 'TLSRoute') spec.hostnames = [r.pick(['foo.example.com', '*.example.com', 'tls.example.com', 'bar.other.org'])];
      else if (k === 3) {
        meta(x).name = `${meta(x).name}-copy${step}`;
        meta(x).creationTimestamp = r.pick(TIMES);
      } else {
        del(x);
        return `delete ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
      }
      put(x);
      return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
    }
  }
  if (choice === 24) {
    // A Gateway or ListenerSet edit that leaves attachment alone: a label, an HTTPS/TLS listener's certificate, a TLS listener's mode.
    const gws = ofKind('Gateway', 'ListenerSet');
    if (gws.length) {
      const x = clone(r.pick(gws));
      const secrets = ofKind('Secret');
      const tls = ((specOf(x).listeners ?? []) as Spec[]).filter((l) => l.tls);
      const tlsMode = ((specOf(x).listeners ?? []) as Spec[]).filter((l) => l.protocol === 'TLS');
      if (tlsMode.length && r.int(3) === 0) {
        const l = r.pick(tlsMode);
        l.tls = { ...(l.tls as Spec), mode: (l.tls as Spec | undefined)?.mode === 'Passthrough' ? 'Terminate' : 'Passthrough' };
      } else if (tls.length && secrets.length && r.int(2) === 0) {
        const l = r.pick(tls);
        l.tls = { ...(l.tls as Spec), certificateRefs: [{ name: meta(r.pick(secrets)).name }] };
      } else meta(x).labels = { ...(meta(x).labels ?? {}), edited: String(step) };
      put(x);
      // Sometimes a route in the same change: the Gateways spliced first, then the route.
      if (routes.length && r.int(2) === 0) {
        const y = clone(r.pick(routes));
        const what = editRoute(y);
        put(y);
        return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name} (attachment unchanged) and ${y.kind} ${meta(y).namespace}/${meta(y).name}: ${what}`;
      }
      return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name} (attachment unchanged)`;
    }
  }
  if (choice === 21 || choice === 23) {
    // Secret rotation: a referenced Secret takes another one's data (another certificate, or none).
    const secrets = ofKind('Secret');
    if (secrets.length) {
      const x = clone(r.pick(secrets)) as Resource & { data?: Record<string, string> };
      x.data = clone((r.pick(secrets) as Resource & { data?: Record<string, string> }).data);
      put(x);
      return `rotate Secret ${meta(x).namespace}/${meta(x).name}`;
    }
  }
  const policies = ofKind('BackendTLSPolicy', 'XBackendTrafficPolicy', 'BackendLBPolicy');
  if (policies.length) {
    const x = clone(r.pick(policies));
    const targets = (specOf(x).targetRefs ?? []) as Spec[];
    const validation = specOf(x).validation as Spec | undefined;
    const how = r.int(3);
    if (how === 0 && targets[0] && services.length) targets[0].name = meta(r.pick(services)).name;
    // What a BackendTLSPolicy's clusters carry, not which routes resolve: its SNI.
    else if (how === 1 && x.kind === 'BackendTLSPolicy' && validation && typeof validation.hostname === 'string') validation.hostname = `h${step}.${validation.hostname}`;
    // What a traffic policy's routes and clusters carry: its session persistence, its retry budget.
    else if (how === 1 && x.kind !== 'BackendTLSPolicy') {
      const spec = specOf(x);
      if (r.int(2) === 0) spec.sessionPersistence = { sessionName: `s${step}`, ...(r.int(2) ? { absoluteTimeout: `${1 + r.int(9)}m` } : {}) };
      else if (x.kind === 'XBackendTrafficPolicy') spec.retryConstraint = { budget: { percent: 5 + r.int(50), interval: `${1 + r.int(30)}s` } };
      else delete spec.sessionPersistence;
    }
    else meta(x).creationTimestamp = r.pick(TIMES);
    put(x);
    return `edit ${x.kind} ${meta(x).namespace}/${meta(x).name}`;
  }
  return 'no change';
}

const base = load(join(DIR, '_base.yaml'));
const cases = goldenCases(DIR);
// Deeper runs: PORTICO_INCREMENTAL_STEPS=400 PORTICO_INCREMENTAL_SEED=5000 (the path-count checks below assume the defaults or more).
const L4_KINDS = ['TLSRoute', 'TCPRoute', 'UDPRoute'];
const POLICY_KINDS = ['BackendTLSPolicy', 'XBackendTrafficPolicy', 'BackendLBPolicy'];
const STEPS = Number(process.env.PORTICO_INCREMENTAL_STEPS ?? 40);
const SEED = Number(process.env.PORTICO_INCREMENTAL_SEED ?? 1000);

test('incremental translation equals a full translate() after every random change, on every golden case', () => {
  const totals = { full: 0, unchanged: 0, endpointsOnly: 0, routesSpliced: 0, worldSpliced: 0, lookupsSpliced: 0, grantSpliced: 0, grantUnchanged: 0, grpcSpliced: 0, policySpliced: 0, l4Spliced: 0, worldL4Spliced: 0, bothSpliced: 0, policiesSpliced: 0, trafficSpliced: 0 };
  cases.forEach((name, ci) => {
    const input = load(join(DIR, `${name}.in.yaml`));
    const entries = new Map<string, Entry>();
    for (const e of [...base.entries, ...input.entries]) {
      const m = meta(e.resource);
      entries.set(`${e.resource.kind}/${m.namespace ?? ''}/${m.name}`, e);
    }
    const seed = SEED + ci;
    const r = rng(seed);
    const inc = incrementalTranslate(translate);
    const done: string[] = [];
    let previous: Snapshot | undefined;
    let spliced = 0;
    let world = 0;
    let lookups = 0;
    let unchanged = 0;
    let policiesDone = 0;
    for (let step = 0; step <= STEPS; step++) {
      if (step > 0) done.push(mutate(entries, r, step));
      // Half the time patched from the previous snapshot, as portico run and the controller build them (its delta is then what changed).
      // Sometimes every entry a new wrapper around the same resource, as the Kubernetes source gives them.
      const given = step % 4 === 3 ? [...entries.values()].map((e) => ({ ...e })) : [...entries.values()];
      const snapshot = new Snapshot(given, step % 2 === 1 ? previous : undefined);
      previous = snapshot;
      const got = inc(snapshot, input.options);
      const want = translate(snapshot, input.options);
      assert.deepStrictEqual(got, want, `case ${name} (seed ${seed}) after: ${done.join('; ')}`);
      if (inc.stats.routesSpliced > spliced && / GRPCRoute /.test(done.at(-1) ?? '')) totals.grpcSpliced++;
      if (inc.stats.routesSpliced > spliced && / (TLSRoute|TCPRoute|UDPRoute) /.test(done.at(-1) ?? '')) totals.l4Spliced++;
      if (inc.stats.worldSpliced > world && L4_KINDS.some((k) => snapshot.entries(k).length > 0)) totals.worldL4Spliced++;
      if (inc.stats.worldSpliced > world && inc.stats.routesSpliced > spliced) totals.bothSpliced++;
      if (inc.stats.policiesSpliced > policiesDone && / (XBackendTrafficPolicy|BackendLBPolicy) /.test(done.at(-1) ?? '')) totals.trafficSpliced++;
      policiesDone = inc.stats.policiesSpliced;
      if (/ ReferenceGrant /.test(done.at(-1) ?? '')) {
        if (inc.stats.lookupsSpliced > lookups) totals.grantSpliced++;
        if (inc.stats.unchanged > unchanged) totals.grantUnchanged++;
      }
      lookups = inc.stats.lookupsSpliced;
      unchanged = inc.stats.unchanged;
      world = inc.stats.worldSpliced;
      if (inc.stats.routesSpliced > spliced && POLICY_KINDS.some((k) => snapshot.entries(k).length > 0)) totals.policySpliced++;
      spliced = inc.stats.routesSpliced;
    }
    totals.full += inc.stats.full;
    totals.unchanged += inc.stats.unchanged;
    totals.endpointsOnly += inc.stats.endpointsOnly;
    totals.routesSpliced += inc.stats.routesSpliced;
    totals.worldSpliced += inc.stats.worldSpliced;
    totals.lookupsSpliced += inc.stats.lookupsSpliced;
    totals.policiesSpliced += inc.stats.policiesSpliced;
  });
  // Every path was exercised, not just the full one.
  assert.ok(totals.endpointsOnly > 50, `endpoints-only path taken ${totals.endpointsOnly} times`);
  assert.ok(totals.unchanged > 50, `unchanged path taken ${totals.unchanged} times`);
  assert.ok(totals.full > cases.length, `full path taken ${totals.full} times`);
  assert.ok(totals.routesSpliced > 100, `HTTPRoute splice taken ${totals.routesSpliced} times`);
  assert.ok(totals.worldSpliced > 20, `Gateway/Secret splice taken ${totals.worldSpliced} times`);
  assert.ok(totals.lookupsSpliced > 5, `Service/Namespace splice taken ${totals.lookupsSpliced} times`);
  assert.ok(totals.grantSpliced > 3, `ReferenceGrant change spliced as the routes that asked ${totals.grantSpliced} times`);
  assert.ok(totals.grantUnchanged > 5, `ReferenceGrant change nothing asked about kept the result ${totals.grantUnchanged} times`);
  assert.ok(totals.grpcSpliced > 10, `GRPCRoute splice taken ${totals.grpcSpliced} times`);
  assert.ok(totals.l4Spliced > 10, `TLSRoute/TCPRoute/UDPRoute splice taken ${totals.l4Spliced} times`);
  assert.ok(totals.worldL4Spliced > 10, `Gateway/Secret splice beside L4 routes taken ${totals.worldL4Spliced} times`);
  assert.ok(totals.bothSpliced > 10, `Gateway and route splice in one change taken ${totals.bothSpliced} times`);
  assert.ok(totals.policySpliced > 10, `route splice beside policies taken ${totals.policySpliced} times`);
  assert.ok(totals.policiesSpliced > 20, `policy / CA ConfigMap splice taken ${totals.policiesSpliced} times`);
  assert.ok(totals.trafficSpliced > 1, `XBackendTrafficPolicy / BackendLBPolicy splice taken ${totals.trafficSpliced} times`);
  if (process.env.SHOW_TOTALS) console.log(totals);
});

test('an EndpointSlice change patches only the clusters it feeds; everything else is shared, not copied', () => {
  const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } }) as unknown as Resource;
  const eps = (name: string, ip: string) =>
    ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'default', labels: { [LABEL]: name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip] }],
      ports: [{ name: 'http', port: 8080 }],
    }) as unknown as Resource;
  const gw = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] } },
    ...['a', 'b'].map((n) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: n, namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${n}` } }], backendRefs: [{ name: n, port: 80 }] }] },
    })),
  ] as unknown as Resource[];
  const fixed = [...gw, svc('a'), svc('b'), eps('b', '10.0.0.2')].map((resource) => ({ resource }));
  const options = {};
  const inc = incrementalTranslate(translate);
  const first = inc(new Snapshot([...fixed, { resource: eps('a', '10.0.0.1') }]), options);
  const second = inc(new Snapshot([...fixed, { resource: eps('a', '10.0.0.9') }]), options);
  assert.deepEqual(inc.stats, { full: 1, unchanged: 0, endpointsOnly: 1, routesSpliced: 0, worldSpliced: 0, lookupsSpliced: 0, policiesSpliced: 0 });
  assert.deepEqual(second.ir.clusters['default/a:80']!.endpoints, [{ address: '10.0.0.9', port: 8080 }]);
  assert.equal(second.ir.clusters['default/b:80'], first.ir.clusters['default/b:80']);
  assert.equal(second.ir.ports, first.ir.ports);
  assert.equal(second.statuses, first.statuses);
});

test('a change that needs a full translate() shares every unchanged part with the previous result', () => {
  const route = (n: string, path: string) =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: n, namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
    }) as unknown as Resource;
  const fixed = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'default' },
      spec: { gatewayClassName: 'portico', listeners: [{ name: 'a', port: 8080, protocol: 'HTTP' }, { name: 'b', port: 8081, protocol: 'HTTP', hostname: 'b.example.com' }] },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    ...['/x', '/y', '/z'].map((p, i) => route(`r${i}`, p)),
  ].map((resource) => ({ resource: resource as Resource }));
  const inc = incrementalTranslate(translate);
  const first = inc(new Snapshot(fixed), {});
  const snapshot = new Snapshot([...fixed, { resource: route('added', '/w') }]);
  const second = inc(snapshot, {});
  assert.deepStrictEqual(second, translate(snapshot, {}));
  const routesOf = (r: typeof first, port: number) => r.ir.ports.find((p) => p.port === port)!.listeners[0]!.virtualHosts![0]!.routes;
  for (const port of [8080, 8081]) {
    const before = routesOf(first, port);
    const after = routesOf(second, port);
    assert.equal(after.length, before.length + 1);
    for (const e of before) assert.ok(after.includes(e), `entry ${e.source.name} of port ${port} is the previous object`);
  }
  assert.equal(second.ir.clusters, first.ir.clusters);
  for (const s of second.statuses) {
    const old = first.statuses.find((o) => o.kind === s.kind && o.name === s.name);
    // The Gateway's status changed (attachedRoutes), the new route's is new; every other is the same object.
    if (s.kind === 'HTTPRoute' && s.name !== 'added') assert.equal(s, old);
  }
  assert.notDeepEqual(second.statuses.find((s) => s.kind === 'Gateway'), first.statuses.find((s) => s.kind === 'Gateway'));
  // Nothing changed at all: the previous result as is, through the full path too.
  inc.reset();
  const a = inc(snapshot, {});
  const b = inc(new Snapshot([...snapshot.byKeys().values()].map((e) => ({ resource: structuredClone(e.resource) }))), {});
  assert.equal(b.ir, a.ir);
  assert.equal(b.statuses, a.statuses);
});

test('a Gateway or Secret change keeps every route result; a port a parentRef names is a full translation', () => {
  const gw = (port: number, secret = 'cert') =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'default' },
      spec: {
        gatewayClassName: 'portico',
        listeners: [
          { name: 'http', port, protocol: 'HTTP' },
          { name: 'https', port: 8443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: secret }] } },
        ],
      },
    }) as unknown as Resource;
  const route = (n: string, parentPort?: number) =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: n, namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw', ...(parentPort ? { port: parentPort } : {}) }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${n}` } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
    }) as unknown as Resource;
  const secret = (name: string, data: string) =>
    ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': data, 'tls.key': data } }) as unknown as Resource;
  const fixed = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
  ] as unknown as Resource[];
  const run = (routes: Resource[]) => {
    const inc = incrementalTranslate(translate);
    const steps = [
      [gw(8080), secret('cert', 'YQ=='), secret('other', 'Yg==')],
      [gw(8081), secret('cert', 'YQ=='), secret('other', 'Yg==')], // the listener moves
      [gw(8081), secret('cert', 'Yg=='), secret('other', 'Yg==')], // the Secret rotates
      [gw(8081, 'other'), secret('cert', 'Yg=='), secret('other', 'Yg==')], // another Secret
    ];
    let before;
    for (const [i, world] of steps.entries()) {
      const snapshot = new Snapshot([...fixed, ...world!, ...routes].map((resource) => ({ resource })));
      const spliced = inc.stats.worldSpliced;
      const got = inc(snapshot, {});
      assert.deepStrictEqual(got, translate(snapshot, {}), `step ${i}`);
      const routeStatus = (r: typeof got) => r.statuses.find((s) => s.kind === 'HTTPRoute' && s.name === 'a');
      if (before && inc.stats.worldSpliced > spliced) assert.equal(routeStatus(got), routeStatus(before), `step ${i}: the route's status is the same object`);
      before = got;
    }
    return inc.stats;
  };
  assert.deepEqual(run([route('a'), route('b')]), { full: 1, unchanged: 0, endpointsOnly: 0, routesSpliced: 0, worldSpliced: 3, lookupsSpliced: 0, policiesSpliced: 0 });
  // A parentRef that names the listener's port: moving it changes the route's attachment.
  const stats = run([route('a', 8080), route('b')]);
  assert.equal(stats.full, 2);
  assert.equal(stats.worldSpliced, 2);
});
