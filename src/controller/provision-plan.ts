// Which Gateways get their own data plane (or share their GatewayClass's merged one), and what
// src/provision makes for each: a pure function of one snapshot and its translation, computed by every replica (status needs it)
// and applied by the leader only (./provisioner.ts).

import type { Gateway, GatewayClass, Listener, ListenerSet } from '../api/types.js';
import { INGRESS_GENERATED_LABEL, Kind } from '../api/names.js';
import type { IngressClass } from '../convert/types.js';
import type { GatewayParameters } from '../api/gatewayparameters.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';
import { gatewayNameLabelValue, mergedIdentity, mergesGateways, provision, provisionMerged, type ProvisionResult, type ProvisionSettings } from '../provision/index.js';

export interface GatewayPlan {
  /** `namespace/name`: the config-stream identity too. */
  key: string;
  gateway: Gateway;
  /** The translator's Accepted condition is True: only then are objects applied. */
  accepted: boolean;
  result: ProvisionResult;
  /** Config-stream identity of the data plane serving it: `key`, or `GatewayClass/<class>` (merged). */
  stream: string;
}

/** One data plane to apply: a Gateway's own, or the merged one of a GatewayClass. */
export interface StreamPlan {
  /** Its config-stream identity (GatewayPlan.stream). */
  key: string;
  /** The Gateways (`namespace/name`) whose IR it is sent. */
  members: ReadonlySet<string>;
  result: Extract<ProvisionResult, { ok: true }>;
  /** The Gateway that owns the objects; undefined for a merged data plane (its GatewayClass owns them). */
  gateway?: Gateway;
}

/**
 * The Gateways generated from Portico's IngressClasses (convert/serve.ts): no API objects, so
 * each one's data plane is owned by its IngressClass; ./ingress-dataplanes.ts finds them.
 */
export interface GeneratedGateways {
  gateways: { gateway: Gateway; gatewayClass: GatewayClass; ingressClass: IngressClass; accepted: boolean }[];
  /** Names of the GatewayClasses generated for every IngressClass of Portico's, served or not. */
  classes: string[];
}

export interface ProvisionPlan {
  /** Every Gateway of a GatewayClass of this controller, by `namespace/name`. */
  gateways: Map<string, GatewayPlan>;
  /** The data planes to apply (accepted Gateways with valid parameters), by stream identity. */
  streams: Map<string, StreamPlan>;
  /** gateway-class-name label values of this controller's GatewayClasses. */
  classLabels: Set<string>;
  /**
   * Made before every kind was listed (./provisioned.ts provisionEarly): what it plans is applied,
   * but what it lacks (an Ingress's generated Gateway) is not taken as unwanted.
   */
  partial?: true;
}

/**
 * This controller's GatewayClasses whose Gateways share one merged data plane. The same Set
 * object is returned while the answer stays the same (translate options are compared by identity).
 */
export function mergedClassesOf(controllerName: string, settings: ProvisionSettings): (snapshot: Snapshot) => ReadonlySet<string> {
  let last: Set<string> = new Set();
  return (snapshot) => {
    const findParameters = (namespace: string, name: string) => snapshot.get<GatewayParameters>(Kind.GatewayParameters, namespace, name);
    const now = snapshot
      .list<GatewayClass>(Kind.GatewayClass)
      // A Gateway generated from an IngressClass keeps a data plane of its own (owned by the IngressClass).
      .filter((gc) => gc.spec?.controllerName === controllerName && !gc.metadata.labels?.[INGRESS_GENERATED_LABEL] && mergesGateways(gc, findParameters, settings.defaults))
      .map((gc) => gc.metadata.name)
      .sort();
    if (now.join('\n') !== [...last].join('\n')) last = new Set(now);
    return last;
  };
}

export const gatewayKey = (g: { metadata: { namespace?: string; name: string } }): string => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;

function acceptedIn(statuses: ReadonlyMap<string, ObjectStatus>, key: string): boolean {
  const conds = (statuses.get(key)?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  return conds?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false;
}

export function planProvisioning(
  snapshot: Snapshot,
  statuses: readonly ObjectStatus[],
  controllerName: string,
  settings: ProvisionSettings,
  generated: GeneratedGateways = { gateways: [], classes: [] },
): ProvisionPlan {
  const classes = new Map<string, GatewayClass>();
  for (const gc of snapshot.list<GatewayClass>(Kind.GatewayClass)) if (gc.spec?.controllerName === controllerName) classes.set(gc.metadata.name, gc);
  const gatewayStatuses = new Map<string, ObjectStatus>();
  for (const s of statuses) if (s.kind === Kind.Gateway) gatewayStatuses.set(`${s.namespace ?? 'default'}/${s.name}`, s);
  const findParameters = (namespace: string, name: string) => snapshot.get<GatewayParameters>(Kind.GatewayParameters, namespace, name);
  const fromListenerSets = listenerSetListeners(snapshot, statuses);
  const gateways = new Map<string, GatewayPlan>();
  const streams = new Map<string, StreamPlan>();
  const merged = new Map<string, Gateway[]>();
  for (const gateway of snapshot.list<Gateway>(Kind.Gateway)) {
    const gatewayClass = classes.get(gateway.spec?.gatewayClassName ?? '');
    if (!gatewayClass) continue;
    const key = gatewayKey(gateway);
    // The data plane serves the ListenerSets' listeners too: their ports go on its Service.
    const extra = fromListenerSets.get(key);
    const served: Gateway = extra
      ? { ...gateway, spec: { ...gateway.spec!, listeners: [...(Array.isArray(gateway.spec?.listeners) ? gateway.spec.listeners : []), ...extra] } }
      : gateway;
    if (mergesGateways(gatewayClass, findParameters, settings.defaults)) {
      const list = merged.get(gatewayClass.metadata.name) ?? [];
      merged.set(gatewayClass.metadata.name, [...list, served]);
      continue;
    }
    const plan: GatewayPlan = { key, gateway, accepted: acceptedIn(gatewayStatuses, key), result: provisionOnce(served, gatewayClass, findParameters, settings), stream: key };
    gateways.set(key, plan);
    if (plan.accepted && plan.result.ok) streams.set(key, { key, members: new Set([key]), result: plan.result, gateway });
  }
  for (const [className, list] of merged) {
    const stream = mergedIdentity(className);
    const accepted = (key: string) => acceptedIn(gatewayStatuses, key);
    const m = provisionMerged({ gatewayClass: classes.get(className)!, gateways: list, accepted, findParameters, settings });
    for (const g of list) {
      const key = gatewayKey(g);
      const own = snapshot.get<Gateway>(Kind.Gateway, g.metadata.namespace, g.metadata.name) ?? g;
      gateways.set(key, { key, gateway: own, accepted: accepted(key), result: m.gateways[key]!, stream });
    }
    if (m.shared.ok && m.members.length > 0) streams.set(stream, { key: stream, members: new Set(m.members), result: m.shared });
  }
  for (const g of generated.gateways) {
    const key = gatewayKey(g.gateway);
    if (gateways.has(key)) continue; // serve.ts already yields to a user object of that name
    const owner = { object: { apiVersion: g.ingressClass.apiVersion || 'networking.k8s.io/v1', metadata: g.ingressClass.metadata }, kind: 'IngressClass' };
    const result = provision({ gateway: g.gateway, gatewayClass: g.gatewayClass, findParameters, settings, owner });
    gateways.set(key, { key, gateway: g.gateway, accepted: g.accepted, result, stream: key });
    if (g.accepted && result.ok) streams.set(key, { key, members: new Set([key]), result, gateway: g.gateway });
  }
  return { gateways, streams, classLabels: new Set([...classes.keys(), ...generated.classes].map(gatewayNameLabelValue)) };
}

/**
 * What provision() made for a Gateway last, with what it read: the same GatewayClass object, the
 * same settings, and the GatewayParameters each lookup found. The plan is made after every
 * rebuild, and a route change changes none of these: the same result object is given again (the
 * provisioner then skips hashing its objects), not each Gateway's objects built anew.
 */
interface Provisioned {
  gatewayClass: GatewayClass;
  settings: ProvisionSettings;
  reads: { namespace: string; name: string; found: GatewayParameters | undefined }[];
  result: ProvisionResult;
}
const provisioned = new WeakMap<Gateway, Provisioned>();

function provisionOnce(gateway: Gateway, gatewayClass: GatewayClass, findParameters: (namespace: string, name: string) => GatewayParameters | undefined, settings: ProvisionSettings): ProvisionResult {
  const last = provisioned.get(gateway);
  if (last && last.gatewayClass === gatewayClass && last.settings === settings && last.reads.every((r) => findParameters(r.namespace, r.name) === r.found)) return last.result;
  const reads: Provisioned['reads'] = [];
  const find = (namespace: string, name: string) => {
    const found = findParameters(namespace, name);
    reads.push({ namespace, name, found });
    return found;
  };
  const result = provision({ gateway, gatewayClass, findParameters: find, settings });
  provisioned.set(gateway, { gatewayClass, settings, reads, result });
  return result;
}

/** Listeners of the ListenerSets the translator accepted, by their parent Gateway's `namespace/name`. */
function listenerSetListeners(snapshot: Snapshot, statuses: readonly ObjectStatus[]): Map<string, Listener[]> {
  const out = new Map<string, Listener[]>();
  for (const s of statuses) {
    if (s.kind !== Kind.ListenerSet) continue;
    const conds = (s.status as { conditions?: { type: string; status: string }[] }).conditions;
    if (!conds?.some((c) => c.type === 'Accepted' && c.status === 'True')) continue;
    const spec = snapshot.get<ListenerSet>(Kind.ListenerSet, s.namespace, s.name)?.spec;
    const ref = spec?.parentRef;
    if (!spec || !ref || typeof ref.name !== 'string' || !Array.isArray(spec.listeners)) continue;
    const key = `${ref.namespace ?? s.namespace ?? 'default'}/${ref.name}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(...spec.listeners);
  }
  return out;
}
