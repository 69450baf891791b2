// backendRef -> IR cluster: kind and namespace checks (ReferenceGrant), Service and port
// lookup, protocol from appProtocol, endpoints from EndpointSlices or ExternalName.
//
// Cluster names are `${ns}/${svc}:${port}` as the IR documents. Two suffixes keep names
// unique when one Service port is used in two ways: `/${protocol}` when the route kind
// forces a protocol other than the port's own (gRPC -> h2c, TCPRoute -> tcp), and `/tls`
// when a BackendTLSPolicy applies.
//
// Uses: `tls` is a TLSRoute's backend behind a Terminate listener: a TCP stream like `tcp`,
// but a BackendTLSPolicy on the Service applies (re-encryption, as it does for HTTP). Behind
// a Passthrough listener the TLSRoute uses `tcp`: the client's own TLS goes through as-is.

import type { BackendRef, EndpointSlice, Service, ServicePort } from '../api/types.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import type { Cluster, ClusterProtocol, Endpoint } from '../ir/types.js';
import { Reason } from './conditions.js';
import type { Context } from './context.js';
import { keyOf } from '../store/snapshot.js';
import { arr, obj, strs } from './util.js';
import type { BackendTLSPolicies } from './backendtlspolicy.js';
import { BackendTrafficPolicies } from './backendtrafficpolicy.js';
import type { SessionSettings } from './session.js';
import { deepSame } from './share.js';

export type BackendUse = 'http' | 'grpc' | 'tcp' | 'tls' | 'udp';

export type Resolved =
  | { ok: true; cluster: string; service: string }
  | {
      ok: false;
      reason: string;
      message: string;
      /** Refs were fine but the backend cannot be used safely (BackendTLSPolicy without a usable CA): a 500, no route condition. */
      quiet?: boolean;
      /** Set when the Service exists: a BackendTLSPolicy on it still counts this route's Gateways as ancestors. */
      service?: string;
    };

const HTTP1 = new Set(['http', 'https', 'kubernetes.io/http']);
const H2C = new Set(['kubernetes.io/h2c', 'h2c']);
const GRPC_OK = new Set(['kubernetes.io/h2c', 'h2c', 'grpc', 'http2']);

/** The port's own protocol for HTTP traffic; undefined = not one Portico can speak. */
function httpProtocol(appProtocol: string | undefined): ClusterProtocol | undefined {
  // HTTPS names HTTP/1.1 inside TLS; whether Portico speaks TLS to the port is the BackendTLSPolicy's
  // call alone (GEP-1897), so it maps like HTTP. IANA names are case-insensitive: "HTTPS" is common.
  if (appProtocol === undefined || appProtocol === '' || (typeof appProtocol === 'string' && HTTP1.has(appProtocol.toLowerCase()))) return 'http1';
  if (H2C.has(appProtocol)) return 'h2c';
  // WebSocket backends (the only ones HTTP Upgrade is tunnelled to, dataplane/http1/upgrade.ts). wss is
  // WebSocket inside TLS: like https, the TLS is the BackendTLSPolicy's call.
  if (appProtocol === 'kubernetes.io/ws' || appProtocol === 'kubernetes.io/wss') return 'ws';
  return undefined;
}

function protocolFor(use: BackendUse, appProtocol: string | undefined): ClusterProtocol | undefined {
  switch (use) {
    case 'http':
      return httpProtocol(appProtocol);
    case 'grpc':
      return appProtocol === undefined || appProtocol === '' || GRPC_OK.has(appProtocol) ? 'h2c' : undefined;
    case 'tcp':
    case 'tls':
      return 'tcp';
    case 'udp':
      return 'udp';
  }
}

export function weightOf(ref: { weight?: unknown }): number {
  const w = ref.weight;
  if (w === undefined) return 1;
  return typeof w === 'number' && Number.isInteger(w) && w >= 0 ? Math.min(w, 1_000_000) : 1;
}

/** How many replacements Clusters logs for ir.ts between two records. */
const MAX_REPLACED = 1024;

export class Clusters {
  readonly byName = new Map<string, Cluster>();
  /** Bumped when a cluster in `byName` is replaced or removed, not added (replace(), forget()): ir.ts rebuilds its record then. */
  version = 0;
  /**
   * The names replace() replaced, one per version from `from` on, while no cluster was removed:
   * ir.ts patches its record by them (ir/record-patch.ts) instead of building it again. Bounded:
   * past MAX_REPLACED the record is built again.
   */
  private replaced: { from: number; names: string[] } | undefined;
  /** XBackendTrafficPolicy / BackendLBPolicy per Service: session persistence and retry budgets (replaced when ./splice-policies.ts evaluates them again). */
  traffic: BackendTrafficPolicies;
  /** Cluster name -> `${ns}/${service}` of the Service it came from. */
  private readonly serviceOf = new Map<string, string>();
  /** The Service's store key -> the clusters made from it (what forget() drops). */
  private readonly clustersOf = new Map<string, Set<string>>();
  /** Clusters a BackendTLSPolicy may apply to (HTTP, gRPC, TLS backends) -> the Service port they came from. */
  private readonly policyPort = new Map<string, { ns: string; service: string; port: string | undefined }>();

  constructor(
    readonly ctx: Context,
    private policies: BackendTLSPolicies,
  ) {
    this.traffic = new BackendTrafficPolicies(ctx);
  }

  /** The session persistence a policy on one of these clusters' Services sets (the first such backend's). */
  policySession(clusters: readonly (string | undefined)[]): SessionSettings | undefined {
    for (const c of clusters) {
      const svc = c === undefined ? undefined : this.serviceOf.get(c);
      if (svc === undefined) continue;
      const s = this.traffic.forService(svc.slice(0, svc.indexOf('/')), svc.slice(svc.indexOf('/') + 1))?.session;
      if (s) return s;
    }
    return undefined;
  }

  /** Each answer with the keys looked up to reach it: a later route asking the same depends on them too. */
  private readonly memo = new Map<string, { r: Resolved; refs: Set<string> }>();
  /** A looked-up key -> the memo's answers that looked it up: forget() costs what it drops, not the memo's size. */
  private readonly answersReading = new Map<string, Set<string>>();

  /** Many routes name the same Service port: resolve each (route kind, namespace, ref, use) once. */
  resolve(from: { kind: string; namespace: string }, ref: BackendRef, use: BackendUse): Resolved {
    const key =
      ref.group === undefined && ref.kind === undefined
        ? `${from.kind}|${from.namespace}|${ref.namespace}|${ref.name}|${ref.port}|${use}`
        : `${from.kind}|${from.namespace}|${ref.namespace}|${ref.name}|${ref.port}|${use}|${ref.group}|${ref.kind}`;
    const known = this.memo.get(key);
    if (known) {
      for (const k of known.refs) this.ctx.note(k);
      return known.r;
    }
    const outer = this.ctx.recording;
    const refs = new Set<string>();
    this.ctx.recording = refs;
    let r: Resolved;
    try {
      r = this.resolveOnce(from, ref, use);
    } finally {
      this.ctx.recording = outer;
    }
    for (const k of refs) {
      outer.add(k);
      let answers = this.answersReading.get(k);
      if (!answers) this.answersReading.set(k, (answers = new Set()));
      answers.add(key);
    }
    this.memo.set(key, { r, refs });
    return r;
  }

  private resolveOnce(from: { kind: string; namespace: string }, ref: BackendRef, use: BackendUse): Resolved {
    const group = ref.group ?? CORE_GROUP;
    const kind = ref.kind ?? Kind.Service;
    const ns = ref.namespace ?? from.namespace;
    if (group !== CORE_GROUP || kind !== Kind.Service) {
      return { ok: false, reason: Reason.InvalidKind, message: `backendRef ${group || 'core'}/${kind} ${ref.name}: only core Services are supported` };
    }
    if (!this.ctx.referenceAllowed({ group: GATEWAY_GROUP, kind: from.kind, namespace: from.namespace }, { group, kind, namespace: ns, name: ref.name })) {
      return {
        ok: false,
        reason: Reason.RefNotPermitted,
        message: `backendRef Service ${ns}/${ref.name} is in another namespace and no ReferenceGrant there allows ${from.kind}s from ${from.namespace}`,
      };
    }
    const svc = this.ctx.lookup<Service>(Kind.Service, ns, ref.name);
    if (!svc) return { ok: false, reason: Reason.BackendNotFound, message: `Service ${ns}/${ref.name} not found` };
    if (typeof ref.port !== 'number') {
      return { ok: false, reason: Reason.BackendNotFound, message: `backendRef Service ${ns}/${ref.name} needs a port` };
    }
    const ports = arr<ServicePort>(svc.spec?.ports);
    // One port number can be both TCP and UDP on a Service: pick the one the route kind uses.
    const wantUDP = use === 'udp';
    const sp = ports.find((p) => p.port === ref.port && (p.protocol === 'UDP') === wantUDP) ?? ports.find((p) => p.port === ref.port);
    const external = svc.spec?.type === 'ExternalName';
    if (!sp && !external) {
      return { ok: false, reason: Reason.BackendNotFound, message: `Service ${ns}/${ref.name} has no port ${ref.port}` };
    }
    const appProtocol = sp?.appProtocol;
    const protocol = protocolFor(use, appProtocol);
    if (!protocol) {
      return {
        ok: false,
        reason: Reason.UnsupportedProtocol,
        message: `Service ${ns}/${ref.name} port ${ref.port} appProtocol ${appProtocol} is not supported for ${use === 'grpc' ? 'GRPCRoute' : 'HTTPRoute'} backends`,
      };
    }
    const policy = use === 'http' || use === 'grpc' || use === 'tls' ? this.policies.forPort(ns, ref.name, sp?.name) : undefined;
    if (policy && !policy.usable) {
      return { ok: false, reason: Reason.ResolvedRefs, message: `BackendTLSPolicy ${policy.id} is not usable`, quiet: true, service: `${ns}/${ref.name}` };
    }
    const natural = httpProtocol(appProtocol) ?? 'http1';
    const finalProtocol: ClusterProtocol = policy?.tls && protocol === 'h2c' ? 'h2' : protocol;
    let name = `${ns}/${ref.name}:${ref.port}`;
    if (protocol !== natural) name += `/${protocol}`;
    if (policy?.tls) name += '/tls';
    if (!this.byName.has(name)) {
      const endpoints = external
        ? typeof svc.spec?.externalName === 'string' && svc.spec.externalName
          ? [{ address: svc.spec.externalName, port: ref.port }]
          : []
        : endpointsFor(this.ctx.endpointSlices(ns, ref.name), sp!);
      const cluster: Cluster = { name, protocol: finalProtocol, endpoints };
      if (policy?.tls) cluster.tls = policy.tls;
      const traffic = use === 'http' || use === 'grpc' ? this.traffic.forService(ns, ref.name) : undefined;
      if (traffic?.budget) {
        cluster.retryBudget = traffic.budget;
        cluster.retryBudgetFrom = traffic.id;
      }
      this.serviceOf.set(name, `${ns}/${ref.name}`);
      if (use === 'http' || use === 'grpc' || use === 'tls') this.policyPort.set(name, { ns, service: ref.name, port: sp?.name });
      const svcKey = keyOf(Kind.Service, ns, ref.name);
      let made = this.clustersOf.get(svcKey);
      if (!made) this.clustersOf.set(svcKey, (made = new Set()));
      made.add(name);
      this.byName.set(name, cluster);
    }
    return { ok: true, cluster: name, service: `${ns}/${ref.name}` };
  }

  /** Names of the clusters made from the Service `namespace/name` (incremental.ts: the clusters its slices feed). */
  ofService(namespace: string, name: string): ReadonlySet<string> | undefined {
    return this.clustersOf.get(keyOf(Kind.Service, namespace, name));
  }

  /** A known cluster with new content (its endpoints: incremental.ts); the name and what it resolved from are unchanged. */
  replace(name: string, cluster: Cluster): void {
    this.byName.set(name, cluster);
    this.replaced ??= { from: this.version, names: [] };
    this.replaced.names.push(name);
    if (this.replaced.names.length > MAX_REPLACED) this.replaced = undefined;
    this.version++;
  }

  /** The names replaced since `version`, when replace() alone bumped it since; undefined when unknown. */
  replacedSince(version: number): readonly string[] | undefined {
    const r = this.replaced;
    return r !== undefined && r.from <= version && version <= this.version ? r.names.slice(version - r.from) : undefined;
  }

  /**
   * Forget what was resolved through the Service `key` (store key), which changed: the clusters
   * made from it, and every answer that looked it up. The routes that named it are translated
   * again (incremental.ts), and resolve it anew.
   */
  forget(key: string): void {
    for (const k of this.answersReading.get(key) ?? []) {
      const known = this.memo.get(k);
      if (!known) continue;
      this.memo.delete(k);
      for (const ref of known.refs) {
        const answers = this.answersReading.get(ref);
        answers?.delete(k);
        if (answers?.size === 0) this.answersReading.delete(ref);
      }
    }
    const made = this.clustersOf.get(key);
    if (!made) return;
    this.replaced = undefined;
    this.clustersOf.delete(key);
    for (const name of made) {
      this.byName.delete(name);
      this.serviceOf.delete(name);
      this.policyPort.delete(name);
    }
    this.version++;
  }

  /**
   * BackendTLSPolicies evaluated again with the same signature (./splice-policies.ts): every
   * cluster they apply to takes its policy's TLS settings now (a rotated CA, a new SNI). The
   * cluster names stay: whether a policy sets TLS is part of the signature.
   */
  retarget(policies: BackendTLSPolicies): void {
    this.policies = policies;
    for (const [name, at] of this.policyPort) {
      const c = this.byName.get(name);
      if (!c) continue;
      const tls = policies.forPort(at.ns, at.service, at.port)?.tls;
      if (deepSame(c.tls, tls)) continue;
      const next: Cluster = { ...c };
      if (tls) next.tls = tls;
      else delete next.tls;
      this.replace(name, next);
    }
  }

  /** IR.clusters with keys sorted, so the IR serialises identically every time. */
  toRecord(): Record<string, Cluster> {
    const out: Record<string, Cluster> = {};
    for (const k of [...this.byName.keys()].sort()) out[k] = this.byName.get(k)!;
    return out;
  }
}

/**
 * The last endpointsFor() answer per Service port object. Sources keep the same object for a
 * Service or EndpointSlice that did not change, so a rebuild gets the same (frozen) array for
 * every Service whose slices did not change: no recomputation, and the IR diff to the data
 * plane (dataplane/ir-delta.ts) sees the cluster unchanged without encoding it.
 */
const lastEndpoints = new WeakMap<ServicePort, { slices: readonly EndpointSlice[]; out: Endpoint[] }>();

/** Ready endpoints of a Service port; the slice port is chosen by the Service port's name (targetPort when the slice lists no ports). */
export function endpointsFor(slices: readonly EndpointSlice[], sp: ServicePort): Endpoint[] {
  const memo = lastEndpoints.get(sp);
  if (memo && memo.slices.length === slices.length && memo.slices.every((s, i) => s === slices[i])) return memo.out;
  const out = computeEndpoints(slices, sp);
  lastEndpoints.set(sp, { slices: [...slices], out });
  return out;
}

function computeEndpoints(slices: readonly EndpointSlice[], sp: ServicePort): Endpoint[] {
  const out: Endpoint[] = [];
  const wantName = sp.name ?? '';
  for (const s of slices) {
    const ports = arr<NonNullable<EndpointSlice['ports']>[number]>(s.ports);
    let port: number | undefined;
    if (ports.length > 0) {
      // A slice that lists ports but not this one does not serve it.
      port = ports.find((p) => (p.name ?? '') === wantName)?.port;
      if (typeof port !== 'number') continue;
    } else {
      // Hand-written slices (file mode) often list no ports: use a numeric targetPort, else the Service port.
      if (typeof sp.targetPort === 'number') port = sp.targetPort;
      else if (sp.targetPort === undefined) port = sp.port;
      else continue; // a named targetPort can only be resolved through the slice
    }
    for (const e of arr<EndpointSlice['endpoints'][number]>(s.endpoints)) {
      if (obj<{ ready?: boolean }>(e.conditions).ready === false) continue; // unset means ready (EndpointSlice API)
      for (const address of strs(e.addresses)) out.push({ address, port });
    }
  }
  out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  // Duplicates (an address in two slices) are neighbours once sorted: dropping them here, not
  // through a Set of "address|port" strings, took the first build's 100,000 endpoints from ~105
  // to ~62 ms cold in a bare script.
  let kept = 0;
  for (const e of out) {
    const last = kept > 0 ? out[kept - 1]! : undefined;
    if (last !== undefined && last.address === e.address && last.port === e.port) continue;
    // Shared between translations (see lastEndpoints): nothing may change it in place.
    out[kept++] = Object.freeze(e);
  }
  out.length = kept;
  return Object.freeze(out) as Endpoint[];
}
