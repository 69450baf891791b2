// translate() kept warm between snapshots. Each call compares the new snapshot with the one
// the previous result came from (entries by store key, by identity: sources reuse the Entry of
// an object that did not change) and does the least that gives the same result:
//   - nothing changed, or only Secrets/Services/ConfigMaps/Namespaces/EndpointSlices/
//     ReferenceGrants the last translation never looked up (store/relevance.ts, NGINX Gateway
//     Fabric's IsReferenced), or fields of a Service/Namespace/ConfigMap/ReferenceGrant it does
//     not read (READ): the previous result, as is;
//   - only EndpointSlices changed: the previous result with the endpoints of the clusters
//     those slices feed recomputed (endpointsFor, as translate does), every other cluster,
//     listener and status shared, not copied. No route is translated again;
//   - only routes changed (./splice.ts): the last translation updated in place, each changed
//     HTTPRoute/GRPCRoute translated by the code translate() uses for it (all L4 routes when one
//     of them changed), its listeners' IR rebuilt, every other part shared;
//   - only Gateways, ListenerSets, GatewayClasses or Secrets changed, and no route's attachment
//     can have changed (./splice-world.ts): the Gateways built again, every route's result kept;
//   - referenced Services or Namespaces changed what translate() reads of them (ports, type,
//     existence; labels), or ReferenceGrants of a namespace a cross-namespace reference was checked
//     against, and no Gateway, ListenerSet or policy looked them up: the routes that did, spliced
//     as if they had changed (routesReading), a Service's clusters resolved anew;
//   - policies on Services, or ConfigMaps only they looked up (a CA bundle), changed, and every
//     Service port a BackendTLSPolicy targets keeps the same policy, usability and TLS-or-not
//     (./splice-policies.ts): the clusters take the new TLS settings, the routes that named a
//     Service whose traffic policy changed are spliced, the policies get new statuses;
//   - anything else: a full translate(), whose result then shares with the previous one every
//     part that did not change (./share.ts), so the IR delta, the workers' routers and the status
//     summary downstream only redo the changed parts.
// Every path but the full one keeps the translation state the splices work on, moved to the new
// snapshot (advance()): a route change after an EndpointSlice change is still a splice, and so is
// one in the same batch as a slice change.
// The full translate() stays the reference: test/translate/incremental.test.ts applies random
// change sequences and checks both give deep-equal results.

import { Kind } from '../api/names.js';
import type { EndpointSlice, Resource, Service, ServicePort } from '../api/types.js';
import type { Cluster } from '../ir/types.js';
import { patchRecord } from '../ir/record-patch.js';
import { changeMatters, referenceGrantsKey } from '../store/relevance.js';
import { keyOf, type Entry, type Snapshot } from '../store/snapshot.js';
import { endpointsFor } from './backends.js';
import { sliceServiceKey } from './context.js';
import { deepSame, shareUnchanged } from './share.js';
import { translate as referenceTranslate, translateKeepingState, type TranslateState } from './index.js';
import { SPLICED_ROUTE_KINDS, adoptShared, spliceHTTPRoutes, type RouteChange } from './splice.js';
import { WORLD_KINDS, spliceWorld } from './splice-world.js';
import { splicePolicies } from './splice-policies.js';
import type { HTTPRouteEntry } from '../ir/types.js';
import type { TranslateOptions, TranslateResult } from './types.js';

export type TranslateFn = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;

/** How each call was answered (admin/debug figures, and what the tests check). */
export interface IncrementalStats {
  full: number;
  unchanged: number;
  endpointsOnly: number;
  /** HTTPRoute changes applied to the last translation (./splice.ts). */
  routesSpliced: number;
  /** Gateway/ListenerSet/GatewayClass/Secret changes applied to the last translation, routes kept (./splice-world.ts). */
  worldSpliced: number;
  /** Service and Namespace changes applied by translating again the routes that looked them up (routesReading). */
  lookupsSpliced: number;
  /** Policy and CA ConfigMap changes applied to the clusters, the routes that named a Service whose traffic policy changed, and the policy statuses (./splice-policies.ts). */
  policiesSpliced: number;
}

export interface IncrementalTranslate extends TranslateFn {
  readonly stats: IncrementalStats;
  /** Forget the previous result: the next call translates in full. */
  reset(): void;
}

interface Last {
  entries: ReadonlyMap<string, Entry>;
  options: TranslateOptions;
  result: TranslateResult;
  /** What the full translate() built (only when `full` is translate() itself): ./splice.ts updates it. */
  state?: TranslateState;
}

const L4_ROUTE_KINDS: ReadonlySet<string> = new Set([Kind.TLSRoute, Kind.TCPRoute, Kind.UDPRoute]);

const OPTION_FIELDS = ['controllerName', 'addressFor', 'addressUsable', 'portUnavailable', 'dataPlanes', 'mergedGatewayClasses', 'sessionSeed'] as const;

/** Options are equal when every field is the same value (functions and maps: the same object). */
function sameOptions(a: TranslateOptions, b: TranslateOptions): boolean {
  for (const f of OPTION_FIELDS) if (a[f] !== b[f]) return false;
  for (const k of Object.keys(b)) if (!(OPTION_FIELDS as readonly string[]).includes(k) && (a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
}

/** Keys whose entry differs (added, removed or replaced) between two snapshots. */
function changedKeys(before: ReadonlyMap<string, Entry>, after: ReadonlyMap<string, Entry>): string[] {
  const out: string[] = [];
  let common = 0;
  for (const [k, e] of after) {
    const b = before.get(k);
    if (b === undefined) out.push(k);
    else {
      common++;
      if (b.resource !== e.resource) out.push(k);
    }
  }
  if (common < before.size) for (const k of before.keys()) if (!after.has(k)) out.push(k);
  return out;
}

const sliceService = (r: Resource | undefined): string | undefined => (r === undefined ? undefined : sliceServiceKey(r));

/** An EndpointSlice's versions in a change: no `before` when it came, no `after` when it went. */
type SliceChange = { before?: EndpointSlice; after?: EndpointSlice };

/** The EndpointSlices of a Service (`ns/name`), in the snapshot a change moves to. */
type Slices = (service: string) => readonly EndpointSlice[];

/** `namespace/service:port...` -> its parts (cluster names: translate/backends.ts). */
const CLUSTER_NAME = /^([^/]+)\/([^:/]+):(\d+)(?:\/|$)/;

/** The EndpointSlices of each of `services` found by walking every slice of `snapshot`: with no kept Context, whose index moveSlices() moves instead. */
function walkSlices(snapshot: Snapshot, services: ReadonlySet<string>): Slices {
  const out = new Map<string, EndpointSlice[]>();
  if (services.size > 0)
    for (const s of snapshot.list<EndpointSlice>(Kind.EndpointSlice)) {
      const svc = sliceServiceKey(s);
      if (svc === undefined || !services.has(svc)) continue;
      let list = out.get(svc);
      if (!list) out.set(svc, (list = []));
      list.push(s);
    }
  return (svc) => out.get(svc) ?? [];
}

/**
 * The Service and port a cluster's name names, parsed once per cluster object: clusters are
 * shared, not copied, from one translation to the next.
 */
type ClusterService = { key: string; ns: string; svcName: string; portText: string } | null;
const clusterServices = new WeakMap<Cluster, { name: string; parsed: ClusterService }>();
function serviceOf(name: string, c: Cluster): ClusterService {
  const known = clusterServices.get(c);
  if (known !== undefined && known.name === name) return known.parsed;
  const m = CLUSTER_NAME.exec(name);
  const parsed = m ? { key: `${m[1]!}/${m[2]!}`, ns: m[1]!, svcName: m[2]!, portText: m[3]! } : null;
  clusterServices.set(c, { name, parsed });
  return parsed;
}

/**
 * Names of the clusters `services` feed: the kept state's index of what each Service made (with
 * the copies per Gateway with a backend client certificate, ./backendtls-client.ts, that
 * `clusters` holds), else every cluster of `clusters` whose name names one. Asking every cluster
 * was, with the slice walk, most of an EndpointSlice change at 10,000 routes (1,002 clusters, twice).
 */
function clustersFed(services: ReadonlySet<string>, state: TranslateState | undefined, clusters: Readonly<Record<string, Cluster>> = {}): string[] {
  const out: string[] = [];
  if (state) {
    for (const s of services) {
      const at = s.indexOf('/');
      for (const name of state.clusters.ofService(s.slice(0, at), s.slice(at + 1)) ?? []) {
        out.push(name);
        for (const gw of state.gateways) {
          if (!gw.backendClientCertificate) continue;
          const copy = `${name}@${gw.namespace}/${gw.name}`;
          if (Object.hasOwn(clusters, copy)) out.push(copy);
        }
      }
    }
  } else {
    for (const [name, c] of Object.entries(clusters)) {
      const parsed = serviceOf(name, c);
      if (parsed !== null && services.has(parsed.key)) out.push(name);
    }
  }
  return out;
}

/**
 * Cluster `c` (named `name`) with its endpoints recomputed from `slices`: null when it takes none
 * from slices, undefined when its Service port cannot be matched the way translate resolved it
 * (the caller then translates in full).
 */
function withEndpoints(name: string, c: Cluster, snapshot: Snapshot, slices: Slices): Cluster | null | undefined {
  const parsed = serviceOf(name, c);
  if (!parsed) return null;
  const { key, ns, svcName, portText } = parsed;
  const svc = snapshot.get<Service>(Kind.Service, ns, svcName);
  if (!svc) return undefined;
  if (svc.spec?.type === 'ExternalName') return null; // endpoints from spec.externalName, not slices
  const port = Number(portText);
  const ports: ServicePort[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  // The same choice backends.ts makes: the port number, UDP or not by the route kind.
  const wantUDP = c.protocol === 'udp';
  const sp = ports.find((p) => p.port === port && (p.protocol === 'UDP') === wantUDP) ?? ports.find((p) => p.port === port);
  if (!sp) return undefined;
  return { ...c, endpoints: endpointsFor(slices(key), sp) };
}

/** The previous result with the endpoints of the clusters `fed` recomputed; undefined as withEndpoints. */
function patchEndpoints(prev: TranslateResult, snapshot: Snapshot, fed: readonly string[], slices: Slices): TranslateResult | undefined {
  const changes = new Map<string, Cluster>();
  for (const name of fed) {
    const c = prev.ir.clusters[name];
    if (c === undefined) continue; // made for a route that serves nowhere (ir.ts)
    const patched = withEndpoints(name, c, snapshot, slices);
    if (patched === null) continue;
    if (patched === undefined) return undefined;
    changes.set(name, patched);
  }
  if (changes.size === 0) return prev;
  // Downstream (the config stream, the pods) asks keysBetween() which clusters these are.
  const clusters = patchRecord(prev.ir.clusters, changes)!;
  return { ...prev, ir: { ...prev.ir, clusters } };
}

const NONE: ReadonlySet<string> = new Set();

/** A result's references as a set, made once per references array: a splice keeps the array while no key came or went. */
const referenceSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function referenceSet(references: readonly string[]): ReadonlySet<string> {
  let set = referenceSets.get(references);
  if (!set) referenceSets.set(references, (set = new Set(references)));
  return set;
}

/**
 * What translate() reads of a Service (backends.ts: type, externalName, ports; the policies:
 * that it exists), a Namespace (Context.namespaceLabels: its labels) and a ConfigMap (the CA
 * bundles of backendtlspolicy.ts and frontendtls.ts: data["ca.crt"]). A change to anything else
 * of them (annotations, labels Helm or kubectl stamp, clusterIP, status) cannot change the result,
 * and was a full translate() (~250 ms at 10,000 routes) whenever the object was referenced.
 * Kinds not listed here are always read whole.
 */
const READ: Partial<Record<string, (r: Resource) => unknown[]>> = {
  [Kind.Service]: (r) => {
    const spec = (r as unknown as Service).spec;
    return [spec?.type, spec?.externalName, spec?.ports];
  },
  [Kind.Namespace]: (r) => [r.metadata?.labels],
  [Kind.ConfigMap]: (r) => [(r as unknown as { data?: Record<string, unknown> }).data?.['ca.crt']],
  [Kind.ReferenceGrant]: (r) => [r.metadata?.namespace, (r as { spec?: unknown }).spec],
};

/** `before` and `after` (one object, both present) read the same to translate(). */
function readsSame(before: Resource, after: Resource): boolean {
  const read = READ[after.kind];
  return read !== undefined && before.kind === after.kind && deepSame(read(before), read(after));
}

/**
 * Moves the kept state to `snapshot`, in which (besides what the caller splices next) only
 * the EndpointSlices `sliceChanges` and objects the last translation never looked up changed:
 * its Context reads the new snapshot and its index follows those slices, and the clusters of
 * `services` (whose slices the translation did read) get their new endpoints. Without this the
 * state was dropped after any such change, and the next route change was a full translate(): at 10,000 routes ~250 ms instead of ~5, after every
 * EndpointSlice update. False when a cluster cannot be matched (the state must then be dropped).
 */
function advance(state: TranslateState, snapshot: Snapshot, sliceChanges: readonly SliceChange[], services: ReadonlySet<string>, grants: boolean): boolean {
  moveContext(state, snapshot, sliceChanges, grants);
  return refreshClusters(state, snapshot, services);
}

/** advance()'s first half: the Context reads `snapshot`, its slices and grants indexed as there. */
function moveContext(state: TranslateState, snapshot: Snapshot, sliceChanges: readonly SliceChange[], grants: boolean): void {
  if (sliceChanges.length > 0) state.ctx.moveSlices(sliceChanges);
  state.ctx.snapshot = snapshot;
  // The Context indexes the grants once; a later route's lookup must see the new ones, asked before or not.
  if (grants) state.ctx.indexGrants();
}

/** advance()'s second half, after moveContext(): the clusters `services` feed take their new endpoints, `ir`'s objects where it has them. */
function refreshClusters(state: TranslateState, snapshot: Snapshot, services: ReadonlySet<string>, ir?: TranslateResult['ir']): boolean {
  if (services.size === 0) return true;
  const slices: Slices = (svc) => state.ctx.slicesOf(svc);
  for (const name of clustersFed(services, state)) {
    const c = state.clusters.byName.get(name);
    if (c === undefined) continue;
    const fresh = withEndpoints(name, c, snapshot, slices);
    if (fresh === null) continue;
    if (fresh === undefined) return false;
    // The result's object where it has one: the next splice's IR then shares it by identity.
    state.clusters.replace(name, ir?.clusters[name] ?? fresh);
  }
  return true;
}

/**
 * A change of the Services and Namespaces `keys` (store keys), as route changes: every HTTPRoute
 * and GRPCRoute that looked one of them up, translated again as it is, added to `routes`. What a
 * Service is to translate() (its ports, type, externalName, existence) reaches only the clusters
 * its routes resolve and those routes' statuses; a Namespace's labels, only whether its routes may
 * attach where allowedRoutes selects namespaces (attachment.ts). `l4` when TLS/TCP/UDP routes
 * looked one up (all are translated again then); undefined when a Gateway, a ListenerSet's
 * allowedListeners or a policy did (a full translate()).
 */
function routesReading(state: TranslateState, keys: readonly string[], routes: RouteChange[]): { l4: boolean } | undefined {
  let l4 = false;
  for (const k of keys) {
    if (state.gatewayBase.has(k) || state.policyBase.has(k)) return undefined;
    if (state.l4Base.has(k)) l4 = true;
    else if (state.base.has(k)) return undefined;
  }
  const listed = new Set(routes.map((c) => c.key));
  for (const [key, h] of state.http) {
    if (listed.has(key) || !keys.some((k) => h.references.includes(k))) continue;
    routes.push({ key, before: h.node.resource, after: h.node.resource });
  }
  return { l4 };
}

/** Policies on Services: ./splice-policies.ts evaluates them again. */
const POLICY_KINDS: ReadonlySet<string> = new Set([Kind.BackendTLSPolicy, Kind.XBackendTrafficPolicy, Kind.BackendLBPolicy]);

/** A ConfigMap (store key) only the policies looked up: a CA bundle, not a Gateway's or a route's. */
function readByPoliciesOnly(state: TranslateState, key: string): boolean {
  return state.policyBase.has(key) && !state.gatewayBase.has(key) && !state.l4Base.has(key) && !state.referenceCounts.has(key);
}

export function incrementalTranslate(full: TranslateFn): IncrementalTranslate {
  let last: Last | undefined;
  const stats: IncrementalStats = { full: 0, unchanged: 0, endpointsOnly: 0, routesSpliced: 0, worldSpliced: 0, lookupsSpliced: 0, policiesSpliced: 0 };
  const keepsState = full === referenceTranslate;
  const translateFull = (snapshot: Snapshot, options: TranslateOptions): TranslateResult => {
    const prev = last?.result;
    last = undefined; // a throwing translate must not leave a stale base behind
    let result: TranslateResult;
    let state: TranslateState | undefined;
    if (keepsState) ({ result, state } = translateKeepingState(snapshot, options));
    else result = full(snapshot, options);
    if (prev) {
      const shared = new Map<HTTPRouteEntry, HTTPRouteEntry>();
      result = shareUnchanged(prev, result, shared);
      if (state) adoptShared(state, result.ir, shared);
    }
    stats.full++;
    last = { entries: snapshot.byKeys(), options, result, state };
    return result;
  };
  /**
   * WORLD_KINDS changed (`world`), and/or routes (`changes`, `l4`): the last translation updated
   * in place, else undefined. With both, the Gateways first (every route kept as it was: the
   * translation of the new world and the old routes), then the routes on top of that.
   */
  const splice = (
    snapshot: Snapshot,
    options: TranslateOptions,
    world: boolean,
    changes: RouteChange[],
    l4: boolean,
    sliceChanges: readonly SliceChange[],
    services: ReadonlySet<string>,
    changedLookups: readonly string[],
    grants: boolean,
    policies = false,
  ): TranslateResult | undefined => {
    const state = last?.state;
    if (!last || !state) return undefined;
    last.state = undefined; // updated in place: a failure half-way leaves nothing to reuse
    try {
      // The slices that changed in the same batch, looked up or not (a changed route may be the first
      // to: its new Service and slices): the IR built below takes its clusters from the state's.
      if (!advance(state, snapshot, sliceChanges, services, grants)) return undefined;
      // Store keys (keyOf()); the backend answers that read them are asked again.
      for (const k of changedLookups) if (k.startsWith(`${Kind.Service}/`) || k.startsWith(`${Kind.ReferenceGrant}/`)) state.clusters.forget(k);
      let result: TranslateResult | undefined = last.result;
      if (policies) result = splicePolicies(state, result, snapshot, options);
      if (result && world) result = spliceWorld(state, result, snapshot, options);
      if (result && (changes.length > 0 || l4)) result = spliceHTTPRoutes(state, result, changes, l4 ? snapshot : undefined);
      if (!result) return undefined;
      // The state's Context reads the new snapshot from now on (advance()). Holding the old one held
      // every version of the store's map made since (store/versioned-map.ts: an old version reaches
      // the newest through the ones after it, each keeping the values its change replaced): under
      // route churn, every deleted route, ~1.5 MB per add/delete cycle of 1,000 routes in the primary.
      last.state = state;
      return result;
    } catch {
      return undefined;
    }
  };
  const fn = (snapshot: Snapshot, options: TranslateOptions): TranslateResult => {
    if (!last || !last.result.references || !sameOptions(last.options, options)) return translateFull(snapshot, options);
    const entries = snapshot.byKeys();
    const references = referenceSet(last.result.references);
    const services = new Set<string>();
    const routes: RouteChange[] = [];
    let others = false;
    let world = false;
    /** Policies on Services, or ConfigMaps only they looked up (./splice-policies.ts). */
    let policies = false;
    let l4 = false;
    /** A ReferenceGrant changed (the kept Context indexes them anew), whether a lookup reached it or not. */
    let grants = false;
    /** EndpointSlices that changed, looked up by the last translation or not: the kept Context's index follows them. */
    const sliceChanges: SliceChange[] = [];
    /** Store keys of referenced Services and Namespaces that changed what translate() reads of them, and referenceGrantsKey() of namespaces whose grants changed. */
    const changedLookups: string[] = [];
    // A snapshot patched from the one translated last already knows what changed (store/snapshot.ts).
    const changed = snapshot.delta?.from === last.entries ? snapshot.delta.keys : changedKeys(last.entries, entries);
    for (const k of changed) {
      const before = last.entries.get(k)?.resource;
      const after = entries.get(k)?.resource;
      // The same object under a new Entry: only its origin moved (a line added above it in its file).
      if (before === after) continue;
      const kind = (before ?? after)!.kind;
      if (kind === Kind.ReferenceGrant) grants = true;
      if (kind === Kind.EndpointSlice) sliceChanges.push({ before: before as unknown as EndpointSlice | undefined, after: after as unknown as EndpointSlice | undefined });
      const matters = (before !== undefined && changeMatters(references, before)) || (after !== undefined && changeMatters(references, after));
      // The kept state still holds how it resolved a Service no route names any more (Clusters' memo):
      // a route that names it again must not get that answer.
      if (!matters && kind === Kind.Service) last.state?.clusters.forget(k);
      if (!matters && kind === Kind.ReferenceGrant) last.state?.clusters.forget(referenceGrantsKey((before ?? after)!.metadata.namespace ?? 'default'));
      if (!matters || (before !== undefined && after !== undefined && readsSame(before, after))) continue;
      if (SPLICED_ROUTE_KINDS.has(kind)) routes.push({ key: k, before, after });
      else if (L4_ROUTE_KINDS.has(kind)) l4 = true;
      else if (kind === Kind.EndpointSlice) {
        for (const svc of [sliceService(before), sliceService(after)]) if (svc !== undefined) services.add(svc);
      } else if (WORLD_KINDS.has(kind)) world = true;
      else if (POLICY_KINDS.has(kind) || (kind === Kind.ConfigMap && last.state !== undefined && readByPoliciesOnly(last.state, k))) policies = true;
      else if (kind === Kind.Service || kind === Kind.Namespace) changedLookups.push(k);
      else if (kind === Kind.ReferenceGrant) {
        const key = referenceGrantsKey((before ?? after)!.metadata.namespace ?? 'default');
        if (!changedLookups.includes(key)) changedLookups.push(key);
      } else others = true;
    }
    if (others) return translateFull(snapshot, options);
    // A policy change with others of the world or of routes: rare enough to translate in full.
    if (policies && (world || routes.length > 0 || l4 || changedLookups.length > 0)) return translateFull(snapshot, options);
    if (changedLookups.length > 0) {
      const reading = last.state ? routesReading(last.state, changedLookups, routes) : undefined;
      if (!reading) return translateFull(snapshot, options);
      if (reading.l4) l4 = true;
    }
    const routed = routes.length > 0 || l4;
    if (world || routed || changedLookups.length > 0 || policies) {
      const result = splice(snapshot, options, world, routes, l4, sliceChanges, services, changedLookups, grants, policies);
      if (!result) return translateFull(snapshot, options);
      if (policies) stats.policiesSpliced++;
      if (world) stats.worldSpliced++;
      if (changedLookups.length > 0) stats.lookupsSpliced++;
      else if (routed) stats.routesSpliced++;
      last = { entries, options, result, state: last.state };
      return result;
    }
    if (services.size === 0) {
      stats.unchanged++;
      if (last.state && changed.length > 0) advance(last.state, snapshot, sliceChanges, NONE, grants);
      last = { entries, options, result: last.result, state: last.state };
      return last.result;
    }
    // A referenced Service whose key is not in the snapshot any more would have been a Service change.
    for (const s of services) {
      const [ns, name] = s.split('/');
      if (!references.has(keyOf(Kind.Service, ns, name!))) return translateFull(snapshot, options);
    }
    const kept = last.state;
    if (kept) moveContext(kept, snapshot, sliceChanges, grants);
    const slices = kept ? (svc: string) => kept.ctx.slicesOf(svc) : walkSlices(snapshot, services);
    const patched = patchEndpoints(last.result, snapshot, clustersFed(services, kept, last.result.ir.clusters), slices);
    if (!patched) return translateFull(snapshot, options);
    stats.endpointsOnly++;
    // The kept state's clusters get the new endpoints too, or a later splice would bring the old ones back.
    const state = kept && refreshClusters(kept, snapshot, services, patched.ir) ? kept : undefined;
    last = { entries, options, result: patched, state };
    return patched;
  };
  return Object.assign(fn, {
    stats,
    reset() {
      last = undefined;
    },
  });
}
