// Provisioned data planes for served Ingresses (issue 14). convert/serve.ts turns the Ingresses
// of each of Portico's IngressClasses into a generated Gateway `portico-ingress-<class>` that
// only the translator sees. With provisioned data planes that Gateway gets one of its own, as
// any Gateway does, but owned by the IngressClass (cluster-scoped, so it may own the
// namespaced objects): deleting the IngressClass deletes the data plane, and once no Ingress
// of the class is served the generated Gateway is gone and the provisioner sweeps it.
//
// The generated Gateways and their statuses exist only below serveIngresses (it drops them
// from the result), so `inner` wraps the translator there and remembers them for the
// extendStatuses step of the same rebuild; `outer` remembers which Gateway serves each
// Ingress. `ingressStatuses` then gives each served Ingress the addresses of its Gateway's
// data plane (its Service's load balancer), which only the provisioned status knows.

import { INGRESS_GENERATED_LABEL, Kind } from '../api/names.js';
import type { Gateway, GatewayAddress, GatewayClass } from '../api/types.js';
import { GENERATED_PREFIX } from '../convert/serve.js';
import type { IngressClass } from '../convert/types.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus, ServedIngress } from '../translate/types.js';
import type { TranslateFn } from './loop.js';
import type { GeneratedGateways } from './provision-plan.js';

const accepted = (s: ObjectStatus | undefined): boolean =>
  (s?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false;

/** The generated Gateways of a translated snapshot (serve.ts's augmented one), with their IngressClass. Pure. */
export function generatedGateways(snapshot: Snapshot, statuses: readonly ObjectStatus[], ingressController: string): GeneratedGateways {
  // Indexed only when a generated Gateway is found: it runs in every translation, on the way to
  // serving, and `statuses` holds one per route (10,000 walked per change otherwise).
  let byKey: Map<string, ObjectStatus> | undefined;
  const statusOf = (key: string): ObjectStatus | undefined => {
    if (!byKey) {
      byKey = new Map();
      for (const s of statuses) if (s.kind === Kind.Gateway) byKey.set(`${s.namespace ?? 'default'}/${s.name}`, s);
    }
    return byKey.get(key);
  };
  const gateways: GeneratedGateways['gateways'] = [];
  for (const gateway of snapshot.list<Gateway>(Kind.Gateway)) {
    if (!gateway.metadata.labels?.[INGRESS_GENERATED_LABEL]) continue;
    const className = gateway.spec?.gatewayClassName ?? '';
    const gatewayClass = snapshot.get<GatewayClass>(Kind.GatewayClass, undefined, className);
    const ingressClass = snapshot.get<IngressClass>(Kind.IngressClass, undefined, className.slice(GENERATED_PREFIX.length));
    if (!gatewayClass?.metadata.labels?.[INGRESS_GENERATED_LABEL] || !ingressClass) continue;
    gateways.push({ gateway, gatewayClass, ingressClass, accepted: accepted(statusOf(`${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name}`)) });
  }
  return { gateways, classes: ingressClassesOf(snapshot, ingressController) };
}

/** Generated GatewayClass names of every IngressClass of `ingressController` (their data planes are ours to sweep). */
function ingressClassesOf(snapshot: Snapshot, ingressController: string): string[] {
  return snapshot
    .list<IngressClass>(Kind.IngressClass)
    .filter((c) => c.spec?.controller === ingressController)
    .map((c) => GENERATED_PREFIX + c.metadata.name);
}

/** Each served Ingress's status.loadBalancer from its Gateway's status.addresses in `statuses`. Pure. */
export function ingressLoadBalancers(statuses: readonly ObjectStatus[], served: readonly ServedIngress[], generated: readonly ObjectStatus[]): ObjectStatus[] {
  const addresses = new Map<string, GatewayAddress[]>();
  for (const s of [...statuses, ...generated])
    if (s.kind === Kind.Gateway) addresses.set(`${s.namespace ?? 'default'}/${s.name}`, (s.status as { addresses?: GatewayAddress[] }).addresses ?? []);
  const gatewayOf = new Map(served.map((i) => [`${i.namespace}/${i.name}`, `${i.gateway.namespace}/${i.gateway.name}`]));
  return statuses.map((s) => {
    if (s.kind !== Kind.Ingress) return s;
    const gw = gatewayOf.get(`${s.namespace ?? ''}/${s.name}`);
    const list = gw === undefined ? undefined : addresses.get(gw);
    if (list === undefined) return s;
    const ingress = list.map((a) => (a.type === 'Hostname' ? { hostname: a.value } : { ip: a.value }));
    return { ...s, status: { ...s.status, loadBalancer: ingress.length > 0 ? { ingress } : {} } };
  });
}

export class IngressDataPlanes {
  private gateways: GeneratedGateways = { gateways: [], classes: [] };
  private gatewayStatuses: ObjectStatus[] = [];
  private served: readonly ServedIngress[] = [];

  constructor(private readonly ingressController: string) {}

  /** Wraps the translator serveIngresses calls (it sees the generated objects). */
  inner(translate: TranslateFn): TranslateFn {
    return (snapshot, options) => {
      const result = translate(snapshot, options);
      this.gateways = generatedGateways(snapshot, result.statuses, this.ingressController);
      const keys = new Set(this.gateways.gateways.map((g) => `${g.gateway.metadata.namespace ?? 'default'}/${g.gateway.metadata.name}`));
      this.gatewayStatuses = keys.size === 0 ? [] : result.statuses.filter((s) => s.kind === Kind.Gateway && keys.has(`${s.namespace ?? 'default'}/${s.name}`));
      return result;
    };
  }

  /** Wraps serveIngresses' translator (its result says which Gateway serves each Ingress). */
  outer(translate: TranslateFn): TranslateFn {
    return (snapshot, options) => {
      const result = translate(snapshot, options);
      this.served = result.ingresses?.served ?? [];
      return result;
    };
  }

  /** The generated Gateways of the last translation (planProvisioning). */
  generated(): GeneratedGateways {
    return this.gateways;
  }

  /** The last translation's statuses of the generated Gateways (decorated like any Gateway's, then dropped). */
  generatedStatuses(): readonly ObjectStatus[] {
    return this.gatewayStatuses;
  }

  /**
   * `decorate` (provisioned-status) applied to `statuses` plus the generated Gateways' statuses;
   * the latter give the Ingresses they serve their data plane's addresses and are dropped.
   */
  ingressStatuses(statuses: readonly ObjectStatus[], decorate: (s: readonly ObjectStatus[]) => ObjectStatus[]): ObjectStatus[] {
    // Without generated Gateways or served Ingresses (most clusters) nothing is added or looked up:
    // no copy of every route's status per rebuild.
    if (this.gatewayStatuses.length === 0 && this.served.length === 0) return decorate(statuses);
    const n = statuses.length;
    const all = decorate([...statuses, ...this.gatewayStatuses]);
    return ingressLoadBalancers(all.slice(0, n), this.served, all.slice(n));
  }
}
