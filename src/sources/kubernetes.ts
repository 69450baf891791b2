// The Kubernetes source: list+watch informers (client-node's ListWatch) for every kind
// Portico reads, turned into Entries. It knows API paths and versions, nothing about
// Gateway API semantics. A kind whose CRD is not installed is simply absent; discovery is
// repeated so a CRD installed later is picked up. Watches that fail (API server restart,
// network) are restarted with exponential backoff; the last known objects stay meanwhile.

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, ListWatch, Watch, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import type { Resource } from '../api/types.js';
import { ALL_KINDS, CLUSTER_SCOPED, GROUP_OF, type KindName } from '../api/names.js';
import { keyOf, type Entry } from '../store/snapshot.js';

// ---------------------------------------------------------------- a small JSON client

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * Raw JSON over the kubeconfig's transport. Raw on purpose: the generated typed clients turn
 * timestamps into Dates and drop unknown fields, while the translator wants the objects
 * exactly as the API server stores them.
 */
export class ApiClient {
  readonly server: URL;
  constructor(readonly kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster: set a current-context');
    this.server = new URL(cluster.server);
  }

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; timeoutMs?: number; query?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const reqOpts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (payload) {
      (reqOpts.headers as Record<string, string | number>)['content-type'] = opts.contentType ?? 'application/json';
      (reqOpts.headers as Record<string, string | number>)['content-length'] = payload.length;
    }
    const mod = url.protocol === 'http:' ? http : https;
    if (mod === http) delete reqOpts.agent; // the kubeconfig agent is an https.Agent
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = mod.request(url, reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* non-JSON error pages are kept as text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.setTimeout(opts.timeoutMs ?? 15000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request(), but a non-2xx answer throws an ApiError carrying the status code. */
  async json<T = unknown>(method: string, path: string, opts: Parameters<ApiClient['request']>[2] = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status < 200 || res.status >= 300) {
      const msg = (res.body as { message?: string } | undefined)?.message ?? String(res.body ?? '');
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${msg}`.trim(), res.body);
    }
    return res.body as T;
  }
}

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
  return s.group ? `${s.group}/${s.version}` : s.version;
}

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
  log?: (msg: string) => void;
}

interface KindState {
  served: ServedKind;
  informer: ListWatch<KubernetesObject>;
  listed: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  stopped: boolean;
}

/**
 * Watch that asks the server to end each watch after `timeoutSeconds` (ListWatch then
 * re-watches from the last resourceVersion) and also gives up client-side when nothing at
 * all arrives for longer, so a silently dead connection cannot freeze a kind forever.
 */
class RenewingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly onOpen: () => void,
  ) {
    super(config);
  }
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let timer: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    let finished = false;
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => controller?.abort(), (this.timeoutSeconds + 30) * 1000);
      timer.unref();
    };
    const params = { ...queryParams, timeoutSeconds: this.timeoutSeconds, allowWatchBookmarks: true };
    controller = await super.watch(
      path,
      params,
      (phase, obj, raw) => {
        arm();
        const code = (obj as { code?: number } | undefined)?.code;
        if (phase === 'ERROR' && code && code !== 410) {
          // an expired/invalid watch is reported in-band; ending it makes ListWatch retry
          controller?.abort();
          return;
        }
        callback(phase, obj, raw);
      },
      (err) => {
        finished = true;
        if (timer) clearTimeout(timer);
        done(err);
      },
    );
    if (!finished) {
      arm();
      this.onOpen();
    }
    return controller;
  }
}

function normalise(obj: KubernetesObject, served: ServedKind): Resource {
  const o = obj as Resource & { metadata: { managedFields?: unknown } };
  // managedFields is large and meaningless here; kind/apiVersion are missing on list items.
  const { managedFields: _drop, ...metadata } = o.metadata as Resource['metadata'] & { managedFields?: unknown };
  return { ...o, apiVersion: apiVersionOf(served), kind: served.kind, metadata };
}

export class KubernetesSource {
  readonly client: ApiClient;
  private readonly kc: KubeConfig;
  private readonly kinds: readonly KindName[];
  private readonly opts: Required<Omit<KubernetesSourceOptions, 'kubeConfig' | 'kinds' | 'log'>>;
  private readonly log: (msg: string) => void;
  private readonly states = new Map<KindName, KindState>();
  private readonly objects = new Map<string, Resource>();
  private readonly listeners: ((c: SourceChange) => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private rediscoverTimer?: NodeJS.Timeout;
  private discovered = false;
  private stopped = false;
  /** List/watch failures per kind (metrics). */
  readonly watchErrors = new Map<string, number>();
  private lastMissing = '';

  constructor(options: KubernetesSourceOptions) {
    this.kc = options.kubeConfig;
    this.client = new ApiClient(options.kubeConfig);
    this.kinds = options.kinds ?? ALL_KINDS;
    this.log = options.log ?? (() => {});
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

  /** Replaces the cached copy (used after a status write so readers see it before the watch echoes it). */
  remember(resource: Resource): void {
    const served = this.served(resource.kind as KindName);
    if (!served) return;
    const r = normalise(resource as KubernetesObject, served);
    const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
    const cur = this.objects.get(key);
    // resourceVersions are opaque, but etcd's are integers; never step back to an older copy
    if (!cur || Number(cur.metadata.resourceVersion) > Number(r.metadata.resourceVersion)) return;
    this.objects.set(key, r);
  }

  entries(): Entry[] {
    // One Entry per object for as long as the object is unchanged: store/snapshot.ts and
    // translate/incremental.ts tell what changed by identity.
    return [...this.objects.values()].map((resource) => {
      let e = this.wrapped.get(resource);
      if (!e) this.wrapped.set(resource, (e = { resource }));
      return e;
    });
  }

  private readonly wrapped = new WeakMap<Resource, Entry>();

  list(kind: KindName): Resource[] {
    return [...this.objects.values()].filter((r) => r.kind === kind);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rediscoverTimer) clearTimeout(this.rediscoverTimer);
    await Promise.all([...this.states.values()].map((s) => this.stopKind(s)));
    this.states.clear();
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
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const list = await this.client.json<KubernetesListObject<KubernetesObject>>('GET', pathOf(served), {
        timeoutMs: 60000,
      });
      // the list is applied by ListWatch right after this resolves; mark once it has been
      setImmediate(() => {
        if (!state.listed) {
          state.listed = true;
          this.log(`${served.kind}: listed ${list.items.length} (${apiVersionOf(served)})`);
          this.checkSync();
        }
      });
      state.failures = 0;
      return list;
    };
    const watch = new RenewingWatch(this.kc, this.opts.watchTimeoutSeconds, () => {
      state.failures = 0;
    });
    const informer = new ListWatch<KubernetesObject>(pathOf(served), watch, listFn, false);
    const state: KindState = { served, informer, listed: false, failures: 0, stopped: false };
    this.states.set(served.kind, state);

    const upsert = (type: ChangeType) => (obj: KubernetesObject) => {
      if (state.stopped) return;
      const r = normalise(obj, served);
      const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
      const old = this.objects.get(key);
      this.objects.set(key, r);
      this.emit({ type: old ? 'update' : type, kind: served.kind, resource: r, old });
    };
    informer.on('add', upsert('add'));
    informer.on('update', upsert('update'));
    informer.on('delete', (obj) => {
      if (state.stopped) return;
      const r = normalise(obj, served);
      const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
      const old = this.objects.get(key);
      this.objects.delete(key);
      this.emit({ type: 'delete', kind: served.kind, resource: old ?? r, old });
    });
    informer.on('error', (err) => {
      if (state.stopped || this.stopped) return;
      state.failures++;
      this.watchErrors.set(served.kind, (this.watchErrors.get(served.kind) ?? 0) + 1);
      const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffMinMs * 2 ** Math.min(state.failures - 1, 16));
      const delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
      const msg = err instanceof Error ? err.message : JSON.stringify(err);
      // an outage fails every kind at once, again and again: say it on the 1st, 2nd, 4th, 8th... failure
      if ((state.failures & (state.failures - 1)) === 0) {
        this.log(`${served.kind}: list/watch failed ${state.failures}x (${msg}); retrying in ${delay} ms`);
      }
      state.retry = setTimeout(() => {
        if (!state.stopped) void informer.start().catch(() => {});
      }, delay);
      state.retry.unref();
    });
    void informer.start().catch(() => {});
  }

  private async stopKind(state: KindState): Promise<void> {
    state.stopped = true;
    if (state.retry) clearTimeout(state.retry);
    await state.informer.stop();
  }

  private dropKind(kind: KindName): void {
    for (const [key, r] of this.objects) {
      if (r.kind !== kind) continue;
      this.objects.delete(key);
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
    if (!this.synced) return;
    for (const w of this.syncWaiters.splice(0)) w();
  }
}
