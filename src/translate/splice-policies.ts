// Policy statuses under a route splice (./splice.ts). A BackendTLSPolicy's, XBackendTrafficPolicy's
// or BackendLBPolicy's ancestors are the Gateways that accepted some route using one of its
// Services: a property of all routes together. Instead of walking every route again, each
// (Service, Gateway) pair is counted over the routes that give it, with the same functions
// translate() collects ancestors with (backendTLSPolicyAncestors, trafficPolicyAncestors); a
// changed route takes its old pairs out and puts its new ones in, and only the policies on a
// Service whose pairs moved get their ancestors and status again. The policies themselves
// (targets, conflicts, CA certificates) read Services and ConfigMaps only: a change to either is a
// full translate(), so they stay as the translation built them.

import { Kind } from '../api/names.js';
import { trafficPolicyAncestors } from './backendtrafficpolicy.js';
import { nsOf } from './context.js';
import type { GatewayNode } from './graph.js';
import { backendTLSPolicyAncestors, type TranslateState } from './index.js';
import type { RouteNode } from './routes.js';
import type { ObjectStatus } from './types.js';

/** Service -> Gateway key -> the Gateway and how many route pairs name it. */
type Counts = Map<string, Map<string, { gateway: GatewayNode; n: number }>>;

export class PolicyAncestors {
  private readonly tls: Counts = new Map();
  private readonly traffic: Counts = new Map();
  /** Services whose Gateways came or went since the last statuses(). */
  private readonly moved = new Set<string>();

  constructor(private readonly state: TranslateState) {
    for (const node of state.routes) this.count(node, 1);
    this.moved.clear();
  }

  /** A route's pairs in (1) or out (-1). */
  count(node: RouteNode, by: 1 | -1): void {
    backendTLSPolicyAncestors(node, (svc, gw) => this.bump(this.tls, svc, gw, by));
    trafficPolicyAncestors(node, (svc, gw) => this.bump(this.traffic, svc, gw, by));
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
    const { policies, clusters, ctx } = this.state;
    for (const p of policies.all)
      if (hit(p.services)) {
        p.ancestors = PolicyAncestors.ancestors(this.tls, p.services);
        out.push({ kind: Kind.BackendTLSPolicy, namespace: nsOf(p.resource), name: p.resource.metadata.name, generation: p.generation, status: policies.status(p, ctx.controllerName) });
      }
    for (const p of clusters.traffic.all)
      if (hit(p.services)) {
        p.ancestors = PolicyAncestors.ancestors(this.traffic, p.services);
        out.push({ kind: p.kind, namespace: nsOf(p.resource), name: p.resource.metadata.name, generation: p.generation, status: clusters.traffic.status(p, ctx.controllerName) });
      }
    this.moved.clear();
    return out;
  }
}

const kept = new WeakMap<TranslateState, PolicyAncestors>();

/** The counts for `state` (built on first use, then kept up to date by the splices); undefined when there is no policy. */
export function policyAncestors(state: TranslateState): PolicyAncestors | undefined {
  if (state.policies.all.length === 0 && state.clusters.traffic.all.length === 0) return undefined;
  let p = kept.get(state);
  if (!p) kept.set(state, (p = new PolicyAncestors(state)));
  return p;
}
