// The per-call lookup tables every concern shares. Built once per translate() call from
// the Snapshot, so no concern scans the whole snapshot twice.

import type { EndpointSlice, LabelSelector, Namespace, ObjectMeta, ReferenceGrant, ReferenceGrantSpec, Resource } from '../api/types.js';
import { arr, obj, strs } from './util.js';
import { DEFAULT_CONTROLLER_NAME, INGRESS_GENERATED_LABEL, Kind } from '../api/names.js';
import { keyOf, type Snapshot } from '../store/snapshot.js';
import { referenceGrantsKey } from '../store/relevance.js';
import type { TranslateOptions } from './types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** `namespace/service` of the Service an EndpointSlice belongs to (its service-name label), if it names one. */
export function sliceServiceKey(s: { metadata?: ObjectMeta }): string | undefined {
  const svc = obj<Record<string, string>>(s.metadata?.labels)[SERVICE_NAME_LABEL];
  return typeof svc === 'string' ? `${s.metadata!.namespace ?? 'default'}/${svc}` : undefined;
}

export interface RefFrom {
  group: string;
  kind: string;
  namespace: string;
}
export interface RefTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export class Context {
  readonly controllerName: string;
  private readonly addressFor?: (ns: string, name: string) => string;
  readonly addressUsable: (ip: string) => boolean;
  readonly portUnavailable: ReadonlyMap<string, string>;
  /** Each Gateway has its own data plane (TranslateOptions.dataPlanes). */
  readonly perGateway: boolean;
  /** GatewayClasses whose Gateways share one merged data plane (TranslateOptions.mergedGatewayClasses). */
  readonly mergedGatewayClasses: ReadonlySet<string>;
  /** Seed of the session persistence keys (TranslateOptions.sessionSeed, translate/session.ts). */
  readonly sessionSeed: string;
  private grantsByNamespace = new Map<string, ReferenceGrant[]>();
  private readonly slicesByService = new Map<string, EndpointSlice[]>();

  constructor(
    /** Not readonly: a kept translation state's Context moves to each snapshot it is spliced to (incremental.ts). */
    public snapshot: Snapshot,
    options: TranslateOptions = {},
  ) {
    this.controllerName = options.controllerName ?? DEFAULT_CONTROLLER_NAME;
    this.addressFor = options.addressFor;
    this.addressUsable = options.addressUsable ?? (() => true);
    this.portUnavailable = options.portUnavailable ?? new Map();
    this.perGateway = options.dataPlanes === 'per-gateway';
    this.mergedGatewayClasses = (this.perGateway && options.mergedGatewayClasses) || new Set();
    this.sessionSeed = options.sessionSeed ?? '';
    this.indexGrants();
    for (const s of snapshot.list<EndpointSlice>(Kind.EndpointSlice)) {
      const key = sliceServiceKey(s);
      if (key === undefined) continue;
      let list = this.slicesByService.get(key);
      if (!list) this.slicesByService.set(key, (list = []));
      list.push(s);
    }
  }

  /**
   * Keys (store keyOf form) of every object of a referenced kind the translation looked up,
   * found or not: a change to anything else of those kinds cannot change the output.
   */
  readonly references = new Set<string>();
  /** The same keys, as looked up outside any one HTTPRoute/GRPCRoute (translate/splice.ts keeps each route's apart). */
  readonly base = new Set<string>();
  /** Where lookups are noted besides `references`: `base`, or the set of the route being translated. */
  recording: Set<string> = this.base;

  /** Remember a lookup of `key` (store keyOf form). */
  note(key: string): void {
    this.references.add(key);
    this.recording.add(key);
  }

  /** snapshot.get for referenced kinds (Secret, Service, ConfigMap, Namespace), remembering the lookup. */
  lookup<R>(kind: string, namespace: string | undefined, name: string): R | undefined {
    this.note(keyOf(kind, namespace, name));
    return this.snapshot.get<R>(kind, namespace, name);
  }

  defaultAddress(namespace: string, name: string): string {
    if (this.perGateway) return '0.0.0.0';
    return this.addressFor?.(namespace, name) ?? '0.0.0.0';
  }

  /**
   * Labels of a namespace. A namespace with no Namespace object (common in file mode) still
   * carries the label the API server always sets, so selectors on it behave as in a cluster.
   */
  namespaceLabels(namespace: string): Record<string, string> {
    const ns = this.lookup<Namespace>(Kind.Namespace, undefined, namespace);
    return { ...obj<Record<string, string>>(ns?.metadata?.labels), [NAMESPACE_NAME_LABEL]: namespace };
  }

  /**
   * A kept translation state's Context moved to a newer snapshot (incremental.ts): the slices of
   * `service` (`namespace/name`) as that snapshot has them.
   */
  /**
   * A kept translation state's Context moved to a newer snapshot in which these EndpointSlices
   * changed (incremental.ts): the index follows them at the cost of the changed Services' slices.
   * Walking every slice for the few that changed was most of an EndpointSlice change at 100,000
   * endpoints. A slice keeps its place when its Service stays; a new one goes last (endpointsFor's
   * answer does not depend on the order).
   */
  moveSlices(changes: readonly { before?: EndpointSlice; after?: EndpointSlice }[]): void {
    const copied = new Set<string>();
    const own = (key: string): EndpointSlice[] => {
      let list = this.slicesByService.get(key);
      if (!copied.has(key)) {
        copied.add(key);
        this.slicesByService.set(key, (list = list ? [...list] : []));
      }
      return list!;
    };
    for (const { before, after } of changes) {
      const from = before && sliceServiceKey(before);
      const to = after && sliceServiceKey(after);
      const list = from === undefined ? undefined : own(from);
      const at = list ? list.indexOf(before!) : -1;
      if (at >= 0 && from === to) {
        list![at] = after!;
        continue;
      }
      if (at >= 0) list!.splice(at, 1);
      if (to !== undefined) own(to).push(after!);
    }
    for (const key of copied) if (this.slicesByService.get(key)!.length === 0) this.slicesByService.delete(key);
  }

  /** The slices of `service` (`namespace/name`) as indexed, without noting a lookup (incremental.ts: the translation noted it). */
  slicesOf(service: string): readonly EndpointSlice[] {
    return this.slicesByService.get(service) ?? [];
  }

  /** A kept translation state's Context moved to a snapshot in which ReferenceGrants changed (incremental.ts). */
  indexGrants(): void {
    this.grantsByNamespace = new Map();
    for (const g of this.snapshot.list<ReferenceGrant>(Kind.ReferenceGrant)) {
      const ns = g.metadata.namespace ?? 'default';
      let list = this.grantsByNamespace.get(ns);
      if (!list) this.grantsByNamespace.set(ns, (list = []));
      list.push(g);
    }
  }

  endpointSlices(namespace: string, service: string): readonly EndpointSlice[] {
    // Slices are found through their Service's name label, so the Service key stands for them.
    this.note(keyOf(Kind.Service, namespace, service));
    return this.slicesByService.get(`${namespace}/${service}`) ?? [];
  }

  /** Same-namespace references are always allowed; others need a ReferenceGrant in the target namespace. */
  referenceAllowed(from: RefFrom, to: RefTo): boolean {
    if (from.namespace === to.namespace) return true;
    // Whoever asked reads every grant of that namespace: a change to any of them reaches it.
    this.note(referenceGrantsKey(to.namespace));
    for (const g of this.grantsByNamespace.get(to.namespace) ?? []) {
      const spec = g.spec;
      const fromOk = arr<ReferenceGrantSpec['from'][number]>(spec?.from).some(
        (f) => (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
      );
      if (!fromOk) continue;
      const toOk = arr<ReferenceGrantSpec['to'][number]>(spec?.to).some(
        (t) => (t.group ?? '') === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name),
      );
      if (toOk) return true;
    }
    return false;
  }
}

/** API-server-assigned generation; objects read from files have none yet, and 1 is what create would give them. */
export function generationOf(r: { metadata: ObjectMeta }): number {
  const g = r.metadata.generation;
  return typeof g === 'number' && Number.isFinite(g) ? g : 1;
}

export function nsOf(r: Resource): string {
  return r.metadata.namespace ?? 'default';
}

export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true; // an empty selector selects everything, as in Kubernetes
  for (const [k, v] of Object.entries(obj<Record<string, string>>(selector.matchLabels))) if (labels[k] !== v) return false;
  for (const e of arr<NonNullable<LabelSelector['matchExpressions']>[number]>(selector.matchExpressions)) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = strs(e.values);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an operator Kubernetes would reject selects nothing
    }
  }
  return true;
}

/**
 * Age order used by every "oldest wins" rule in the spec: creationTimestamp ascending, then
 * "{namespace}/{name}" alphabetically. An object without a timestamp (file mode) sorts after
 * every object that has one: it has not been created by an API server yet.
 */
export function compareAge(a: Resource, b: Resource): number {
  const ka = ageKey(a);
  const kb = ageKey(b);
  if (ka.time !== kb.time) return ka.time - kb.time;
  return ka.name < kb.name ? -1 : ka.name > kb.name ? 1 : 0;
}

/** Sort by compareAge, computing each object's key once (10,000 routes: ~140,000 comparisons). */
export function sortByAge<T>(items: readonly T[], resourceOf: (t: T) => Resource): T[] {
  const keyed = items.map((item) => ({ item, key: ageKey(resourceOf(item)) }));
  keyed.sort((a, b) => (a.key.time !== b.key.time ? a.key.time - b.key.time : a.key.name < b.key.name ? -1 : a.key.name > b.key.name ? 1 : 0));
  return keyed.map((k) => k.item);
}

interface AgeKey {
  time: number;
  name: string;
}
// Sorting 10,000 routes compares each one ~14 times; parse its timestamp once. Snapshot
// objects are immutable, so caching by identity is safe.
const ageKeys = new WeakMap<object, AgeKey>();

function ageKey(r: Resource): AgeKey {
  let k = ageKeys.get(r);
  if (!k) {
    const t = typeof r.metadata.creationTimestamp === 'string' ? Date.parse(r.metadata.creationTimestamp) : NaN;
    // Objects converted from Ingresses (convert/serve.ts) are younger than anything: yours win every conflict and tie.
    const time = r.metadata.labels?.[INGRESS_GENERATED_LABEL] !== undefined ? Number.MAX_VALUE : Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
    k = { time, name: `${nsOf(r)}/${r.metadata.name}` };
    ageKeys.set(r, k);
  }
  return k;
}
