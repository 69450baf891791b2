// Policy ancestors. A BackendTLSPolicy's, XBackendTrafficPolicy's or BackendLBPolicy's ancestors
// are the Gateways that accepted some route using one of its Services: a property of all routes
// together. translate() counts each (Service, Gateway) pair over the routes that give it
// (backendTLSPolicyAncestors: Services a route resolved to, any route kind; trafficPolicyAncestors:
// Services an HTTPRoute's or GRPCRoute's backendRefs name) and a policy's ancestors are the
// Gateways of its Services' pairs. A splice (./splice.ts, ./splice-world.ts, ./splice-l4.ts) takes
// a changed route's old pairs out and puts its new ones in, and only the policies on a Service
// whose pairs moved get their ancestors and status again. The policies themselves (targets,
// conflicts, CA certificates) read Services and ConfigMaps only: a change to a BackendTLSPolicy or
// its CA ConfigMap that leaves every route resolving alike is ./splice-policies.ts, any other a
// full translate(); a route splice keeps them as the translation built them.

import { Kind } from '../api/names.js';
import type { BackendTLSPolicies } from './backendtlspolicy.js';
import { trafficPolicyAncestors, type BackendTrafficPolicies } from './backendtrafficpolicy.js';
import { nsOf } from './context.js';
import type { GatewayNode } from './graph.js';
import type { RouteNode } from './routes.js';
import type { ObjectStatus } from './types.js';

/** What one route adds to BackendTLSPolicy ancestors: each Gateway that accepted it, for each Service it resolved to. */
export function backendTLSPolicyAncestors(node: RouteNode, add: (service: string, gateway: GatewayNode) => void): void {
  for (const svc of node.services) for (const p of node.parents) if (p.accepted.status === 'True') add(svc, p.gateway);
}

/** Service -> Gateway key -> the Gateway and how many route pairs name it. */
type Counts = Map<string, Map<string, { gateway: GatewayNode; n: number }>>;

export class PolicyAncestors {
  private readonly tlsPairs: Counts = new Map();
  private readonly trafficPairs: Counts = new Map();
  /** Services whose Gateways came or went since the last statuses(). */
  private readonly moved = new Set<string>();

  constructor(
    private policies: BackendTLSPolicies,
    private traffic: BackendTrafficPolicies,
    private readonly controllerName: string,
  ) {}

  /** Every policy's ancestors from the counts (translate(), once all routes are counted). */
  assign(): void {
    for (const p of this.policies.all) p.ancestors = PolicyAncestors.ancestors(this.tlsPairs, p.services);
    for (const p of this.traffic.all) p.ancestors = PolicyAncestors.ancestors(this.trafficPairs, p.services);
    this.moved.clear();
  }

  /** The policies evaluated again (./splice-policies.ts): their ancestors from the same counts, which the routes give. */
  rebind(policies: BackendTLSPolicies, traffic: BackendTrafficPolicies): void {
    this.policies = policies;
    this.traffic = traffic;
    this.assign();
  }

  /** A route's pairs in (1) or out (-1). */
  count(node: RouteNode, by: 1 | -1): void {
    backendTLSPolicyAncestors(node, (svc, gw) => this.bump(this.tlsPairs, svc, gw, by));
    trafficPolicyAncestors(node, (svc, gw) => this.bump(this.trafficPairs, svc, gw, by));
  }

  private bump(counts: Counts, svc: string, gateway: GatewayNode, by: 1 | -1): void {
    let m = counts.get(svc);
    if (!m) counts.set(svc, (m = new Map()));
    const key = `${gateway.namespace}/${gateway.name}`;
    const c = m.get(key);
    const n = (c?.n ?? 0) + by;
    if (n === 0 || (c === undefined && n > 0)) this.moved.add(svc);
    if (n === 0) m.delete(key);
    else m.set(key, { gateway, n });
    if (m.size === 0) counts.delete(svc);
  }

  private static ancestors(counts: Counts, services: readonly string[]): Map<string, GatewayNode> {
    const out = new Map<string, GatewayNode>();
    for (const svc of services) for (const [k, c] of counts.get(svc) ?? []) out.set(k, c.gateway);
    return out;
  }

  /** The status of every policy on a Service whose ancestors moved, its ancestors set again. */
  statuses(): ObjectStatus[] {
    const out: ObjectStatus[] = [];
    if (this.moved.size === 0) return out;
    const hit = (services: readonly string[]): boolean => services.some((s) => this.moved.has(s));
    for (const p of this.policies.all)
      if (hit(p.services)) {
        p.ancestors = PolicyAncestors.ancestors(this.tlsPairs, p.services);
        out.push({ kind: Kind.BackendTLSPolicy, namespace: nsOf(p.resource), name: p.resource.metadata.name, generation: p.generation, status: this.policies.status(p, this.controllerName) });
      }
    for (const p of this.traffic.all)
      if (hit(p.services)) {
        p.ancestors = PolicyAncestors.ancestors(this.trafficPairs, p.services);
        out.push({ kind: p.kind, namespace: nsOf(p.resource), name: p.resource.metadata.name, generation: p.generation, status: this.traffic.status(p, this.controllerName) });
      }
    this.moved.clear();
    return out;
  }
}

