// The Kubernetes source: list+watch informers (informer.ts) for every kind
// Portico reads, turned into Entries. It knows API paths and versions, nothing about
// Gateway API semantics. A kind whose CRD is not installed is simply absent; discovery is
// repeated so a CRD installed later is picked up. Watches that fail (API server restart,
// network) are restarted with exponential backoff; the last known objects stay meanwhile.

import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '../api/types.js';
import { ALL_KINDS, CLUSTER_SCOPED, GROUP_OF, type KindName } from '../api/names.js';
import { keyOf, type Entry } from '../store/snapshot.js';
import { VersionedMap } from '../store/versioned-map.js';

export { ApiClient, ApiError, type ApiResponse } from './api-client.js';
import { ApiClient, ApiError } from './api-client.js';
import { SharedStatuses } from './shared-status.js';
import { compactEndpointSlice } from './compact-endpoints.js';
import { Informer, type Raw } from './informer.js';
import type { KubeConfig } from './kubeconfig.js';

export { KubeConfig } from './kubeconfig.js';
type KubernetesObject = Raw;

// ---------------------------------------------------------------- kinds and paths

const PLURAL: Record<KindName, string> = {
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  ListenerSet: 'listenersets',
  HTTPRoute: 'httproutes',
  GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
  ReferenceGrant: 'referencegrants',
  BackendTLSPolicy: 'backendtlspolicies',
  XBackendTrafficPolicy: 'xbackendtrafficpolicies',
  BackendLBPolicy: 'backendlbpolicies',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Namespace: 'namespaces',
  Ingress: 'ingresses',
  IngressClass: 'ingressclasses',
  GatewayParameters: 'gatewayparameters',
};

/** Versions tried for a served kind, most preferred first (experimental kinds live in alphas; GatewayParameters is v1alpha1). */
const GATEWAY_VERSIONS = ['v1', 'v1beta1', 'v1alpha3', 'v1alpha2', 'v1alpha1'];

export interface ServedKind {
  kind: KindName;
  group: string;
  version: string;
  plural: string;
}

export function apiVersionOf(s: ServedKind): string {
  let v = apiVersions.get(s);
  // One string per served kind: every object of the kind keeps it (10,000 routes held 10,000 copies).
  if (v === undefined) apiVersions.set(s, (v = s.group ? `${s.group}/${s.version}` : s.version));
  return v;
}
const apiVersions = new WeakMap<ServedKind, string>();

/** Collection path (all namespaces), or an object path when name is given. */
export function pathOf(s: ServedKind, namespace?: string, name?: string): string {
  const base = s.group ? `/apis/${s.group}/${s.version}` : `/api/${s.version}`;
  if (name === undefined) return `${base}/${s.plural}`;
  const ns = CLUSTER_SCOPED.has(s.kind) ? '' : `/namespaces/${encodeURIComponent(namespace ?? 'default')}`;
  return `${base}${ns}/${s.plural}/${encodeURIComponent(name)}`;
}

/**
 * Which version of each kind the API server serves. Core kinds are fixed; Gateway API kinds
 * are looked up per version, so a cluster with only the standard channel (no TCPRoute CRD)
 * simply lacks those kinds.
 */
export async function discover(client: ApiClient, kinds: readonly KindName[]): Promise<Map<KindName, ServedKind>> {
  const served = new Map<KindName, ServedKind>();
  const byGroup = new Map<string, Map<string, Set<string>>>(); // group -> version -> plurals
  for (const kind of kinds) {
    const group = GROUP_OF[kind];
    if (group === '' || group === 'discovery.k8s.io') {
      served.set(kind, { kind, group, version: 'v1', plural: PLURAL[kind] });
      continue;
    }
    let versions = byGroup.get(group);
    if (!versions) {
      versions = new Map();
      byGroup.set(group, versions);
      const res = await client.request('GET', `/apis/${group}`);
      if (res.status === 200) {
        const listed = ((res.body as { versions?: { version: string }[] }).versions ?? []).map((v) => v.version);
        for (const v of listed) {
          const r = await client.request('GET', `/apis/${group}/${v}`);
          if (r.status !== 200) continue;
          const names = ((r.body as { resources?: { name: string }[] }).resources ?? []).map((x) => x.name);
          versions.set(v, new Set(names));
        }
      } else if (res.status !== 404) {
        throw new ApiError(res.status, `GET /apis/${group}: ${res.status}`);
      }
    }
    for (const v of GATEWAY_VERSIONS) {
      if (versions.get(v)?.has(PLURAL[kind])) {
        served.set(kind, { kind, group, version: v, plural: PLURAL[kind] });
        break;
      }
    }
  }
  return served;
}

// ---------------------------------------------------------------- the source

export type ChangeType = 'add' | 'update' | 'delete';

export interface SourceChange {
  type: ChangeType;
  kind: KindName;
  resource: Resource;
  /** The previous object for updates (and deletes), when known. */
  old?: Resource;
}

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  kinds?: readonly KindName[];
  /** How often to look again for kinds that are not (or no longer) served. Default 30 s. */
  rediscoverMs?: number;
  /** Server-side watch timeout; each watch is renewed after it. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Backoff bounds for failed lists/watches. Defaults 500 ms .. 30 s. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /**
   * Kinds whose .status no reader of entries() looks at (the translator reads specs only). An
   * update of such an object that changed nothing but its status (our own status writes, echoed
   * back by the watch) keeps its Entry, so the next Snapshot does not count it as changed.
   * get() and list() always give the latest copy, status included.
   */
  statusUnread?: ReadonlySet<KindName>;
  log?: (msg: string) => void;
}

interface KindState {
  served: ServedKind;
  informer: Informer;
  listed: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  stopped: boolean;
}

/**
 * The object as the store keeps it, made where objects arrive (list, watch, status write).
 * An object that is already normalised comes back as it is.
 */
function normalise(obj: KubernetesObject, served: ServedKind, strings?: Map<string, string>): Resource {
  const o = obj as unknown as Resource & { metadata: { managedFields?: unknown } };
  const apiVersion = apiVersionOf(served);
  if (o.kind === served.kind && o.apiVersion === apiVersion && o.metadata.managedFields === undefined && normalised.has(o)) return o;
  // Before metadata is copied below: share() changes the object in place.
  if (strings) share(o, strings);
  // managedFields is large and meaningless here; kind/apiVersion are missing on list items.
  const { managedFields: _drop, ...metadata } = o.metadata as Resource['metadata'] & { managedFields?: unknown };
  const r: Resource = { ...o, apiVersion, kind: served.kind, metadata };
  // EndpointSlices are most of what the store holds at scale (sources/compact-endpoints.ts).
  const out = served.kind === 'EndpointSlice' ? compactEndpointSlice(r as Resource & { endpoints?: unknown }) : r;
  normalised.add(out);
  return out;
}

/**
 * Fields whose values are one per object (uid, resourceVersion) or per endpoint (an EndpointSlice's
 * addresses): looking each up only grew the table. At 100,000 endpoints the table's lookups were
 * ~130 ms of a 2 s start-up.
 */
const UNIQUE_FIELDS = new Set(['managedFields', 'uid', 'resourceVersion', 'addresses']);

/**
 * Makes equal short strings one string, in place. At 10,000 routes a list held 20,000 copies of
 * "ResolvedRefs", 10,000 of the controller name, a timestamp per object: ~6 MB. Long values
 * (certificates, annotations) are left alone: they rarely repeat and would only grow the table.
 */
function share(v: unknown, strings: Map<string, string>): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') v[i] = interned(x, strings);
      else if (x !== null && typeof x === 'object') share(x, strings);
    }
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (UNIQUE_FIELDS.has(k)) continue;
      const x = o[k];
      if (typeof x === 'string') o[k] = interned(x, strings);
      else if (x !== null && typeof x === 'object') share(x, strings);
    }
  }
}

function interned(s: string, strings: Map<string, string>): string {
  if (s.length > 64) return s;
  const had = strings.get(s);
  if (had !== undefined) return had;
  strings.set(s, s);
  return s;
}

/** Objects normalise() made (their endpoints already compact). */
const normalised = new WeakSet<object>();

/** Equal but for .status and metadata.resourceVersion (which every status write changes). */
function sameButStatus(a: Resource, b: Resource): boolean {
  const strip = (r: Resource) => ({ ...r, status: undefined, metadata: { ...r.metadata, resourceVersion: undefined } });
  return isDeepStrictEqual(strip(a), strip(b));
}

export class KubernetesSource {
  readonly client: ApiClient;
  private readonly kinds: readonly KindName[];
  private readonly opts: Required<Omit<KubernetesSourceOptions, 'kubeConfig' | 'kinds' | 'log' | 'statusUnread'>>;
  private readonly statusUnread: ReadonlySet<KindName>;
  private readonly log: (msg: string) => void;
  private readonly states = new Map<KindName, KindState>();
  private readonly objects = new Map<string, Resource>();
  /** The statusUnread kinds' stored statuses, equal ones as one object (./shared-status.ts). */
  private readonly statuses = new SharedStatuses();
  /** What entries() hands out, by store key: one Entry per object for as long as its spec is unchanged. */
  private readonly current = new Map<string, Entry>();
  /** `current` as versions (store/versioned-map.ts), and what changed in it since the last version. */
  private version = VersionedMap.of<Entry>();
  private pending = new Map<string, Entry | undefined>();
  private readonly listeners: ((c: SourceChange) => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private readonly listedWaiters: { kinds: readonly KindName[]; resolve: () => void }[] = [];
  private rediscoverTimer?: NodeJS.Timeout;
  private discovered = false;
  private stopped = false;
  /** List/watch failures per kind (metrics). */
  readonly watchErrors = new Map<string, number>();
  private lastMissing = '';

  constructor(options: KubernetesSourceOptions) {
    this.client = new ApiClient(options.kubeConfig);
    this.kinds = options.kinds ?? ALL_KINDS;
    this.log = options.log ?? (() => {});
    this.statusUnread = options.statusUnread ?? new Set();
    this.opts = {
      rediscoverMs: options.rediscoverMs ?? 30000,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 30000,
    };
  }

  onChange(cb: (c: SourceChange) => void): void {
    this.listeners.push(cb);
  }

  /** Starts discovery and the informers; resolves once every served kind has been listed once. */
  async start(): Promise<void> {
    await this.rediscover();
    await this.waitForSync();
  }

  /** True once discovery worked and every served kind has been listed at least once. */
  get synced(): boolean {
    return this.discovered && [...this.states.values()].every((s) => s.listed);
  }

  /**
   * Resolves once discovery worked and each of `kinds` that the API server serves has been listed
   * once: what depends on a few small kinds need not wait for the 10,000 routes (provisioned
   * mode starts the data planes' pods so, ../controller/provisioned.ts).
   */
  whenListed(kinds: readonly KindName[]): Promise<void> {
    if (this.listedAll(kinds)) return Promise.resolve();
    return new Promise((resolve) => this.listedWaiters.push({ kinds, resolve }));
  }

  private listedAll(kinds: readonly KindName[]): boolean {
    return this.discovered && kinds.every((k) => this.states.get(k)?.listed ?? true);
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The served version of a kind, or undefined when its CRD is not installed. */
  served(kind: KindName): ServedKind | undefined {
    return this.states.get(kind)?.served;
  }

  get(kind: string, namespace: string | undefined, name: string): Resource | undefined {
    return this.objects.get(keyOf(kind, namespace, name));
  }

  /** get() by store key (keyOf). */
  getKey(key: string): Resource | undefined {
    return this.objects.get(key);
  }

  /**
   * One string table per burst of watch events and status writes, as a list has one: the 10,000
   * status writes at start-up and their echoes each brought their own "ResolvedRefs", messages
   * and timestamps (~5 MB). Dropped once a burst pauses, so it never holds strings of objects long gone.
   */
  private writeStrings(): Map<string, string> {
    const now = Date.now();
    if (!this.burst) {
      // One timer per burst, not one per event: it looks again until a second passed unused.
      const burst = (this.burst = { strings: new Map<string, string>(), last: now });
      const check = (): void => {
        const idle = Date.now() - burst.last;
        if (idle >= 1000) this.burst = undefined;
        else setTimeout(check, 1000 - idle).unref();
      };
      setTimeout(check, 1000).unref();
    }
    this.burst.last = now;
    return this.burst.strings;
  }
  private burst?: { strings: Map<string, string>; last: number };

  /** Replaces the cached copy (used after a status write so readers see it before the watch echoes it). */
  remember(resource: Resource): void {
    const served = this.served(resource.kind as KindName);
    if (!served) return;
    const r = normalise(resource as unknown as KubernetesObject, served, this.writeStrings());
    const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
    const cur = this.objects.get(key);
    // resourceVersions are opaque, but etcd's are integers; never step back to an older copy
    if (!cur || Number(cur.metadata.resourceVersion) > Number(r.metadata.resourceVersion)) return;
    this.store(key, r, cur);
  }

  /**
   * Every object, each as the same Entry for as long as it is unchanged (store/snapshot.ts and
   * translate/incremental.ts tell what changed by identity). For the statusUnread kinds a
   * status-only update counts as unchanged: at 10,000 routes each route change wrote the new
   * route's and the Gateway's status, and those echoes made the next rebuild a full translation.
   */
  entries(): Entry[] {
    return [...this.current.values()];
  }

  /**
   * The same entries by store key, as a new version of the map the previous call returned: a
   * Snapshot built from it and the previous Snapshot costs what changed in between, not a pass
   * over 12,000 objects (store/snapshot.ts).
   */
  versionedEntries(): VersionedMap<Entry> {
    if (this.pending.size > 0) {
      this.version = this.version.with(this.pending);
      this.pending = new Map();
    }
    return this.version;
  }

  private setEntry(key: string, e: Entry | undefined): void {
    if (e) this.current.set(key, e);
    else this.current.delete(key);
    this.pending.set(key, e);
  }

  /**
   * An object as the informer (or a status write) delivers it, and the change to announce.
   * Public for replays of the controller without an API server (bench/cp-controller-stages.ts).
   */
  observe(type: ChangeType, served: ServedKind, obj: KubernetesObject): void {
    const r = normalise(obj, served);
    const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
    const old = this.objects.get(key);
    if (type === 'delete') {
      this.setObject(key, undefined, r.kind);
      this.setEntry(key, undefined);
      this.emit({ type: 'delete', kind: served.kind, resource: old ?? r, old });
      return;
    }
    this.store(key, r, old);
    this.emit({ type: old ? 'update' : type, kind: served.kind, resource: r, old });
  }

  private store(key: string, r: Resource, old: Resource | undefined): void {
    const kept = this.current.get(key);
    const unread = this.statusUnread.has(r.kind as KindName);
    // r is this source's own copy (normalise()), not yet handed out.
    if (unread && r.status !== undefined) r.status = this.statuses.shared(r.status);
    if (kept && old && unread && sameButStatus(kept.resource, r)) {
      // The latest copy shares all but metadata and status with the Entry's: a status write
      // answers with the whole object, and keeping both was a second spec per route.
      const k = kept.resource;
      const latest: Resource = { ...k, metadata: { ...k.metadata, resourceVersion: r.metadata.resourceVersion }, status: r.status };
      normalised.add(latest);
      this.setObject(key, latest, r.kind);
      return;
    }
    this.setObject(key, r, r.kind);
    this.setEntry(key, { resource: r });
  }

  list(kind: KindName): Resource[] {
    return [...(this.kindObjects.get(kind)?.values() ?? [])];
  }

  /** The objects of one kind by store key (live: do not keep it across changes). */
  byKind(kind: KindName): ReadonlyMap<string, Resource> {
    return this.kindObjects.get(kind) ?? new Map();
  }

  private readonly kindObjects = new Map<string, Map<string, Resource>>();

  private setObject(key: string, r: Resource | undefined, kind: string): void {
    let m = this.kindObjects.get(kind);
    if (r) {
      this.objects.set(key, r);
      if (!m) this.kindObjects.set(kind, (m = new Map()));
      m.set(key, r);
    } else {
      this.objects.delete(key);
      m?.delete(key);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rediscoverTimer) clearTimeout(this.rediscoverTimer);
    await Promise.all([...this.states.values()].map((s) => this.stopKind(s)));
    this.states.clear();
    this.client.close();
  }

  // ------------------------------------------------------------ internals

  private async rediscover(): Promise<void> {
    if (this.stopped) return;
    try {
      const served = await discover(this.client, this.kinds);
      // stop() while discovery was in flight: starting informers now would leak their watches.
      if (this.stopped) return;
      this.discovered = true;
      for (const [kind, state] of this.states) {
        const now = served.get(kind);
        if (!now || now.version !== state.served.version) {
          this.log(`${kind}: ${now ? `now served as ${apiVersionOf(now)}` : 'no longer served'}; restarting its informer`);
          await this.stopKind(state);
          this.states.delete(kind);
          this.dropKind(kind);
        }
      }
      for (const [kind, s] of served) {
        if (!this.states.has(kind)) this.startKind(s);
      }
      const missing = this.kinds.filter((k) => !served.has(k)).join(', ');
      if (missing !== this.lastMissing) {
        this.log(missing ? `not served (CRD not installed?): ${missing}` : 'every kind is served');
        this.lastMissing = missing;
      }
    } catch (err) {
      this.log(`discovery failed: ${(err as Error).message}`);
    }
    this.checkSync();
    if (!this.stopped) {
      // Until discovery has worked once, retry quickly: nothing can sync without it.
      const delay = this.discovered ? this.opts.rediscoverMs : this.opts.backoffMinMs * 4;
      this.rediscoverTimer = setTimeout(() => void this.rediscover(), delay);
      this.rediscoverTimer.unref();
    }
  }

  private startKind(served: ServedKind): void {
    const started = performance.now();
    const informer = new Informer(this.client, pathOf(served), this.opts.watchTimeoutSeconds, {
      transform: (o, strings) => normalise(o, served, strings ?? this.writeStrings()) as unknown as Raw,
      listed: (items) => {
        if (state.stopped) return;
        this.relisted(served, items);
        state.failures = 0;
        if (!state.listed) {
          state.listed = true;
          this.log(`${served.kind}: listed ${items.length} (${apiVersionOf(served)}) in ${(performance.now() - started).toFixed(0)} ms`);
          this.checkSync();
        }
      },
      event: (type, obj) => {
        if (!state.stopped) this.observe(type, served, obj);
      },
      opened: () => {
        state.failures = 0;
      },
      error: (err) => {
        if (state.stopped || this.stopped) return;
        state.failures++;
        this.watchErrors.set(served.kind, (this.watchErrors.get(served.kind) ?? 0) + 1);
        const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffMinMs * 2 ** Math.min(state.failures - 1, 16));
        const delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
        // an outage fails every kind at once, again and again: say it on the 1st, 2nd, 4th, 8th... failure
        if ((state.failures & (state.failures - 1)) === 0) {
          this.log(`${served.kind}: list/watch failed ${state.failures}x (${err.message}); retrying in ${delay} ms`);
        }
        state.retry = setTimeout(() => {
          if (!state.stopped) void informer.start();
        }, delay);
        state.retry.unref();
      },
    });
    const state: KindState = { served, informer, listed: false, failures: 0, stopped: false };
    this.states.set(served.kind, state);
    void informer.start();
  }

  /**
   * A (re)list: every object of the kind as it is now. One the store had and the list lacks was
   * deleted while no watch was open; one at the resourceVersion the store has is unchanged.
   */
  private relisted(served: ServedKind, items: Raw[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(served.kind, item.metadata.namespace, item.metadata.name);
      seen.add(key);
      const had = this.objects.get(key);
      if (had && had.metadata.resourceVersion !== undefined && had.metadata.resourceVersion === item.metadata.resourceVersion) continue;
      this.observe(had ? 'update' : 'add', served, item);
    }
    for (const [key, r] of [...this.byKind(served.kind)]) {
      if (!seen.has(key)) this.observe('delete', served, r as unknown as Raw);
    }
  }

  private async stopKind(state: KindState): Promise<void> {
    state.stopped = true;
    if (state.retry) clearTimeout(state.retry);
    await state.informer.stop();
  }

  private dropKind(kind: KindName): void {
    for (const [key, r] of [...this.byKind(kind)]) {
      this.setObject(key, undefined, kind);
      this.setEntry(key, undefined);
      this.emit({ type: 'delete', kind, resource: r, old: r });
    }
  }

  private emit(c: SourceChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.log(`change listener failed: ${(err as Error).message}`);
      }
    }
  }

  private checkSync(): void {
    for (let i = this.listedWaiters.length - 1; i >= 0; i--) {
      const w = this.listedWaiters[i]!;
      if (this.listedAll(w.kinds)) this.listedWaiters.splice(i, 1), w.resolve();
    }
    if (!this.synced) return;
    for (const w of this.syncWaiters.splice(0)) w();
  }
}
